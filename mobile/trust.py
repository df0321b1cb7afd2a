"""Trusting a Memoria at home on first use.

A home server's https certificate comes from its own small certificate authority (server/lan),
which no phone trusts out of the box. The first time the app connects to such a server it fetches
that authority (checking it against the fingerprint the server announced on the network, when it
was found that way), remembers it for that address, and from then on verifies every connection
against it: a server that later shows another certificate is refused with a clear warning instead
of being trusted silently.
"""

from __future__ import annotations

import hashlib
import ssl

import httpx

from mobile.errors import AppError


class CertificateChanged(AppError):
    """A server we trusted before now presents a certificate from another authority."""


class NotTheAnnouncedServer(AppError):
    """The authority the server sent is not the one it announced on the network."""


def fingerprint(pem: str) -> str:
    """SHA-256 of the certificate (DER) as lowercase hex, as the server announces it."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def context_for(pem: str) -> ssl.SSLContext:
    """Verify against exactly this authority (the system's are not consulted)."""
    return ssl.create_default_context(cadata=pem)


async def fetch_authority(base_url: str, expected: str = "") -> str:
    """The server's certificate authority (PEM), fetched without verification (that is what it is
    for) and checked against `expected` (the announced fingerprint) when one is known."""
    async with httpx.AsyncClient(base_url=base_url, verify=False, timeout=10) as http:  # noqa: S501 - trust on first use
        try:
            response = await http.get("/lan/ca.crt")
        except httpx.TransportError as exc:
            raise AppError(f"Cannot reach the server at {base_url}. Check the address and your network.") from exc
    if response.status_code != 200 or b"BEGIN CERTIFICATE" not in response.content:
        raise AppError(
            f"The server at {base_url} uses a certificate this phone does not trust, and offers none to trust."
        )
    pem = response.content.decode("ascii", errors="replace")
    if expected and fingerprint(pem) != expected.replace(":", "").lower():
        raise NotTheAnnouncedServer(
            "This server's certificate is not the one Memoria announced on your network. "
            "Someone may be pretending to be it: the app will not connect."
        )
    return pem
