"""Where a phone on the home network reaches this computer: its LAN addresses and host names."""

from __future__ import annotations

import ipaddress
import socket


def lan_addresses() -> list[str]:
    """The computer's private IPv4 addresses (192.168.x.x, 10.x.x.x, ...), the default route's first."""
    found: list[str] = []
    try:  # the address the default route leaves from (no packet is sent for a UDP "connect")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    out = []
    for address in dict.fromkeys(found):
        ip = ipaddress.ip_address(address)
        if ip.is_private and not ip.is_loopback and not ip.is_link_local:
            out.append(address)
    return out


def host_names(extra: tuple[str, ...] = ()) -> list[str]:
    """This computer's names a phone may use: its host name, NAME.local (mDNS), and any configured."""
    name = socket.gethostname().split(".")[0].lower()
    return list(dict.fromkeys([*(n.lower() for n in extra), name, f"{name}.local", "localhost"]))
