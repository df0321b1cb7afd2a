"""What the app says when the server says no: the server's own sentence when it is already plain
words, otherwise a sentence for the status. The same rules as the web app's words.js."""

from __future__ import annotations

import re

# Signs of developer text: API paths, HTTP verbs, schema references, code quoting, regular
# expressions, stack traces, shell commands.
DEVELOPER = re.compile(
    r"/schema|/avatars|/calls|/auth|\b(GET|POST|PUT|PATCH|DELETE) |Expected `|`|\{|\}|\[\^|\\[dwsS.]|\$/|\^\[|"
    r"Traceback|Exception|Error:|\bmemoria [a-z]+|msgspec|sqlalchemy|invalid request"
)

BY_STATUS = {
    401: "That email and password do not match. Please try again.",
    403: "That is not allowed.",
    404: "That could not be found. It may have been removed.",
    408: "That took too long. Please try again.",
    409: "That changed in the meantime. Please go back and try again.",
    413: "That file is too large.",
    415: "That kind of file cannot be used.",
    429: "Too many tries in a short time. Please wait a minute and try again.",
    503: "Memoria is busy or restarting. Please try again in a moment.",
}

FIELDS = (
    ("password", "Please choose a password of at least 8 characters that is not easy to guess."),
    ("email", "Please check the email address: it should look like name@example.org."),
    ("relationship", "Please say who they were to you (up to 120 characters)."),
    ("name", "Please give a name (up to 120 characters)."),
    ("consent", "Please confirm you may use this person's likeness and voice."),
)


def is_plain(text: str | None) -> bool:
    return bool(text and text.strip()) and not DEVELOPER.search(text or "")


def sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text[-1:] in ".!?…" else text + "."


def plain_message(status: int, error: str | None, hint: str | None) -> str:
    """The message to show for an error answer."""
    if is_plain(error):
        assert error is not None
        return sentence(error) + (" " + sentence(hint) if hint and is_plain(hint) else "")
    if status in (400, 422):
        lowered = (error or "").lower()
        for field, message in FIELDS:
            if field in lowered:
                return message
        return "Something in the form is not right. Please check it and try again."
    return BY_STATUS.get(status, "Something went wrong. Please try again.")
