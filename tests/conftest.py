"""Fixtures shared by the whole suite: one CA per session, the local OpenID provider, fakes.

This file sits at the top of ``tests/`` (no ``__init__.py``), so pytest puts ``tests/`` on
``sys.path``: the helpers import as ``idp.server``, ``idp.browser`` and ``support.fake_http``.
"""
from __future__ import annotations

import os
import sys

import pytest

from idp.certs import TestCA
from idp.server import IdPStartError, LocalIdP
from support.clock import FakeClock
from support.fake_http import FakeServer

_TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
#: Folders whose tests start browsers, clusters or timed load: under ``pytest -n 2`` (``make test``)
#: they run one module after another on one worker, never two at once on a 2-core machine.
SERIAL_FOLDERS = frozenset({"browser", "clusters", "load"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    """Groups for pytest-xdist's ``--dist loadgroup``: each module stays whole on one worker (its
    module fixtures start once), and the heavy folders share one group (see ``SERIAL_FOLDERS``)."""
    for item in items:
        group = "serial" if item.path.parent.name in SERIAL_FOLDERS else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def session_ca(tmp_path_factory) -> TestCA:
    """The CA that signs every test server's certificate this session."""
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session", autouse=True)
def trust_session_ca(session_ca):
    """Make requests-based clients (nbauth, msal) and ssl's defaults trust the session CA."""
    saved = {name: os.environ.get(name) for name in _TRUST_VARIABLES}
    os.environ.update({name: session_ca.cert_path for name in _TRUST_VARIABLES})
    yield session_ca.cert_path
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def start_provider(ca: TestCA, **config) -> LocalIdP:
    """A started LocalIdP with ``config``. Node now and then hangs at start (twice in ~70 starts
    on this machine), so a start that is not ready in 10 seconds (one takes about one) is tried
    once more."""
    try:
        return LocalIdP(ca=ca, startup_timeout=10, **config).start()
    except IdPStartError:
        return LocalIdP(ca=ca, **config).start()


@pytest.fixture(scope="session")
def idp(session_ca) -> LocalIdP:
    """The session's provider: default lifetimes, a 1-second device-code interval.

    Shared by many tests: filter its logs by your own user_code / client, or reset_stats() first.
    """
    provider = start_provider(session_ca)
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def idp_pool(session_ca):
    """Providers started for ``make_idp`` this session, one per setting (see make_idp)."""
    started: dict[tuple, LocalIdP] = {}
    yield started
    for provider in started.values():
        provider.stop()


@pytest.fixture
def make_idp(idp_pool, session_ca):
    """Factory for providers with other settings: ``make_idp(access_token_ttl=2)``.

    Defaults are LocalIdP's (device_interval=1, the provider's own default being 5).

    Takes LocalIdP's keyword arguments. A provider with the same settings is shared by the tests
    that ask for them (a start costs about a second), its counters and request log cleared for
    each (``reset_stats``); one a test stopped is replaced by a new one.
    """

    def make(**config) -> LocalIdP:
        key = tuple(sorted(config.items()))
        provider = idp_pool.get(key)
        if provider is not None and provider.pid is not None:
            provider.reset_stats()
            return provider
        provider = idp_pool[key] = start_provider(session_ca, **config)
        return provider

    return make


@pytest.fixture(autouse=True)
def renewals_end_with_each_test():
    """Signed-in ``nbauth.login`` handles keep their tokens fresh in the background; that stops after
    each test, so no renewal reaches a later test's provider (or its request counts)."""
    yield
    refresher = sys.modules.get("nbauth.tokens.refresher")
    if refresher is not None:
        refresher.background_refresher().stop()


@pytest.fixture(autouse=True)
def fresh_process_memos():
    """What a process remembers of providers (discovery documents, signing keys) is keyed by URL;
    test servers reuse ephemeral ports, so each test starts as a new process would."""
    from nbauth.provider.authority import discovery
    from nbauth.provider.jwks import jwks_cache

    discovery.clear()
    jwks_cache.clear()
    yield


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock (and ``clock.wait``) starting at the real time; it moves only when told."""
    return FakeClock()


@pytest.fixture
def path(tmp_path):
    """Where a test's persisted cache lives (its folder not made yet)."""
    return tmp_path / "nbauth" / "token_cache.json"


@pytest.fixture
def fake_server() -> FakeServer:
    """A started plain-http FakeServer on 127.0.0.1; ``FakeServer(ca=session_ca)`` for https."""
    with FakeServer() as server:
        yield server
