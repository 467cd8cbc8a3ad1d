"""Cache hits through ``acquire_token_silent``, each call checked to be a hit (shared by benchmarks)."""
from __future__ import annotations

import itertools
from typing import Any, List, Tuple

from .events import Population, user_id
from .libs import CountingSession, Library


class SilentHits:
    """One library's application over a cache filled with ``population``, asking for its probes.

    ``call()`` asks for the next probe (round robin) and counts the answers that are not the
    expected token served from the cache; ``requests`` counts what reached the network since
    the probes were first asked (the first silent call may discover the provider).
    """

    def __init__(self, library: Library, population: Population, issuer: str, cache: Any = None) -> None:
        self.library = library
        if cache is None:
            cache = library.memory_cache()
            for event in population.events():
                cache.add(event)
        self.cache = cache
        self.session = CountingSession()
        self.app = library.app(issuer, cache, self.session)
        self.discovery_requests = self.session.count  # the constructor's (msal discovers there)
        accounts = {a["home_account_id"]: a for a in self.app.get_accounts()}
        self.asks: List[Tuple[list, dict, str]] = [
            (list(p.scopes), accounts[user_id(p.account)], p.secret) for p in population.probes()]
        self._next = itertools.cycle(self.asks).__next__
        for scopes, account, secret in self.asks:  # untimed: a first silent call may discover
            result = self.app.acquire_token_silent(scopes, account)
            if not result or result.get("access_token") != secret:
                raise RuntimeError(f"{library.name}: the first silent call did not serve the cached token")
        self.first_call_requests = self.session.count - self.discovery_requests
        self.requests_before = self.session.count
        self.calls = self.misses = 0

    def call(self) -> None:
        scopes, account, secret = self._next()
        result = self.app.acquire_token_silent(scopes, account)
        self.calls += 1
        if result is None or result["token_source"] != "cache" or result["access_token"] != secret:
            self.misses += 1

    @property
    def requests(self) -> int:
        return self.session.count - self.requests_before

    def problem(self) -> str:
        """What made a measured call something else than a hit without a request ("" if none)."""
        if self.misses or self.requests:
            return (f"{self.library.name}: {self.misses} of {self.calls} calls were not the expected cached "
                    f"token, {self.requests} requests sent: {self.session.urls[-3:]}")
        return ""
