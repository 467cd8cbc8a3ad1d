"""Keeping secrets out of reprs: result and flow dicts print with their secrets masked, and the
tokens and credentials themselves are strings whose repr is masked, so copies of those dicts,
``vars(app)`` and tracebacks that show locals do not print them either."""
from __future__ import annotations

from typing import Any, Mapping, Tuple

#: Keys whose values are secrets wherever they appear in a dict nbauth hands out.
SECRET_KEYS = frozenset({
    "access_token", "refresh_token", "id_token", "device_code", "code", "code_verifier",
    "client_secret", "client_assertion", "assertion", "password", "private_key", "passphrase",
    "user_assertion", "nonce", "state", "secret",
})


def mask(value: Any) -> str:
    """A stand-in that shows a secret was there without showing any of it."""
    return "<redacted>" if value else repr(value)


#: The tokens of a result dict, handed out as ``Secret``.
TOKEN_KEYS = ("access_token", "refresh_token", "id_token")


class Secret(str):
    """A string whose repr is masked; its value is the string's for everything else: ``str()``,
    f-strings (``f"Bearer {token}"``), ``==``, hashing, ``json.dumps``, pickling and sending."""

    __slots__ = ()

    def __repr__(self) -> str:
        return mask(str(self))

    def __reduce__(self) -> Tuple[type, Tuple[str]]:
        return type(self), (str(self),)


class SecretBytes(bytes):
    """``Secret`` for bytes (a PEM private key or a passphrase given as bytes)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return mask(bytes(self))

    def __reduce__(self) -> Tuple[type, Tuple[bytes]]:
        return type(self), (bytes(self),)


def conceal(value: Any) -> Any:
    """``value`` as a ``Secret`` / ``SecretBytes`` when it is a str / bytes; anything else as it is.

    In a mapping (e.g. MSAL's ``client_credential`` dict), a copy whose values under
    ``SECRET_KEYS`` are concealed.
    """
    if isinstance(value, (Secret, SecretBytes)):
        return value
    if isinstance(value, str):
        return Secret(value)
    if isinstance(value, bytes):
        return SecretBytes(value)
    if isinstance(value, Mapping):
        return {key: conceal(item) if key in SECRET_KEYS else item for key, item in value.items()}
    return value


def conceal_tokens(result: dict) -> dict:
    """Conceal the tokens of an MSAL result dict, in place; returns it."""
    for key in TOKEN_KEYS:
        if key in result:
            result[key] = conceal(result[key])
    return result


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
