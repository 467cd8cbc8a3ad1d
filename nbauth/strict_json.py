"""Strict JSON for what comes from outside (servers, files): RFC 8259, nothing more.

Python's ``json`` also reads ``NaN`` and ``Infinity`` (and ``1e999`` as infinity), which no
lifetime or time may be, and raises ``RecursionError`` on deeply nested input. Here both are
a ``ValueError`` like any other malformed text, so every parser has one failure to handle.
"""
from __future__ import annotations

import json
import math
from typing import Any, Union


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def loads(text: Union[str, bytes]) -> Any:
    """The JSON value of ``text``; ValueError when it is not strict JSON or is nested too deeply."""
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
