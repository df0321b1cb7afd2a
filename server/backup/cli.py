"""`memoria backup OUT` and `memoria restore ARCHIVE`, on the configured database and data dir."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import click

from server.cli.common import friendly_errors
from server.settings import load_settings


def _progress(stage: str, done: int, total: int) -> None:
    # One line per stage (its end), so logs of nightly cron runs stay short.
    if done == total:
        click.echo(f"  {stage}: {total}", err=True)


@click.command("backup")
@click.argument("out", type=click.Path(path_type=Path))
@friendly_errors
def backup_command(out: Path) -> None:
    """Back up the database and every photo, voice sample and recording into the tar OUT.

    OUT may be a folder: the archive is then named memoria-<date>-<time>.tar inside it.
    Safe while the server runs.
    """
    from server.backup.create import create_backup
    from server.backup.schedule import archive_name

    settings = load_settings()
    if out.is_dir():
        out = out / archive_name(datetime.now())
    manifest = asyncio.run(create_backup(settings.db_url, settings.data_dir, out, progress=_progress))
    rows = sum(table.rows for table in manifest.tables)
    size = sum(file.size for file in manifest.files)
    click.echo(f"{out}: {rows} rows, {len(manifest.files)} files ({size / 1e6:.1f} MB), revision {manifest.revision}")
    for warning in manifest.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def restore_command(archive: Path) -> None:
    """Restore ARCHIVE into an empty database and data folder (DATABASE_URL, MEMORIA_DATA_DIR).

    The whole archive is checked first; a damaged one is refused before anything is written.
    """
    from server.backup.restore import restore_backup
    from server.db.engine import display_url

    settings = load_settings()
    manifest = asyncio.run(restore_backup(archive, settings.db_url, settings.data_dir, progress=_progress))
    rows = sum(table.rows for table in manifest.tables)
    click.echo(
        f"restored {rows} rows and {len(manifest.files)} files into {display_url(settings.db_url)} "
        f"and {settings.data_dir} (revision {manifest.revision}; `memoria serve` upgrades it if needed)"
    )
