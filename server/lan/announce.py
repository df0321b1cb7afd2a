"""Saying "Memoria is here" on the home network (mDNS, `_memoria._tcp`), so the phone app lists
the server without anyone typing an address. The announcement carries the https port and the
fingerprint of the certificate authority, which the app checks before trusting it."""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl

from server.lan.service import LOCAL, LanService

log = logging.getLogger(__name__)
SERVICE = "_memoria._tcp.local."


class Announcer:
    def __init__(self, lan: LanService) -> None:
        self.lan = lan
        self._zc: object | None = None
        self._info: object | None = None

    async def start(self) -> None:
        from zeroconf import IPVersion, ServiceInfo
        from zeroconf.asyncio import AsyncZeroconf

        ips = [n for n in self.lan.names if n[:1].isdigit() and n not in LOCAL]
        if not ips:
            log.info("no LAN address: not announcing on the network")
            return
        host = socket.gethostname().split(".")[0]
        ca = ""
        if self.lan.certificates is not None:
            pem = self.lan.certificates.ca_file.read_text()
            ca = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
        info = ServiceInfo(
            SERVICE,
            f"Memoria on {host}.{SERVICE}",
            addresses=[socket.inet_aton(ip) for ip in ips],
            port=self.lan.port,
            properties={"ca": ca, "path": "/"},
            server=f"{host}.local.",
        )
        zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
        try:
            await zc.async_register_service(info, allow_name_change=True)
        except Exception:  # no multicast here (some VMs, some networks): the address still works typed
            log.warning("could not announce Memoria on the network (mDNS)", exc_info=True)
            await zc.async_close()
            return
        self._zc, self._info = zc, info
        log.info("announced on the network as %s", info.name)

    async def aclose(self) -> None:
        zc, info, self._zc, self._info = self._zc, self._info, None, None
        if zc is not None:
            await zc.async_unregister_service(info)  # type: ignore[attr-defined]
            await zc.async_close()  # type: ignore[attr-defined]
