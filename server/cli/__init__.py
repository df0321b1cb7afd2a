"""The `memoria` command. Subcommands live in their own modules and are imported on use,
so `memoria --help` stays fast and a broken optional stack cannot break unrelated commands."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command; imported only when invoked or listed.
COMMANDS: dict[str, str] = {
    "serve": "server.cli.serve:command",
    "plugins": "server.cli.plugins:command",
    "db": "server.cli.db:command",
    "weights": "server.cli.weights:command",
    "demo": "server.cli.demo:command",
    "call": "server.cli.call:command",
    "backup": "server.backup.cli:backup_command",
    "restore": "server.backup.cli:restore_command",
    "lan": "server.lan.cli:command",
}
BENCHES: dict[str, str] = {
    "asr": "server.bench.asr:command",
    "voice": "server.bench.voice:command",
    "animator": "server.bench.animator:command",
    "persona": "server.bench.persona:command",
    "latency": "server.bench.latency:command",
}
HELP: dict[str, str] = {
    "serve": "Run the server (web call page, REST API, WebRTC).",
    "plugins": "List every backend and whether it is ready.",
    "db": "Database migrations.",
    "weights": "Model files: list, verify, import.",
    "demo": "Create the demo avatar from bundled assets.",
    "call": "Make a whole call from the command line.",
    "backup": "Back up the database and every file into one archive.",
    "restore": "Restore an archive into an empty instance.",
    "lan": "How phones and tablets at home reach this server (address, QR code, certificate).",
    "asr": "Word error rate and latency of speech recognition.",
    "voice": "Likeness, intelligibility and speed of the voice.",
    "animator": "Speed, lip sync, identity and stability of the face.",
    "persona": "Run persona dialogue cases and score the replies.",
    "latency": "End-to-end call latency over loopback WebRTC.",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attr = self.lazy[cmd_name].partition(":")
            try:
                return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
            except ModuleNotFoundError as exc:
                if exc.name and module.startswith(exc.name):
                    return _unavailable(cmd_name, f"not available in this build ({module} missing)")
                raise
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str, why: str) -> click.Command:
    def run() -> None:
        raise click.ClickException(f"`{name}` is {why}")

    return click.Command(name, callback=run, help=why)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="memoria")
def main() -> None:
    """Memoria: a live video call with an avatar of someone you lost, on your own machine."""


@main.group(cls=LazyGroup, lazy=BENCHES)
def bench() -> None:
    """Benchmarks that print figures (add --json for one JSON object)."""
