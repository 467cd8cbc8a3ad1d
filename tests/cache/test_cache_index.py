"""The index: a cache hit visits the same few entries with 10 tokens as with 10,000."""
import pytest

import nbauth.cache.store
from nbauth.cache import CredentialType, TokenCache
from nbauth.cache.index import Section
from support.cache import NOW, oidc_event

AT, RT, ACCOUNT = CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN, CredentialType.ACCOUNT


@pytest.fixture
def visits(monkeypatch):
    """Counts the entries a search examines (a spy around the real matcher)."""
    seen = []
    real = nbauth.cache.store.matches

    def counting(entry, *args, **kwargs):
        seen.append(entry)
        return real(entry, *args, **kwargs)

    monkeypatch.setattr(nbauth.cache.store, "matches", counting)
    return seen


def many_users(n):
    cache = TokenCache(clock=lambda: NOW)
    for i in range(n):
        cache.add(oidc_event(f"user-{i}", scopes=("openid", "profile", "offline_access", "api")))
    return cache


def many_resources(n):
    cache = TokenCache(clock=lambda: NOW)
    for i in range(n):
        cache.add(oidc_event("alice", scopes=("openid", "profile", f"api://r{i}/.default")))
    return cache


def silent_lookups(cache, user, scope):
    """The silent path's searches: the access token, the account, and (on a miss) refresh tokens."""
    env = {"environment": "127.0.0.1", "client_id": "nbauth-native", "home_account_id": user}
    ats = list(cache.search(AT, [scope], dict(env, realm="oidc")))
    accounts = list(cache.search(ACCOUNT, query={"environment": "127.0.0.1", "home_account_id": user}))
    rts = list(cache.search(RT, query=env))
    return ats, accounts, rts


@pytest.mark.parametrize("build, user, scope", [
    (many_users, "user-{last}", "api"),                  # many accounts, scopes a superset of those asked
    (many_resources, "alice", "api://r{last}/.default"),  # one account, many resources
])
def test_hit_cost_is_flat_from_10_to_10000_tokens(build, user, scope, visits):
    costs = {}
    for n in (10, 10_000):
        cache = build(n)
        visits.clear()
        ats, accounts, rts = silent_lookups(cache, user.format(last=n - 1), scope.format(last=n - 1))
        assert len(ats) == len(accounts) == 1
        # One refresh token per account; MSAL's schema keeps one per (account, scopes) granted,
        # so with many resources every one of them is a genuine match.
        costs[n] = len(visits) - len(rts)
    assert costs[10_000] == costs[10] == 2


def keys(section, query, scopes):
    """The keys a section selects for a query and scopes."""
    return list(section.select(query, scopes)[0])


def test_candidates_come_from_the_rarest_posting_set():
    section = Section()
    for i in range(1000):
        section.put(f"k{i}", {"client_id": "common-client", "target": "openid rare" if i == 7 else "openid"})
    assert keys(section, {"client_id": "common-client"}, ["rare"]) == ["k7"]
    assert keys(section, {"client_id": "other"}, ["openid"]) == []
    assert len(keys(section, None, [])) == 1000  # an unqualified query lists everything


def test_index_follows_replacement_and_removal():
    section = Section()
    section.put("k", {"client_id": "a", "target": "x y"})
    section.put("k", {"client_id": "b", "target": "y"})
    assert keys(section, {"client_id": "a"}, []) == [] and keys(section, {}, ["x"]) == []
    assert keys(section, {"client_id": "b"}, ["y"]) == ["k"]
    section.pop("k")
    # the private posting sets are read on purpose: a removal must leave no empty set behind (a leak
    # that no public answer shows)
    assert keys(section, {"client_id": "b"}, []) == [] and section._postings == {}


def exact_resources(n):
    """One account, n tokens, each stored with exactly the scope it is asked for."""
    cache = TokenCache(clock=lambda: NOW)
    for i in range(n):
        cache.add(oidc_event("alice", scopes=(f"api://r{i}/.default",)))
    return cache


@pytest.mark.parametrize("build", [exact_resources, many_resources])
def test_the_applications_lookup_visits_one_entry_from_10_to_10000_tokens(build, visits):
    query = {"environment": "127.0.0.1", "client_id": "nbauth-native", "home_account_id": "alice", "realm": "oidc"}
    for n in (10, 10_000):
        cache = build(n)
        visits.clear()
        ((entry, times),) = cache.access_tokens_with_times([f"api://r{n - 1}/.default"], query, now=NOW)
        assert f"api://r{n - 1}/.default" in entry["target"].split() and times.expires_on == NOW + 600
        assert len(visits) == 1


@pytest.fixture
def selections(monkeypatch):
    """Counts the times a section answers a query from its posting sets (not from memory): the private
    ``Section._select`` is wrapped on purpose, since only it tells a remembered answer from a new one."""
    answered = []
    real = Section._select

    def counting(self, *args):
        answered.append(args)
        return real(self, *args)

    monkeypatch.setattr(Section, "_select", counting)
    return answered


def test_a_repeated_lookup_is_answered_from_memory_until_the_section_changes(selections):
    cache = many_resources(1000)
    query = {"environment": "127.0.0.1", "client_id": "nbauth-native", "home_account_id": "alice", "realm": "oidc"}
    for _ in range(3):
        assert len(list(cache.search(AT, ["api://r5/.default"], query))) == 1
    assert len(selections) == 1
    cache.add(oidc_event("alice", scopes=("api://r5/.default", "more")))  # a second token holding r5
    assert len(list(cache.search(AT, ["api://r5/.default"], query))) == 2 and len(selections) == 2


def test_get_accounts_reads_the_cache_once_until_it_changes(visits):
    from nbauth import PublicClientApplication

    cache = many_users(1000)
    app = PublicClientApplication("nbauth-native", oidc_authority="https://127.0.0.1:8443/oidc", token_cache=cache)
    first = app.get_accounts()
    assert len(first) == 1000 and len(visits) == 1000
    first[0]["username"] = "changed by the caller"  # copies: what the cache remembers is not changed
    again = {a["home_account_id"]: a for a in app.get_accounts()}
    assert all(account["username"] == user for user, account in again.items()) and len(visits) == 1000
    assert [a["home_account_id"] for a in app.get_accounts(username="USER-7")] == ["user-7"]
    cache.add(oidc_event("newcomer"))
    assert len(app.get_accounts()) == 1001 and len(visits) == 2001
