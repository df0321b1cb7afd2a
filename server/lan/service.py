"""The LAN side of a running server: which https addresses it answers on and its certificates."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from server.lan.addresses import host_names, lan_addresses
from server.lan.certs import LanCertificates, ensure_certificates
from server.settings import Settings

LOCAL = ("localhost", "127.0.0.1")  # in the certificate (this computer), never offered to a phone


@dataclass(frozen=True)
class LanService:
    port: int
    names: tuple[str, ...]  # host names first, then IP addresses
    certificates: LanCertificates | None  # None: the user's own certificate (no CA of ours to trust)
    cert_file: Path
    key_file: Path

    def urls(self) -> list[str]:
        return [f"https://{name}:{self.port}/" for name in self.names if name not in LOCAL]

    def url_for(self, host_header: str) -> str:
        """The https address matching the name the browser used, else the first LAN address."""
        asked = host_header.rsplit(":", 1)[0].strip("[]").lower() if host_header else ""
        for name in self.names:
            if name == asked and name not in LOCAL:
                return f"https://{name}:{self.port}/"
        ips = [n for n in self.names if n[:1].isdigit() and n not in LOCAL]
        return f"https://{(ips or list(self.names))[0]}:{self.port}/"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def lan_service(settings: Settings) -> LanService | None:
    """The LAN https side if it is enabled: certificates made or renewed now (or the user's own)."""
    lan = settings.lan
    if not lan.enabled:
        return None
    names = (*host_names(lan.names), *lan_addresses(), "127.0.0.1")
    if lan.cert_file and lan.key_file:
        return LanService(lan.port, tuple(n for n in names if n != "127.0.0.1"), None, lan.cert_file, lan.key_file)
    certs = ensure_certificates(settings.data_dir / "lan", names)
    return LanService(lan.port, tuple(names), certs, certs.cert_file, certs.key_file)
