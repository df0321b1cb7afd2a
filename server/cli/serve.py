"""`memoria serve`: migrate the database, check the plugins, and run the web server.

With `--lan` (or `[lan] enabled = true`) a second listener serves https to the home network
(server/lan): phones' browsers give the microphone only to https pages. Plain http stays on
127.0.0.1 for this computer.
"""

from __future__ import annotations

import asyncio
import copy
import os
from typing import Any

import click

from server.cli.common import friendly_errors, settings_and_registry


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["filters"] = {"escape": {"()": "server.logs.EscapeControls"}}
    for handler in log_config["handlers"].values():
        handler["filters"] = ["escape"]
    return log_config


RENEW_CHECK_S = 12 * 3600


async def _serve(servers: list[Any], settings: Any = None) -> None:
    """Run the listeners together: the first (which runs the app's start-up) before the others,
    and all stop when one does (Ctrl-C reaches only the last one's signal handler). With the LAN
    listener, its certificate is checked twice a day and renewed in place before it expires."""
    first = asyncio.ensure_future(servers[0].serve())
    while not servers[0].started and not first.done():  # noqa: ASYNC110 - uvicorn has no "started" event
        await asyncio.sleep(0.05)
    tasks = [first, *(asyncio.ensure_future(s.serve()) for s in servers[1:])]
    renewing = announcer = None
    if len(servers) > 1:
        from server.lan.announce import Announcer
        from server.lan.service import lan_service

        renewing = asyncio.ensure_future(_renew(servers[1], settings))
        home = lan_service(settings)
        announcer = Announcer(home) if home is not None else None
        if announcer is not None:
            await announcer.start()
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for server in servers:
        server.should_exit = True
    if renewing is not None:
        renewing.cancel()
    if announcer is not None:
        await announcer.aclose()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _renew(https: Any, settings: Any) -> None:
    from server.lan.service import lan_service

    while True:
        await asyncio.sleep(RENEW_CHECK_S)
        home = await asyncio.to_thread(lan_service, settings)  # renews only when due
        if home is not None and https.config.ssl is not None:
            https.config.ssl.load_cert_chain(home.cert_file, home.key_file)  # new connections get it


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--lan", is_flag=True, help="Also serve https to phones and tablets at home (see `memoria lan`).")
@click.option("--no-upgrade", is_flag=True, help="Do not run database migrations first.")
@friendly_errors
def command(host: str | None, port: int | None, lan: bool, no_upgrade: bool) -> None:
    """Run Memoria: REST API, browser call page and WebRTC calls."""
    import msgspec
    import uvicorn

    from server.app import create_app
    from server.db.engine import upgrade
    from server.lan.service import lan_service

    os.umask(0o077)  # photos, voices, recordings and the database: readable by this user only
    settings, registry = settings_and_registry()
    registry.check_defaults()  # a default that cannot load fails now, not in the first call
    if not no_upgrade:
        asyncio.run(upgrade(settings.db_url))
    settings = settings.with_changes(host=host or settings.host, port=port or settings.port)
    if lan:
        settings = settings.with_changes(lan=msgspec.structs.replace(settings.lan, enabled=True))
    home = lan_service(settings)  # certificates made or renewed before anything listens
    app = create_app(settings, registry=registry)
    common: dict[str, Any] = {
        "log_level": "info",
        "log_config": _log_config(),
        # X-Forwarded-For is believed only from a proxy the self-hoster named (never by default):
        # otherwise anyone could claim any address and slip past the login limits.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies) or None,
        "timeout_graceful_shutdown": 10,
    }
    servers = [uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, **common))]
    click.echo(f"Memoria on http://{settings.host}:{settings.port}/  (Ctrl-C to stop)")
    if home is not None:
        https = uvicorn.Config(
            app, host=settings.lan.host, port=home.port, ssl_certfile=str(home.cert_file),
            ssl_keyfile=str(home.key_file), lifespan="off", **common,
        )  # fmt: skip
        servers.append(uvicorn.Server(https))
        click.echo(f"On phones and tablets at home: {home.url_for('')}  (`memoria lan` shows how)")
    asyncio.run(_serve(servers, settings))
