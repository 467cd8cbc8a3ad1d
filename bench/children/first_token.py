"""A whole process serving a cached token, as a script does: import, open the cache file, ask.

    python first_token.py {nbauth|msal} CACHE_PATH ISSUER SCOPE

nbauth uses its PersistedTokenCache; msal uses msal-extensions' PersistedTokenCache on a plain
file. Prints one JSON line: the token's source, a hash of the token, and every HTTP request the
process sent (through a counting client that imports requests only when a request is made).
"""
import hashlib
import json
import sys

CLIENT_ID = "nbauth-native"


class CountingClient:
    """Just enough of a ``requests.Session`` for both libraries, counting what it sends."""

    def __init__(self):
        self.sent = []
        self._session = None

    def _send(self, method, url, **kwargs):
        if self._session is None:
            import requests

            self._session = requests.Session()
        self.sent.append(f"{method} {url}")
        return self._session.request(method, url, **kwargs)

    def get(self, url, **kwargs):
        return self._send("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self._send("POST", url, **kwargs)

    def close(self):
        if self._session is not None:
            self._session.close()


def application(library, path, issuer, client):
    """The library's public client application on a persisted cache at ``path``."""
    if library == "nbauth":
        from nbauth import PersistedTokenCache, PublicClientApplication

        return PublicClientApplication(CLIENT_ID, oidc_authority=issuer, token_cache=PersistedTokenCache(path),
                                       http_client=client)
    import msal
    import msal_extensions

    cache = msal_extensions.PersistedTokenCache(msal_extensions.FilePersistence(path))
    return msal.PublicClientApplication(CLIENT_ID, oidc_authority=issuer, token_cache=cache, http_client=client)


def main():
    library, path, issuer, scope = sys.argv[1:5]
    client = CountingClient()
    app = application(library, path, issuer, client)
    account = app.get_accounts()[0]
    result = app.acquire_token_silent([scope], account) or {}
    token = result.get("access_token", "")
    print(json.dumps({"token_source": result.get("token_source"), "sent": client.sent,
                      "token_sha256": hashlib.sha256(token.encode()).hexdigest()}))


if __name__ == "__main__":
    main()
