"""Keep ICE on 127.0.0.1 (tests, and a server on the same machine with no network).

aioice leaves 127.0.0.1 out of its host candidates, so two peers on one machine with no other
interface cannot meet; this swaps in a gatherer that offers loopback only. It is process-wide,
which is what a test with the server in the same process needs anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aioice.ice


def _loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


@contextmanager
def loopback_ice() -> Iterator[None]:
    """Within the block, every new ICE agent gathers only 127.0.0.1."""
    original = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = _loopback_only
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = original
