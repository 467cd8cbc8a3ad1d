"""nbauth's objects cross process boundaries as recipes: no token or secret in the pickled bytes, a
worker rebuilds them lazily from the shared cache, Dask's tokenize is deterministic, and what cannot
cross says what to send instead."""
import copy
import hashlib
import json
import pickle

import cloudpickle
import pytest

import nbauth
from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, NATIVE_CLIENT
from nbauth import BearerAuth, ConfidentialClientApplication, NbauthCredential, PersistedTokenCache, SignIn
from nbauth.cluster import CannotCross, ClusterSignIn
from nbauth.integrations.aio import AsyncNbauthCredential
from support.processes import expect_line, kill, python_child
from support.integrations import SCOPES, signed_in_app

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cache_path(idp, tmp_path):
    path = tmp_path / "token_cache.json"
    signed_in_app(idp, cache=PersistedTokenCache(path))
    return path


@pytest.fixture
def handle(idp, cache_path):
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=idp.issuer, scopes=SCOPES, cache=PersistedTokenCache(cache_path),
                      ui="none", keep_fresh=False)
    assert me.status.value == "signed_in"
    return me


def secrets_in(path) -> list:
    """Every token in the cache file (access, refresh and ID tokens)."""
    document = json.loads(path.read_text())
    return [entry["secret"] for section in ("AccessToken", "RefreshToken", "IdToken")
            for entry in document.get(section, {}).values()]


def crossing_objects(handle):
    return {"handle": handle, "credential": NbauthCredential(handle), "auth": BearerAuth(handle),
            "async_credential": AsyncNbauthCredential(handle), "httpx_auth": nbauth.HttpxBearerAuth(handle),
            "session": nbauth.authorized_session(handle), "cluster": ClusterSignIn(handle)}


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
def test_each_object_pickles_as_a_recipe_without_a_token_or_secret(handle, cache_path, dumps):
    secrets = secrets_in(cache_path)
    assert len(secrets) == 3
    for name, thing in crossing_objects(handle).items():
        data = dumps(thing)
        leaked = [s for s in secrets if s.encode() in data or s[:40].encode() in data]
        assert not leaked, f"{name} pickled a token"
        assert NATIVE_CLIENT.encode() in data and str(cache_path).encode() in data  # the recipe is there


def test_a_pickled_credential_gets_tokens_in_another_process_from_the_shared_cache(idp, handle, cache_path, tmp_path):
    pickled = tmp_path / "credential.pickle"
    pickled.write_bytes(pickle.dumps(NbauthCredential(handle)))
    idp.reset_stats()
    child = python_child("""
import hashlib, pickle, sys
credential = pickle.loads(open(sys.argv[1], "rb").read())
token = credential.get_token("api:read")
print("token", hashlib.sha256(token.token.encode()).hexdigest(), type(credential).__name__, flush=True)
""", str(pickled))
    try:
        _, digest, kind = expect_line(child, "token").split()
    finally:
        kill(child)
    assert kind == "NbauthCredential"
    assert digest == hashlib.sha256(handle.token().encode()).hexdigest()  # the driver's cached token
    assert idp.count("refresh_token") == 0  # served from the cache the worker can see


def test_dask_tokenize_is_deterministic_within_and_across_processes(handle, idp):
    tokenize = pytest.importorskip("dask.base").tokenize
    same = {name: tokenize(thing) for name, thing in crossing_objects(handle).items() if name != "session"}
    again = {name: tokenize(thing) for name, thing in crossing_objects(handle).items() if name != "session"}
    assert same == again and len(set(same.values())) == len(same)
    assert tokenize(BearerAuth(handle, ["api:write"])) != same["auth"]
    child = python_child("""
import pickle, sys
from dask.base import tokenize
print("token", tokenize(pickle.loads(bytes.fromhex(sys.argv[1]))), flush=True)
""", pickle.dumps(NbauthCredential(handle)).hex())
    try:
        assert expect_line(child, "token").split()[1] == same["credential"]
    finally:
        kill(child)


def test_a_confidential_applications_secret_never_crosses(idp):
    app = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, client_credential=CLIENT_SECRET, oidc_authority=idp.issuer)
    for thing in (NbauthCredential(app), BearerAuth(app, ["api:read"])):
        with pytest.raises(CannotCross, match="confidential application's credential.*never leaves") as raised:
            pickle.dumps(thing)
        assert CLIENT_SECRET not in str(raised.value)
        assert copy.copy(thing).__dict__ == thing.__dict__  # a copy in this process is still fine


def test_what_cannot_cross_names_what_to_send_instead(idp, handle):
    app, account = signed_in_app(idp)  # its cache is in memory
    with pytest.raises(CannotCross, match="SignIn handle"):
        pickle.dumps(BearerAuth(lambda scopes, **options: None))
    with pytest.raises(CannotCross, match="SignIn handle"):
        cloudpickle.dumps(nbauth.authorized_session(lambda scopes, **options: None))
    with pytest.raises(CannotCross, match="PersistedTokenCache"):
        ClusterSignIn(app, account=account, mode="shared_cache")
    with pytest.raises(nbauth.ConfigurationError, match="mode must be one of"):
        ClusterSignIn(handle, mode="nfs")
    pending = SignIn(handle.app, SCOPES, authority=handle.authority, ui="none")
    with pytest.raises(CannotCross, match=r"not signed in \(sign_in_needed\).*call .token\(\) first"):
        pickle.dumps(pending)
    assert isinstance(pickle.loads(pickle.dumps(NbauthCredential(app, account=account))), NbauthCredential)


def test_a_worker_that_cannot_see_the_shared_cache_says_so(handle, tmp_path):
    elsewhere = ClusterSignIn(handle).recipe.replace(cache_path=str(tmp_path / "elsewhere.json"), mode="shared_cache")
    worker = pickle.loads(pickle.dumps(ClusterSignIn.from_recipe(elsewhere)))
    with pytest.raises(nbauth.ConfigurationError, match=r"elsewhere.json \(not found here\).*mode='published'"):
        worker.token()
