"""Finding Memoria servers on the home network: they announce themselves over mDNS
(`_memoria._tcp`, server/lan/announce.py) with their https port and certificate fingerprint."""

from __future__ import annotations

import asyncio
import dataclasses

SERVICE = "_memoria._tcp.local."


@dataclasses.dataclass(frozen=True)
class FoundServer:
    name: str  # "Memoria on kitchen-pc"
    url: str  # https://192.168.1.20:8443
    ca_fingerprint: str  # sha-256 hex of its certificate authority ("" for a certificate of its own)


async def find_servers(seconds: float = 2.5) -> list[FoundServer]:
    """The servers that answer within `seconds`, by name."""
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
    names: list[str] = []

    def changed(zeroconf: object, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added and name not in names:
            names.append(name)

    browser = AsyncServiceBrowser(zc.zeroconf, SERVICE, handlers=[changed])
    try:
        await asyncio.sleep(seconds)
        found = []
        for name in names:
            info = AsyncServiceInfo(SERVICE, name)
            if not await info.async_request(zc.zeroconf, 1500):
                continue
            addresses = info.parsed_addresses()
            if not addresses or not info.port:
                continue
            props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            label = name.removesuffix("." + SERVICE)
            found.append(FoundServer(label, f"https://{addresses[0]}:{info.port}", props.get("ca", "")))
        return sorted(found, key=lambda f: f.name)
    finally:
        await browser.async_cancel()
        await zc.async_close()
