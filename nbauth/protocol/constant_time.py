"""Comparing a received value with a secret (state, nonce) without leaking it through timing."""
from __future__ import annotations

import hmac
from typing import Any


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # JSON's "\ud800" escapes decode to lone surrogates


def equals(received: Any, expected: str) -> bool:
    """True when ``received`` is the string ``expected``, compared in constant time."""
    return isinstance(received, str) and hmac.compare_digest(_utf8(received), _utf8(expected))
