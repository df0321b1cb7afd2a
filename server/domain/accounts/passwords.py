"""Which passwords are refused: too short once spaces are ignored, one repeated character, the
email itself, or one of the passwords every guessing list starts with."""

from __future__ import annotations

from server.errors import BadInput

MIN_LENGTH = 8
COMMON = frozenset(
    """password password1 password123 passw0rd 12345678 123456789 1234567890 87654321 11111111 00000000
    qwerty123 qwertyuiop 1q2w3e4r 1qaz2wsx iloveyou12 sunshine1 princess1 football1 baseball1 welcome1
    abc12345 abcd1234 letmein1 trustno1 monkey123 dragon123 master123 superman1 starwars1 whatever
    computer internet changeme changeme1 secret123 memoria memoria1 memoria123 qwerty12 asdfghjk
    zxcvbnm1 aa123456 a1234567 12341234 11223344 12121212 123123123 1234qwer q1w2e3r4 iloveyou""".split()
)


def check_password(password: str, email: str) -> None:
    """BadInput with a plain reason when `password` is too easy to guess."""
    visible = "".join(password.split())
    if len(visible) < MIN_LENGTH:
        raise BadInput(f"choose a password of at least {MIN_LENGTH} characters (spaces do not count)")
    if len(set(visible.lower())) < 4:
        raise BadInput("choose a password that is not the same few characters repeated")
    lowered = password.strip().lower()
    if lowered in COMMON or lowered in {email.lower(), email.split("@")[0].lower()}:
        raise BadInput(
            "this password is too easy to guess: choose another one", hint="a few words you remember work well"
        )
