"""Cache helpers (no tests): token events shaped like the ones MSAL's flows hand to the cache, and
what a cache or its file holds. Child processes import it too, so it stays light (no pytest)."""
import base64
import json

from nbauth.cache import CredentialType

NOW = 1_700_000_000
ENTRA_ENDPOINT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
OIDC_ENDPOINT = "https://127.0.0.1:8443/oidc/token"


def b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned_jwt(claims: dict) -> str:
    """A JWT-shaped ID token; the cache only files tokens by its claims, it does not verify them."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.c2ln"


def entra_event(uid="uid-1", tenant="tenant-1", client_id="client-1", scopes=("User.Read",),
                username="alice@example.com", grant_type="urn:ietf:params:oauth:grant-type:device_code",
                **response):
    """A sign-in at Entra ID: client_info, ID token, access and refresh tokens."""
    body = {
        "access_token": f"at-{uid}-{'.'.join(scopes)}", "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": f"rt-{uid}", "client_info": b64({"uid": uid, "utid": tenant}),
        "id_token": unsigned_jwt({"sub": "pairwise-" + uid, "oid": uid, "tid": tenant,
                                  "preferred_username": username, "iss": "x", "aud": client_id}),
        "scope": " ".join(scopes),
    }
    body.update(response)
    return {"client_id": client_id, "scope": list(scopes), "grant_type": grant_type,
            "token_endpoint": ENTRA_ENDPOINT.format(tenant=tenant), "response": body, "data": {}}


def oidc_event(sub="alice", client_id="nbauth-native", scopes=("openid", "profile", "api"), **response):
    """A sign-in at a plain OpenID provider: no client_info, so the account is the ID token's sub."""
    body = {
        "access_token": f"at-{sub}-{'.'.join(scopes)}", "token_type": "Bearer", "expires_in": 600,
        "refresh_token": f"rt-{sub}", "id_token": unsigned_jwt({"sub": sub, "iss": "x", "aud": client_id}),
        "scope": " ".join(scopes),
    }
    body.update(response)
    return {"client_id": client_id, "scope": list(scopes), "grant_type": "password",
            "token_endpoint": OIDC_ENDPOINT, "response": body, "data": {"username": sub}}


def app_event(client_id="daemon", scopes=("https://graph.microsoft.com/.default",), tenant="tenant-1"):
    """A client-credentials token: no user, so no account, ID token or refresh token."""
    return {"client_id": client_id, "scope": list(scopes), "grant_type": "client_credentials",
            "token_endpoint": ENTRA_ENDPOINT.format(tenant=tenant),
            "response": {"access_token": "app-at", "token_type": "Bearer", "expires_in": 3599}, "data": {}}


#: A child that holds the cache's lock until its stdin closes.
HOLD_LOCK = """
import sys
from nbauth.cache.lock import FileLock
with FileLock(sys.argv[1]).hold(timeout=10):
    print("locked", flush=True)
    sys.stdin.read()
"""


def users(cache) -> list:
    """The home account ids of the cache's accounts, sorted."""
    return sorted(a["home_account_id"] for a in cache.search(CredentialType.ACCOUNT))


def on_disk(path) -> dict:
    """The cache file's JSON."""
    return json.loads(path.read_text())
