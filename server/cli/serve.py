"""`memoria serve`: migrate the database, check the plugins, and run the web server."""

from __future__ import annotations

import asyncio
import copy
import os

import click

from server.cli.common import friendly_errors, settings_and_registry


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--no-upgrade", is_flag=True, help="Do not run database migrations first.")
@friendly_errors
def command(host: str | None, port: int | None, no_upgrade: bool) -> None:
    """Run Memoria: REST API, browser call page and WebRTC calls."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from server.app import create_app
    from server.db.engine import upgrade

    os.umask(0o077)  # photos, voices, recordings and the database: readable by this user only
    settings, registry = settings_and_registry()
    registry.check_defaults()  # a default that cannot load fails now, not in the first call
    if not no_upgrade:
        asyncio.run(upgrade(settings.db_url))
    settings = settings.with_changes(host=host or settings.host, port=port or settings.port)
    click.echo(f"Memoria on http://{settings.host}:{settings.port}/  (Ctrl-C to stop)")
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["filters"] = {"escape": {"()": "server.logs.EscapeControls"}}
    for handler in log_config["handlers"].values():
        handler["filters"] = ["escape"]
    uvicorn.run(
        create_app(settings, registry=registry),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=log_config,
        # X-Forwarded-For is believed only from a proxy the self-hoster named (never by default):
        # otherwise anyone could claim any address and slip past the login limits.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
        timeout_graceful_shutdown=10,
    )
