"""The applications accept any MSAL cache (``msal.SerializableTokenCache``, a subclass of its
``TokenCache`` that overrides ``search``), through MSAL's public API, as MSAL's applications do."""
import msal

from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.cache.contract import ForeignCache, adapt
from nbauth.cache import TokenCache

SCOPES = ["api:read"]


class CountingCache(msal.TokenCache):
    """An MSAL cache subclass that overrides ``search`` (as apps that log or filter do)."""

    def __init__(self):
        super().__init__()
        self.searches = 0

    def search(self, credential_type, target=None, query=None, **kwargs):
        self.searches += 1
        return super().search(credential_type, target=target, query=query, **kwargs)


def device_sign_in(app, idp):
    flow = app.initiate_device_flow(SCOPES)
    idp.approve_device(flow["user_code"], "alice")
    return app.acquire_token_by_device_flow(flow)


def test_msals_serializable_cache_serves_a_device_sign_in_a_silent_hit_and_a_refresh(idp):
    cache = msal.SerializableTokenCache()
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    signed_in = device_sign_in(app, idp)
    assert signed_in["token_source"] == "identity_provider", signed_in
    assert cache.has_state_changed and "alice" in cache.serialize()

    (account,) = app.get_accounts()
    assert account["username"] == "alice@example.test"
    hit = app.acquire_token_silent(SCOPES, account)
    assert hit["token_source"] == "cache" and hit["access_token"] == signed_in["access_token"]

    (old_rt,) = cache.search(cache.CredentialType.REFRESH_TOKEN)
    refreshed = app.acquire_token_silent(SCOPES, account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider" and refreshed["access_token"] != hit["access_token"]
    (new_rt,) = cache.search(cache.CredentialType.REFRESH_TOKEN)  # the rotated token replaced the spent one
    assert new_rt["secret"] == refreshed["refresh_token"] != old_rt["secret"]

    again = app.acquire_token_silent(SCOPES, account)
    assert again["token_source"] == "cache" and again["access_token"] == refreshed["access_token"]

    restored = msal.SerializableTokenCache()  # and MSAL's JSON carries it to another process
    restored.deserialize(cache.serialize())
    other = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=restored)
    assert other.acquire_token_silent(SCOPES, other.get_accounts()[0])["access_token"] == refreshed["access_token"]


def test_a_subclass_overriding_search_is_asked_through_it_and_sign_out_empties_it(idp):
    cache = CountingCache()
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    device_sign_in(app, idp)
    (account,) = app.get_accounts()
    before = cache.searches
    assert app.acquire_token_silent(SCOPES, account)["token_source"] == "cache"
    assert cache.searches > before
    app.remove_account(account)
    assert app.get_accounts() == [] and list(cache.search(cache.CredentialType.REFRESH_TOKEN)) == []


def test_nbauths_caches_are_used_as_they_are_and_msals_through_the_adapter():
    nbauth_cache = TokenCache()
    assert adapt(nbauth_cache) is nbauth_cache
    assert isinstance(adapt(msal.SerializableTokenCache()), ForeignCache)
