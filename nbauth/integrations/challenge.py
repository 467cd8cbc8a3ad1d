"""Reading a resource's ``WWW-Authenticate`` answer to a rejected bearer token (pure).

RFC 6750 section 3: ``Bearer error="invalid_token"`` says the token expired or was revoked,
so a new one may succeed. Entra ID's claims challenge (continuous access evaluation,
conditional access) says ``Bearer error="insufficient_claims", claims="<base64 JSON>"``:
a token carrying those claims is needed, asked for with MSAL's ``claims_challenge``.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Dict, List, NamedTuple, Optional, Tuple

from .. import strict_json

_ITEM = re.compile(r'\s*([^\s,="]+)(\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*))?\s*,?')
_ESCAPE = re.compile(r"\\(.)")


class Challenge(NamedTuple):
    """One challenge of a ``WWW-Authenticate`` header: its scheme and auth-params."""

    scheme: str
    params: Dict[str, str]


class Retry(NamedTuple):
    """Why a request may be sent again with a new token, and what to ask the token for."""

    reason: str  # the Bearer error: "invalid_token" or "insufficient_claims"
    claims_challenge: Optional[str]  # the decoded JSON claims to ask for, if any


def parse_challenges(header: Optional[str]) -> List[Challenge]:
    """The challenges in a ``WWW-Authenticate`` value (RFC 7235 section 4.1), in order.

    Parameter names are lower-cased; quoted values are unquoted. A token68 value is skipped.
    """
    challenges: List[Tuple[str, Dict[str, str]]] = []
    for name, is_param, value in _ITEM.findall(header or ""):
        if is_param:
            if challenges:
                challenges[-1][1][name.lower()] = _unquote(value)
        else:
            challenges.append((name, {}))
    return [Challenge(scheme, params) for scheme, params in challenges]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _ESCAPE.sub(r"\1", value[1:-1])
    return value


def decode_claims(encoded: str) -> Optional[str]:
    """The JSON text of a challenge's base64 ``claims`` (standard or URL-safe alphabet, padding
    optional), or None when it is not base64 of a JSON object."""
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8")
        parsed = strict_json.loads(decoded)  # a ValueError for NaN or deep nesting too
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(parsed, dict) else None


def retry_for(header: Optional[str]) -> Optional[Retry]:
    """Whether a 401 with this ``WWW-Authenticate`` value is worth one retry with a new token.

    Yes for a Bearer ``invalid_token`` (expired or revoked) and for a Bearer
    ``insufficient_claims`` with a readable ``claims`` value; no for anything else (a missing
    scope, another scheme, a challenge that names no error).
    """
    for challenge in parse_challenges(header):
        if challenge.scheme.lower() != "bearer":
            continue
        error = challenge.params.get("error")
        if error == "invalid_token":
            return Retry(error, None)
        if error == "insufficient_claims":
            claims = decode_claims(challenge.params.get("claims", ""))
            if claims is not None:
                return Retry(error, claims)
    return None
