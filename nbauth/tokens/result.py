"""``TokenResult``: what the token engine hands back, typed; ``to_msal()`` is MSAL's result dict."""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional, Tuple

from ..protocol.lifecycle import TokenTimes
from ..redact import RedactedDict, Secret, conceal_tokens

TOKEN_SOURCE_CACHE = "cache"
TOKEN_SOURCE_IDP = "identity_provider"


class TokenResult(NamedTuple):
    """An access token with what came with it (immutable; its repr masks the tokens).

    ``expires_on`` / ``refresh_on`` are seconds since the epoch; ``scopes`` those granted;
    ``account`` the cached account (MSAL's account dict) the tokens were filed under, None for an
    application's own token; ``source`` ``"cache"`` or ``"identity_provider"``; ``response`` the
    provider's token response (tokens concealed) for its other fields, None from the cache.
    """

    access_token: Secret
    token_type: str
    expires_in: int
    expires_on: int
    refresh_on: Optional[int]
    scopes: Tuple[str, ...]
    id_token_claims: Optional[Mapping[str, Any]]
    account: Optional[Mapping[str, Any]]
    source: str
    response: Optional[Mapping[str, Any]] = None

    @classmethod
    def from_response(cls, response: Mapping[str, Any], claims: Optional[Mapping[str, Any]],
                      granted: Tuple[str, ...], account: Optional[Mapping[str, Any]], sent_at: float) -> "TokenResult":
        """The result of a token response; its lifetimes count from ``sent_at``."""
        concealed = RedactedDict(response)
        conceal_tokens(concealed)
        expires_in = _seconds(response.get("expires_in")) or 0
        refresh_in = _seconds(response.get("refresh_in"))
        return cls(concealed["access_token"], response.get("token_type") or "Bearer", expires_in,
                   int(sent_at) + expires_in, int(sent_at + refresh_in) if refresh_in is not None else None,
                   granted, claims, account, TOKEN_SOURCE_IDP, concealed)

    @classmethod
    def from_cache(cls, entry: Mapping[str, Any], times: TokenTimes, account: Optional[Mapping[str, Any]],
                   now: float) -> "TokenResult":
        """The result for an access-token cache entry (``times``: its parsed times)."""
        refresh_on = times.refresh_on
        return cls(Secret(entry["secret"]), entry.get("token_type") or "Bearer", int(times.expires_on - now),
                   int(times.expires_on), int(refresh_on) if refresh_on is not None else None,
                   tuple(entry.get("target", "").split()), None, account, TOKEN_SOURCE_CACHE)

    def to_msal(self) -> RedactedDict:
        """MSAL's result dict (a new one each call)."""
        if self.response is None:
            result = RedactedDict(access_token=self.access_token, token_type=self.token_type,
                                  expires_in=self.expires_in, scope=" ".join(self.scopes), token_source=self.source)
            if self.refresh_on is not None:
                result["refresh_on"] = self.refresh_on
            return result
        result = RedactedDict(self.response)
        if result.pop("refresh_in", None) is not None and self.refresh_on is not None:
            result["refresh_on"] = self.refresh_on
        result["scope"] = " ".join(self.scopes)
        if self.id_token_claims is not None:
            result["id_token_claims"] = self.id_token_claims
        result["token_source"] = self.source
        return result


def _seconds(value: Any) -> Optional[int]:
    """A lifetime field (an integer, or a numeric string as some providers send) as seconds."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
