"""What an SDP offer must have before a call is opened for it: a microphone, ICE credentials and a
DTLS fingerprint with a strong hash. aiortc's own parser accepts almost anything, so this checks
first and answers garbage with a clear 400 before any row or backend is made."""

from __future__ import annotations

import re

from server.errors import BadInput

STRONG_HASHES = frozenset({"sha-256", "sha-384", "sha-512"})
FINGERPRINT = re.compile(r"^a=fingerprint:(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)$")
LINE = re.compile(r"^[a-z]=.*$")


def check_offer(sdp: str) -> None:
    """BadInput naming what is wrong unless `sdp` is a usable WebRTC offer."""
    lines = [line.rstrip("\r") for line in sdp.split("\n") if line.strip()]
    if not lines or lines[0] != "v=0" or not all(LINE.match(line) for line in lines):
        raise BadInput("the call offer is not an SDP description", hint="send the browser's or app's offer as is")
    if not any(line.startswith("m=audio ") for line in lines):
        raise BadInput("the call offer has no microphone (an m=audio section)")
    if not any(line.startswith("a=ice-ufrag:") for line in lines) or not any(
        line.startswith("a=ice-pwd:") for line in lines
    ):
        raise BadInput("the call offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)")
    hashes = [m.group(1).lower() for line in lines if (m := FINGERPRINT.match(line))]
    if not hashes:
        raise BadInput("the call offer has no DTLS fingerprint (a=fingerprint)")
    if not all(h in STRONG_HASHES for h in hashes):
        raise BadInput(
            "the call offer's DTLS fingerprint uses a weak hash", hint="use sha-256 (every current browser does)"
        )
