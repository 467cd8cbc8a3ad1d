"""Signature checks against a provider's published keys (the one module that imports PyJWT).

Keys are fetched on first use and kept per ``jwks_uri`` for the process; a token whose ``kid``
is unknown triggers one refetch (the provider may have rotated its keys). Only asymmetric
algorithms are accepted: never ``none``, never HMAC (whose "secret" would be the public key).
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

import jwt

from ..exceptions import AuthorityError, IdTokenError, ProtocolError
from ..transport import Transport
from .authority import check_endpoint_url

ALLOWED_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
})
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
#: Claims are checked by nbauth.protocol.idtoken_claims, with nbauth's leeway and messages.
_SIGNATURE_ONLY = {"verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                   "verify_aud": False, "verify_iss": False}


def _fetch_keys(jwks_uri: str, transport: Transport) -> List[dict]:
    try:
        jwks_uri = check_endpoint_url(jwks_uri, "jwks_uri")  # the one reading is the one requested
    except AuthorityError as exc:
        raise ProtocolError(str(exc)) from None
    response = transport.get(jwks_uri)
    try:
        keys = response.json().get("keys") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        keys = None
    if not isinstance(keys, list):
        raise ProtocolError(f"the provider's JWKS at {jwks_uri} (HTTP {response.status_code}) has no key list")
    return [k for k in keys if isinstance(k, dict)]


class JwksCache:
    """The keys of each ``jwks_uri``, fetched lazily and shared by every application."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: Dict[str, List[dict]] = {}

    def keys(self, jwks_uri: str, transport: Transport, *, refresh: bool = False) -> List[dict]:
        with self._lock:
            known = self._keys.get(jwks_uri)
        if known is None or refresh:
            known = _fetch_keys(jwks_uri, transport)
            with self._lock:
                self._keys[jwks_uri] = known
        return known

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


#: The process-wide key cache.
jwks_cache = JwksCache()


def _candidates(keys: List[dict], kid: Optional[str], alg: str) -> List[dict]:
    kty = _KEY_TYPES[alg[:2]]
    return [k for k in keys
            if k.get("kty") == kty and k.get("use", "sig") == "sig" and k.get("alg", alg) == alg
            and (kid is None or k.get("kid") == kid)]


def _header(token: Any) -> Dict[str, Any]:
    """The token's header; a JWS compact serialization is ASCII (RFC 7515 section 7.1)."""
    if not isinstance(token, str) or not token.isascii():
        raise IdTokenError("the ID token is not a well-formed JWT")
    try:
        return jwt.get_unverified_header(token)
    except (jwt.PyJWTError, RecursionError):  # PyJWT's json.loads can recurse too deep
        raise IdTokenError("the ID token is not a well-formed JWT") from None


def _key(jwk: dict, alg: str) -> Optional[Any]:
    """The public key of a JWK, or None when the JWK is not a usable key."""
    try:
        return jwt.PyJWK(jwk, algorithm=alg).key
    except jwt.PyJWTError:
        return None


def verify_signature(token: str, jwks_uri: str, transport: Transport, *,
                     cache: JwksCache = jwks_cache) -> Dict[str, Any]:
    """The token's claims once its signature verifies with one of the provider's keys.

    Raises IdTokenError for a disallowed algorithm, an unknown key or a bad signature; the
    claims themselves (iss, aud, exp, nonce...) are not checked here.
    """
    header = _header(token)
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise IdTokenError(f"the ID token is signed with {alg!r}; nbauth accepts only "
                           f"{', '.join(sorted(ALLOWED_ALGORITHMS))}")
    candidates = _candidates(cache.keys(jwks_uri, transport), kid, alg)
    if not candidates and kid is not None:
        candidates = _candidates(cache.keys(jwks_uri, transport, refresh=True), kid, alg)
    if not candidates:
        raise IdTokenError(f"no {alg} key with kid {kid!r} in the provider's JWKS")
    keys = [key for key in (_key(jwk, alg) for jwk in candidates) if key is not None]
    for key in keys:
        try:
            return jwt.decode(token, key, algorithms=[alg], options=_SIGNATURE_ONLY)
        except jwt.InvalidSignatureError:
            continue
        except (jwt.PyJWTError, RecursionError) as exc:
            raise IdTokenError(f"the ID token could not be verified: {type(exc).__name__}") from None
    raise IdTokenError("the ID token's signature does not verify with the provider's keys"
                       if keys else f"the provider's JWKS has no usable {alg} key with kid {kid!r}")
