"""No keyword silently dropped: every keyword of msal 1.39's public methods and constructors works
in nbauth or is refused naming it and saying why; keywords msal would hand to the HTTP library
(``headers=``, ``proxies=``, ...) and unknown ones are refused by name; ``data=`` and ``fmi_path``
add body fields (and key the cache as msal does); MSAL's named features work."""
import inspect
import json
import warnings

import msal
import pytest

import nbauth
from nbauth.apps.keywords import REFUSED
from nbauth.cache import SerializableTokenCache
from support.fake_provider import CLIENT_ID, FakeProvider

PAIRS = [(msal.PublicClientApplication, nbauth.PublicClientApplication),
         (msal.ConfidentialClientApplication, nbauth.ConfidentialClientApplication)]


def public_methods(cls):
    return sorted(name for name, _ in inspect.getmembers(cls, inspect.isfunction)
                  if not name.startswith("_") or name == "__init__")


def named_parameters(function):
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"]


def all_init_parameters(cls):
    """A class's constructor keywords, with those its bases take through ``**kwargs``."""
    names = []
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and klass is not object:
            names += [n for n in named_parameters(vars(klass)["__init__"]) if n not in names]
    return names


@pytest.mark.parametrize("theirs, ours", PAIRS, ids=["public", "confidential"])
def test_every_msal_method_and_keyword_is_taken_or_refused_by_name(theirs, ours):
    for method in public_methods(theirs):
        assert hasattr(ours, method), f"{ours.__name__} lacks msal's {method}"
        wanted = all_init_parameters(theirs) if method == "__init__" else named_parameters(getattr(theirs, method))
        have = all_init_parameters(ours) if method == "__init__" else named_parameters(getattr(ours, method))
        missing = [name for name in wanted if name not in have and name not in REFUSED]
        assert missing == [], f"{ours.__name__}.{method} neither takes nor refuses {missing}"


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


def app_tokens(provider):
    """Client credentials as a real provider answers them: an access token, no ID token."""
    counter = iter(range(1, 1000))
    provider.server.route("POST", provider.mount + "/token", lambda request: (200, {}, {
        "access_token": f"app-at-{next(counter)}", "token_type": "Bearer", "expires_in": 3600}))


@pytest.fixture
def daemon(provider):
    app_tokens(provider)
    return nbauth.ConfidentialClientApplication(CLIENT_ID, client_credential="secret", oidc_authority=provider.issuer,
                                                token_cache=SerializableTokenCache())


@pytest.mark.parametrize("keyword", ["headers", "proxies", "verify", "params", "cookies", "not_an_msal_keyword"])
def test_keywords_msal_hands_to_the_http_library_or_does_not_know_are_refused_by_name(provider, daemon, keyword):
    app = provider.app()
    calls = [lambda **kw: daemon.acquire_token_for_client(["api:read"], **kw),
             lambda **kw: daemon.acquire_token_on_behalf_of("assertion", ["api:read"], **kw),
             lambda **kw: app.acquire_token_silent(["api:read"], None, **kw),
             lambda **kw: app.acquire_token_silent_with_error(["api:read"], None, **kw),
             lambda **kw: app.acquire_token_by_username_password("alice", "pw", ["api:read"], **kw),
             lambda **kw: app.acquire_token_by_refresh_token("rt", ["api:read"], **kw),
             lambda **kw: app.initiate_device_flow(["api:read"], **kw),
             lambda **kw: app.acquire_token_by_device_flow({}, **kw),
             lambda **kw: app.acquire_token_interactive(["api:read"], **kw)]
    for call in calls:
        with pytest.raises(TypeError, match=keyword):
            call(**{keyword: {"x": "1"}})
    assert provider.token_requests() == []


def test_refused_keywords_say_why(provider, daemon):
    with pytest.raises(ValueError, match="auth_scheme.*proof-of-possession"):
        provider.app().acquire_token_silent(["api:read"], None, auth_scheme=object())
    with pytest.raises(ValueError, match="forwarded_client_claims"):
        daemon.acquire_token_for_client(["api:read"], forwarded_client_claims='{"a": 1}')


def test_data_and_fmi_path_are_sent_and_key_the_cache_as_msal_does(provider, daemon):
    first = daemon.acquire_token_for_client(["api:read"], fmi_path="agents/one", data={"extra": "1"})
    (request,) = provider.token_requests()
    assert (request.form["fmi_path"], request.form["extra"]) == ("agents/one", "1")
    assert first["token_source"] == "identity_provider"
    again = daemon.acquire_token_for_client(["api:read"], fmi_path="agents/one", data={"extra": "1"})
    assert (again["token_source"], again["access_token"]) == ("cache", first["access_token"])
    other = daemon.acquire_token_for_client(["api:read"], fmi_path="agents/two", data={"extra": "1"})
    plain = daemon.acquire_token_for_client(["api:read"])
    assert other["token_source"] == plain["token_source"] == "identity_provider"  # kept apart
    entries = json.loads(daemon.token_cache.serialize())["AccessToken"].values()
    expected = msal.token_cache._compute_ext_cache_key({"fmi_path": "agents/one", "extra": "1"})
    assert expected in [e.get("ext_cache_key") for e in entries]


def test_data_cannot_replace_what_nbauth_sends(daemon):
    with pytest.raises(ValueError, match="grant_type"):
        daemon.acquire_token_for_client(["api:read"], data={"grant_type": "password"})


def test_username_password_on_a_confidential_client(provider):
    app = nbauth.ConfidentialClientApplication(CLIENT_ID, client_credential="secret", oidc_authority=provider.issuer)
    result = app.acquire_token_by_username_password("alice", "pw", ["api:read"])
    assert result["token_source"] == "identity_provider"
    (request,) = provider.token_requests()
    assert (request.form["grant_type"], request.form["username"]) == ("password", "alice")
    assert request.headers["Authorization"].startswith("Basic ")  # the client authenticated
    assert [a["home_account_id"] for a in app.get_accounts()] == ["alice"]


def test_user_federated_identity_credential(provider):
    app = nbauth.ConfidentialClientApplication(CLIENT_ID, client_credential="secret", oidc_authority=provider.issuer)
    result = app.acquire_token_by_user_federated_identity_credential(["api:read"], "agent-token",
                                                                      user_object_id="oid-7")
    assert result["token_source"] == "identity_provider"
    (request,) = provider.token_requests()
    assert (request.form["grant_type"], request.form["user_federated_identity_credential"],
            request.form["user_id"]) == ("user_fic", "agent-token", "oid-7")
    with pytest.raises(ValueError, match="username or user_object_id"):
        app.acquire_token_by_user_federated_identity_credential(["api:read"], "agent-token")
    with pytest.raises(ValueError, match="exclusive"):
        app.acquire_token_by_user_federated_identity_credential(["api:read"], "t", username="u", user_object_id="o")


def test_a_string_client_assertion_is_deprecated_as_in_msal(provider):
    with pytest.warns(DeprecationWarning, match="client_assertion"):
        nbauth.ConfidentialClientApplication(CLIENT_ID, client_credential={"client_assertion": "a.jwt.text"},
                                             oidc_authority=provider.issuer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        nbauth.ConfidentialClientApplication(CLIENT_ID, client_credential={"client_assertion": lambda: "a.b.c"},
                                             oidc_authority=provider.issuer)


def test_a_client_assertion_callable_taking_a_context_gets_msals_context(provider):
    contexts = []

    def assertion(context):
        contexts.append(context)
        return "a.b.c"

    app = nbauth.ConfidentialClientApplication(CLIENT_ID, client_credential={"client_assertion": assertion},
                                               oidc_authority=provider.issuer)
    app_tokens(provider)
    app.acquire_token_for_client(["api:read"], fmi_path="agents/one")
    assert contexts == [{"client_id": CLIENT_ID, "token_endpoint": provider.base + "/token", "fmi_path": "agents/one"}]
    (request,) = provider.token_requests()
    assert request.form["client_assertion"] == "a.b.c"


def test_prompt_constants_are_msals():
    for name in ("NONE", "LOGIN", "CONSENT", "SELECT_ACCOUNT", "CREATE"):
        assert getattr(nbauth.Prompt, name) == getattr(msal.Prompt, name)


def test_is_pop_supported_is_false_without_a_broker(provider):
    assert provider.app().is_pop_supported() is False


class MinimalHttpClient:
    """MSAL's documented minimal http_client: get/post with exactly MSAL's keywords, answers
    with only ``status_code`` and ``text`` (no headers)."""

    class Response:
        def __init__(self, status_code, text):
            self.status_code, self.text = status_code, text

    def __init__(self):
        import requests

        self.session, self.calls = requests.Session(), []

    def get(self, url, params=None, headers=None):
        self.calls.append(("GET", url))
        answer = self.session.get(url, params=params, headers=headers, timeout=10)
        return self.Response(answer.status_code, answer.text)

    def post(self, url, params=None, data=None, headers=None):
        self.calls.append(("POST", url))
        answer = self.session.post(url, params=params, data=data, headers=headers, timeout=10)
        return self.Response(answer.status_code, answer.text)


def test_an_http_client_of_msals_minimal_shape_works(provider):
    client = MinimalHttpClient()
    app = nbauth.PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, http_client=client)
    assert app.acquire_token_by_username_password("alice", "pw", ["api:read"])["token_source"] == "identity_provider"
    (account,) = app.get_accounts()
    assert app.acquire_token_silent(["api:read"], account)["token_source"] == "cache"
    assert ("POST", provider.base + "/token") in client.calls
