"""An OpenID provider played by a FakeServer, for ID tokens a real provider would never issue.

It serves discovery, a JWKS and a token endpoint on http://127.0.0.1 (nbauth allows http on
loopback). The token endpoint answers every grant with tokens whose ID token the test shapes:
its claims, its header, and the key or algorithm that signs it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, Callable, Optional

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support.fake_http import FakeServer

CLIENT_ID = "fake-client"
MOUNT = "/fake"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


#: How many signing keys providers take in turn (see ``provider_key``).
KEY_RING = 8
_ring: list = []
_turn = itertools.count()


def provider_key() -> rsa.RSAPrivateKey:
    """A signing key for a new provider: the next of ``KEY_RING`` keys, made once each.

    Making an RSA key takes tens of milliseconds and hundreds of tests start a provider; a key only
    has to differ from those of the other providers a test talks to (the last ``KEY_RING``), and
    each provider also has a ``kid`` of its own. ``new_rsa_key()`` makes a key no provider has.
    """
    turn = next(_turn) % KEY_RING
    if turn == len(_ring):
        _ring.append(new_rsa_key())
    return _ring[turn]


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return dict(jwk, kid=kid, use="sig", alg="RS256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_with_public_key(claims: dict, key: rsa.RSAPrivateKey, kid: str) -> str:
    """The classic confusion attack: HMAC 'signed' with the provider's public key as secret."""
    secret = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


class FakeProvider:
    """Discovery, JWKS and token endpoint on a FakeServer; ``id_token`` shapes the ID token.

    ``id_token(claims, provider)`` returns the ID token string for the next token response,
    given the claims a correct provider would sign (``provider.sign(claims)`` signs them
    correctly); the default signs them as they are.
    """

    def __init__(self, server: FakeServer, *, scope: str = "api:read", mount: str = MOUNT,
                 public_base: Optional[str] = None, issuer: Optional[str] = None):
        self.server = server
        self.mount = mount
        self.base = (public_base or server.url) + mount  # where the app sees the endpoints
        self.issuer = issuer or self.base
        self.key = provider_key()
        self.kid = f"k1-{uuid.uuid4().hex[:8]}"  # keys are cached per JWKS URL for the process, and a
        # later test's provider may get this one's port: its key must not pass for this one's
        self.jwks = {"keys": [public_jwk(self.key, self.kid)]}
        self.scope = scope
        self.id_token: Callable[[dict, FakeProvider], str] = lambda claims, provider: provider.sign(claims)
        self.nonce: Optional[str] = None  # the nonce the next ID token carries
        self.sub = "alice"
        self.extra_response: dict = {}  # merged into every token response (e.g. refresh_in)
        for discovery in ("/.well-known/openid-configuration", "/v2.0/.well-known/openid-configuration"):
            server.route("GET", mount + discovery, lambda r: (200, {}, self.metadata()))
        server.route("GET", mount + "/jwks", lambda r: (200, {}, self.jwks))
        server.route("POST", mount + "/token", self.token_endpoint)

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "token_endpoint": self.base + "/token",
                "authorization_endpoint": self.base + "/auth", "jwks_uri": self.base + "/jwks",
                "device_authorization_endpoint": self.base + "/device",
                "authorization_response_iss_parameter_supported": True}

    def claims(self, **overrides: Any) -> dict:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "preferred_username": f"{self.sub}@example.test"}
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, *, key: Optional[rsa.RSAPrivateKey] = None, kid: Optional[str] = None,
             algorithm: str = "RS256") -> str:
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers={"kid": kid or self.kid})

    def token_endpoint(self, request) -> tuple:
        """The token endpoint's usual answer to any grant: fresh tokens (faults wrap it)."""
        body = {"access_token": f"at-{time.monotonic_ns()}", "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": f"rt-{time.monotonic_ns()}", "scope": self.scope,
                "id_token": self.id_token(self.claims(), self), **self.extra_response}
        return 200, {}, body

    def app(self, **options: Any):
        """A PublicClientApplication for this provider, with a cache of its own unless given one."""
        from nbauth import PublicClientApplication
        from nbauth.cache import TokenCache

        options.setdefault("token_cache", TokenCache())
        return PublicClientApplication(CLIENT_ID, oidc_authority=self.issuer, **options)

    def token_requests(self) -> list:
        return self.server.requests_to(self.mount + "/token")

    def jwks_requests(self) -> list:
        return self.server.requests_to(self.mount + "/jwks")
