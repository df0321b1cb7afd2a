"""`memoria db`: upgrade, downgrade and show the database schema (alembic, no .ini needed)."""

from __future__ import annotations

import asyncio

import click

from server.cli.common import friendly_errors
from server.settings import load_settings


@click.group("db")
def command() -> None:
    """Database migrations. The database is DATABASE_URL (or MEMORIA_DATABASE_URL); default data/memoria.db."""


@command.command("upgrade")
@click.argument("revision", default="head")
@friendly_errors
def upgrade_command(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from server.db.engine import current_revision, display_url, upgrade

    url = load_settings().db_url

    async def run() -> tuple[str | None, str | None]:
        before = await current_revision(url)
        await upgrade(url, revision)
        return before, await current_revision(url)

    click.echo(f"{display_url(url)}: {_moved(*asyncio.run(run()))}")


@command.command("downgrade")
@click.argument("revision")
@friendly_errors
def downgrade_command(revision: str) -> None:
    """Migrate the database down to REVISION ("base" removes every table and its data)."""
    from server.db.engine import current_revision, display_url, downgrade

    url = load_settings().db_url

    async def run() -> tuple[str | None, str | None]:
        before = await current_revision(url)
        await downgrade(url, revision)
        return before, await current_revision(url)

    click.echo(f"{display_url(url)}: {_moved(*asyncio.run(run()))}")


@command.command("current")
@friendly_errors
def current_command() -> None:
    """Show the revision the database is at, and the newest one available."""
    from server.db.engine import current_revision, display_url, head_revision

    url = load_settings().db_url
    current = asyncio.run(current_revision(url))
    head = head_revision()
    state = "up to date" if current == head else "needs `memoria db upgrade`"
    click.echo(f"{display_url(url)}: at {_name(current)}, newest {_name(head)} ({state})")


def _moved(before: str | None, after: str | None) -> str:
    if before == after:
        return f"already at {_name(after)}, nothing to do"
    return f"migrated {_name(before)} -> {_name(after)}"


def _name(revision: str | None) -> str:
    return revision or "base (no tables)"
