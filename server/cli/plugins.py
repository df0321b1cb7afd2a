"""`memoria plugins`: every backend, where it comes from, and whether it can run here."""

from __future__ import annotations

import json

import click

from server.cli.common import friendly_errors, settings_and_registry


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def command(as_json: bool) -> None:
    """List every backend: kind, name, source, status and the fix when it is not ready."""
    _, registry = settings_and_registry()
    rows = registry.describe()
    if as_json:
        click.echo(json.dumps({"backends": rows}, indent=2))
        return
    for row in rows:
        mark = "*" if row["default"] else " "
        click.echo(f"{mark} {row['kind']:<9} {row['name']:<22} {row['status']:<19} {row['source']}")
        if row["status"] != "ready":
            click.echo(f"    {row['detail']}")
            click.echo(f"    fix: {row['fix']}")
    click.echo("\n* = default for its kind (plugin_registry.toml [defaults])")
