"""Entra ID's hosts played on loopback: a FakeServer answering for every host of a cloud, and the
``http_client`` (MSAL's injectable client, which nbauth and msal both take) that sends them there.

``https://<host>/<path>`` goes to ``https://127.0.0.1:<port>/<host>/<path>``, so one server knows
which host was asked, as a real cloud's aliases do: instance discovery (msal's alias groups),
each tenant's OpenID configuration, signing keys and token endpoint, per host.
"""
from __future__ import annotations

import base64
import json
import time
from typing import Iterable, Optional
from urllib.parse import urlsplit

import jwt
import requests

from support.fake_http import FakeServer
from support.fake_provider import new_rsa_key, public_jwk

PUBLIC_CLOUD = ("login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net")


class RoutedSession(requests.Session):
    """A requests.Session sending every https host of ``hosts`` to ``server``, path-prefixed."""

    def __init__(self, server: FakeServer, hosts: Iterable[str]) -> None:
        super().__init__()
        self.server, self.hosts = server, set(hosts)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname in self.hosts:
            url = f"{self.server.url}/{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


def b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


class EntraCloud:
    """Entra ID for ``tenant`` at every host of ``hosts`` (the first is the issuer's, as Entra's
    v2.0 issuer names login.microsoftonline.com whatever host was asked). Token answers carry a
    signed ID token for user ``uid`` and count per host in ``issued``."""

    def __init__(self, server: FakeServer, *, hosts: Iterable[str] = PUBLIC_CLOUD, tenant: str = "tenant-1",
                 client_id: str = "entra-client", uid: str = "oid-1", issuer_host: Optional[str] = None) -> None:
        self.server, self.hosts, self.tenant, self.client_id, self.uid = server, tuple(hosts), tenant, client_id, uid
        self.issuer = f"https://{issuer_host or self.hosts[0]}/{tenant}/v2.0"
        self.key, self.kid = new_rsa_key(), f"entra-{time.monotonic_ns()}"
        self.issued: dict = {}
        self.nonce: Optional[str] = None  # the ID tokens' nonce claim, when set (a sign-in URL's)
        for host in self.hosts:
            self._serve(host)

    def session(self) -> RoutedSession:
        return RoutedSession(self.server, self.hosts)

    def authority(self, host: Optional[str] = None) -> str:
        return f"https://{host or self.hosts[0]}/{self.tenant}"

    def _serve(self, host: str) -> None:
        base = f"https://{host}/{self.tenant}"
        route = self.server.route
        route("GET", f"/{host}/common/discovery/instance", (200, {}, {
            "tenant_discovery_endpoint": f"{base}/v2.0/.well-known/openid-configuration", "api-version": "1.1",
            "metadata": [{"preferred_network": self.hosts[0], "preferred_cache": self.hosts[0],
                          "aliases": list(self.hosts)}]}))
        route("GET", f"/{host}/{self.tenant}/v2.0/.well-known/openid-configuration", (200, {}, {
            "issuer": self.issuer, "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"https://{host}/{self.tenant}/discovery/v2.0/keys"}))
        route("GET", f"/{host}/{self.tenant}/discovery/v2.0/keys", (200, {}, {"keys": [public_jwk(self.key, self.kid)]}))
        route("POST", f"/{host}/{self.tenant}/oauth2/v2.0/token", lambda request: self._token(host, request))

    def _token(self, host: str, request) -> tuple:
        count = self.issued[host] = self.issued.get(host, 0) + 1
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "oid": self.uid, "tid": self.tenant, "sub": "pairwise",
                  "preferred_username": "dana@contoso.test", "iat": now, "exp": now + 3600}
        if self.nonce:
            claims["nonce"] = self.nonce
        return 200, {}, {
            "token_type": "Bearer", "scope": request.form.get("scope", "User.Read"), "expires_in": 3600,
            "ext_expires_in": 3600, "access_token": f"at-{host}-{count}", "refresh_token": f"rt-{host}-{count}",
            "client_info": b64({"uid": self.uid, "utid": self.tenant}),
            "id_token": jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})}

    def token_requests(self) -> list:
        return [r for r in self.server.requests if r.path.endswith("/oauth2/v2.0/token")]
