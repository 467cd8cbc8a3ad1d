"""A cache hit searches the cache once: the best token's choice is remembered until the cache changes,
and served only while that token stays fresh (then it is chosen again, as due or expired)."""
from __future__ import annotations

from nbauth.cache import TokenCache
from support.fake_provider import FakeProvider

SCOPES = ["api:read"]


def test_a_repeated_hit_searches_once_until_the_cache_changes_or_the_token_stops_being_fresh(fake_server, clock):
    provider = FakeProvider(fake_server)
    cache = TokenCache(clock=clock)
    app = provider.app(token_cache=cache, clock=clock)
    assert "access_token" in app.acquire_token_by_username_password("alice", "pw", SCOPES)
    (account,) = app.get_accounts()
    searches = []
    search = cache.access_tokens_with_times
    cache.access_tokens_with_times = lambda *args: searches.append(args) or search(*args)

    first = app.acquire_token_silent(SCOPES, account)
    for _ in range(5):
        assert app.acquire_token_silent(SCOPES, account)["access_token"] == first["access_token"]
    assert len(searches) == 1  # the hits after the first came from the remembered choice

    assert "access_token" in app.acquire_token_by_username_password("alice", "pw", ["api:write"])  # a change
    chosen = app.acquire_token_silent(SCOPES, account)
    assert len(searches) == 2  # the cache changed: chosen again

    clock.advance(600)  # still fresh: served from the choice, with its lifetime counted from now
    again = app.acquire_token_silent(SCOPES, account)
    assert again["access_token"] == chosen["access_token"] and again["expires_in"] == chosen["expires_in"] - 600
    assert len(searches) == 2

    clock.advance(3600)  # past its expiry: never served from the remembered choice, searched again
    late = app.acquire_token_silent(SCOPES, account)
    assert late is None or late["access_token"] not in (first["access_token"], chosen["access_token"])
    assert len(searches) > 2
