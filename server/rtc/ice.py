"""ICE configuration: the STUN/TURN servers a self-hoster lists, or none at all (LAN only).

aiortc falls back to a public STUN server when `iceServers` is None, so an empty list is passed
on purpose. Loopback mode (tests, `memoria call`, benchmarks) keeps every candidate on 127.0.0.1:
aioice leaves the loopback address out of host candidates, so it is put back here, and the
remote side's other candidates are stripped from its SDP.
"""

from __future__ import annotations

from collections.abc import Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

LOOPBACK = "127.0.0.1"
_original_host_addresses = aioice.ice.get_host_addresses


def rtc_configuration(ice_servers: Sequence[str] = ()) -> RTCConfiguration:
    """`stun:host:port`, `turn:host:port` or `turn:user:password@host:port` entries -> RTCConfiguration."""
    servers = []
    for entry in ice_servers:
        scheme, _, rest = entry.partition(":")
        if "@" in rest:
            credentials, _, address = rest.rpartition("@")
            username, _, password = credentials.partition(":")
            servers.append(RTCIceServer(urls=f"{scheme}:{address}", username=username, credential=password))
        else:
            servers.append(RTCIceServer(urls=entry))
    return RTCConfiguration(iceServers=servers)


def use_loopback(enabled: bool = True) -> None:
    """Make aioice offer 127.0.0.1 as the only host candidate (process-wide, idempotent)."""

    def loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [LOOPBACK] if use_ipv4 else []

    aioice.ice.get_host_addresses = loopback_only if enabled else _original_host_addresses


def keep_loopback_candidates(sdp: str) -> str:
    """Drop every ICE candidate line that is not on 127.0.0.1 (browsers also offer LAN and mDNS ones)."""
    lines = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) < 5 or parts[4] != LOOPBACK:
                continue
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"
