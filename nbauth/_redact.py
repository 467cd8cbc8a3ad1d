"""Keeping secrets out of reprs: result and flow dicts print with their secrets masked."""
from __future__ import annotations

from typing import Any

#: Keys whose values are secrets wherever they appear in a dict nbauth hands out.
SECRET_KEYS = frozenset({
    "access_token", "refresh_token", "id_token", "device_code", "code", "code_verifier",
    "client_secret", "client_assertion", "assertion", "password", "private_key", "passphrase",
    "user_assertion", "nonce", "state", "secret",
})


def mask(value: Any) -> str:
    """A stand-in that shows a secret was there without showing any of it."""
    return "<redacted>" if value else repr(value)


def redacted_repr(mapping: dict) -> str:
    items = ", ".join(
        f"{key!r}: {mask(value) if key in SECRET_KEYS else _nested_repr(value)}" for key, value in mapping.items())
    return "{" + items + "}"


def _nested_repr(value: Any) -> str:
    return redacted_repr(value) if isinstance(value, dict) else repr(value)


class RedactedDict(dict):
    """A plain dict (MSAL's result and flow shape) whose repr masks secret values.

    Indexing still returns the real values; only printing is changed, so a result shown in a
    notebook cell, a log line or a traceback does not carry a token.
    """

    def __repr__(self) -> str:
        return redacted_repr(self)

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's display of a cell's value
        printer.text(repr(self))
