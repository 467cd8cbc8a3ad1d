"""Synthetic token events that fill both libraries' caches the same way, fast.

Each event is MSAL's cache event (what a flow hands to ``TokenCache.add``), with token sizes of
the local provider's (a 699-character JWT access token, a 43-character refresh token, a
626-character ID token). The first event of an account is its sign-in (authorization code, which
creates the account); the others are refreshes for further scopes (``skip_account_creation``),
as both libraries file them.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

CLIENT_ID = "nbauth-native"  # the local provider's public client
AT_LENGTH, RT_LENGTH, IDT_LENGTH = 699, 43, 626
#: What providers add to the granted scopes (so the stored token holds more than was asked).
ADDED_SCOPES = ("openid", "profile")


def _filler(seed: str, length: int) -> str:
    """A deterministic url-safe string of ``length`` characters (a stand-in for a token)."""
    text, counter = "", 0
    while len(text) < length:
        digest = hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        text += base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        counter += 1
    return text[:length]


def _b64json(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def user_id(account: int) -> str:
    return f"bench-user-{account}"


def scope_name(index: int) -> str:
    return f"api://bench/resource{index}.read"


@dataclass(frozen=True)
class Probe:
    """One token a benchmark asks for: whose, which scopes, and the secret it must get."""

    account: int
    scopes: Tuple[str, ...]
    secret: str


class Population:
    """The events of a cache of ``n`` access tokens, and the probes spread through it.

    ``per_account`` tokens (scope sets) per account, all ``n`` in one account when None;
    ``superset`` stores ``openid profile`` beside each asked scope (the usual case), else the
    stored scopes equal the asked ones.
    """

    def __init__(self, token_endpoint: str, n: int, *, per_account: Optional[int] = None, superset: bool = False,
                 expires_in: int = 3600, issuer: str = "", probes: int = 8, tag: str = "") -> None:
        self.token_endpoint, self.n, self.superset = token_endpoint, n, superset
        self.expires_in, self.issuer, self.tag = expires_in, issuer, tag
        self.environment = urlsplit(token_endpoint).hostname
        per_account = per_account or max(n, 1)
        self._slots = [divmod(i, per_account) for i in range(n)]
        count = min(n, probes)
        self.probe_indexes = [int((i + 0.5) * n / count) for i in range(count)]

    def slot(self, index: int) -> Tuple[int, int]:
        """(account, scope index) of the ``index``-th token added."""
        return self._slots[index]

    def asked(self, scope: int) -> List[str]:
        return [scope_name(scope)]

    def event(self, index: int, *, version: int = 0) -> dict:
        """The cache event of the ``index``-th token; another ``version`` gives it new secrets."""
        account, scope = self.slot(index)
        first_of_account = index == 0 or self.slot(index - 1)[0] != account
        return self._event(account, scope, version, first_of_account)

    def extra_event(self, index: int) -> dict:
        """A token for a scope the population does not hold (as a new sign-in for more scopes)."""
        return self._event(0, self.n + index, 0, False)

    def _event(self, account: int, scope: int, version: int, sign_in: bool) -> dict:
        seed = f"{self.tag}/{account}/{scope}/{version}"
        granted = self.asked(scope) + (list(ADDED_SCOPES) if self.superset else [])
        claims = {"sub": user_id(account), "preferred_username": f"{user_id(account)}@example.test",
                  "iss": self.issuer, "aud": CLIENT_ID, "iat": 0, "exp": 0}
        header = _b64json({"alg": "RS256", "kid": "bench"})
        payload = _b64json(claims)
        id_token = f"{header}.{payload}." + _filler(seed + "/idt", max(16, IDT_LENGTH - len(header) - len(payload) - 2))
        response = {"access_token": _filler(seed + "/at", AT_LENGTH), "token_type": "Bearer",
                    "expires_in": self.expires_in, "scope": " ".join(granted),
                    "refresh_token": _filler(seed + "/rt", RT_LENGTH), "id_token": id_token,
                    "id_token_claims": claims}
        event = {"client_id": CLIENT_ID, "scope": granted, "token_endpoint": self.token_endpoint,
                 "environment": self.environment, "params": {}, "data": {}, "response": response,
                 "grant_type": "authorization_code" if sign_in else "refresh_token"}
        if not sign_in:
            event["skip_account_creation"] = True
        return event

    def events(self) -> List[dict]:
        return [self.event(i) for i in range(self.n)]

    def probes(self, *, version: int = 0) -> List[Probe]:
        """The tokens a benchmark asks for, spread evenly through the order they were added."""
        found = []
        for index in self.probe_indexes:
            account, scope = self.slot(index)
            secret = self.event(index, version=version)["response"]["access_token"]
            found.append(Probe(account, tuple(self.asked(scope)), secret))
        return found

    def accounts(self) -> Dict[int, str]:
        """account number -> home_account_id."""
        return {account: user_id(account) for account in {self.slot(i)[0] for i in range(self.n)}}
