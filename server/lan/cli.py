"""`memoria lan`: the address phones and tablets at home use, as text and a QR code, and the
certificate authority to trust on each of them (made now if it does not exist yet)."""

from __future__ import annotations

import click
import msgspec

from server.cli.common import friendly_errors, settings_and_registry

TRUST = {
    "iPhone / iPad": "open the certificate link in Safari, allow the download, install it in Settings > General > "
    "VPN & Device Management, then turn it on in Settings > General > About > Certificate Trust Settings.",
    "Android": "download the certificate, then Settings > Security > Encryption & credentials > Install a "
    "certificate > CA certificate, and choose it.",
    "Windows / Mac / Linux": "import it as a trusted authority in the browser's or system's certificate settings "
    "(Firefox keeps its own list: Settings > Privacy & Security > Certificates).",
}


@click.command("lan")
@friendly_errors
def command() -> None:
    """Show how phones and tablets at home reach this server."""
    import segno

    from server.lan.service import lan_service

    settings, _ = settings_and_registry()
    home = lan_service(settings.with_changes(lan=msgspec.structs.replace(settings.lan, enabled=True)))
    assert home is not None
    url = home.url_for("")
    click.echo(f"On a phone or tablet on the same Wi-Fi, open:  {url}")
    others = [u for u in home.urls() if u != url]
    if others:
        click.echo("  or: " + "  ".join(others))
    segno.make(url, error="m").terminal(compact=True)
    if home.certificates is not None:
        click.echo(f"\nFirst, trust Memoria's certificate on that device: {url}lan/ca.crt")
        click.echo(f"  (the file is {home.certificates.ca_file}; its SHA-256 fingerprint is")
        click.echo(f"   {home.certificates.ca_fingerprint})")
        for platform, how in TRUST.items():
            click.echo(f"  {platform}: {how}")
    click.echo("\nThe server must run with `memoria serve --lan` (or [lan] enabled = true in memoria.toml).")
