"""Password hashing and bearer tokens, with the standard library only.

Passwords: scrypt (memory-hard) with a random 16-byte salt per user, stored as
`scrypt$n$r$p$salt$hash` so the cost can be raised later without breaking old hashes.
Tokens: 256 random bits given to the client once; only their SHA-256 is stored, so a leaked
database cannot be used to log in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

SCRYPT_N = 2**14  # ~16 MiB and ~50 ms per hash: slow for guessing, fine for a login
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=128 * 1024 * 1024)


def hash_password(password: str) -> str:
    """A self-describing scrypt hash with a fresh salt."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches `stored`; the comparison takes the same time whatever differs."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so a login takes as long either way."""
    return hash_password(secrets.token_urlsafe(12))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
