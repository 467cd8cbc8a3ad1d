"""Certificate credentials: a private key (and its certificate) that signs RFC 7523 client assertions.

Everything here checks up front and fails with a ``ConfigurationError`` that names the problem
(malformed PEM, wrong passphrase, a certificate that expired or belongs to another key) and never
carries the key, the passphrase or an assertion. ``cryptography`` and PyJWT are imported only
when a certificate credential is actually used.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import re
import uuid
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError

#: How long a client assertion is valid; each request gets a new one, so this only has to
#: cover the trip to the token endpoint.
ASSERTION_LIFETIME = 300

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s*[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}

PemText = Union[str, bytes]


def _as_bytes(value: PemText, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise ConfigurationError(f"{what} must be PEM text (str or bytes), not {type(value).__name__}")


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as JOSE headers write binary values."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _is_encrypted_pem(pem: bytes) -> bool:
    return b"ENCRYPTED PRIVATE KEY" in pem or b"Proc-Type: 4,ENCRYPTED" in pem


def load_private_key(pem: PemText, passphrase: Optional[PemText] = None) -> Any:
    """The private key in ``pem``, decrypted with ``passphrase`` when it is encrypted."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    data = _as_bytes(pem, "private_key")
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        raise ConfigurationError("client_credential's private_key is not a PEM private key "
                                 "(no '-----BEGIN ... PRIVATE KEY-----' block)")
    encrypted = _is_encrypted_pem(data)
    if encrypted and not passphrase:
        raise ConfigurationError("client_credential's private_key is encrypted: give its passphrase")
    if passphrase and not encrypted:
        raise ConfigurationError("client_credential has a passphrase but its private_key is not encrypted")
    password = _as_bytes(passphrase, "passphrase") if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError):
        problem = "the passphrase is wrong (or the key is corrupt)" if encrypted else "the PEM data is malformed"
        raise ConfigurationError(f"client_credential's private_key could not be loaded: {problem}") from None
    except UnsupportedAlgorithm:
        raise ConfigurationError("client_credential's private_key uses an unsupported algorithm") from None
    return key


def load_certificates(pem: PemText) -> List[Any]:
    """The certificates in ``pem``, leaf first (a chain may follow it)."""
    from cryptography import x509

    data = _as_bytes(pem, "public_certificate")
    if b"PRIVATE KEY" in data:
        raise ConfigurationError("client_credential's public_certificate holds a private key, not a certificate")
    blocks = _PEM_CERTIFICATE.findall(data)
    if not blocks:
        raise ConfigurationError("client_credential's public_certificate is not a PEM certificate "
                                 "(no '-----BEGIN CERTIFICATE-----' block)")
    try:
        return [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError:
        raise ConfigurationError("client_credential's public_certificate could not be loaded: "
                                 "the PEM data is malformed") from None


def load_pfx(path: str, passphrase: Optional[PemText] = None) -> Tuple[Any, List[Any]]:
    """(private key, [certificates]) from a PKCS#12 file, leaf certificate first."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"could not read private_key_pfx_path {path!r}: {exc.strerror}") from None
    password = _as_bytes(passphrase, "passphrase") if passphrase else None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError):
        raise ConfigurationError(f"could not open the PFX file {path!r}: the passphrase is wrong "
                                 "or it is not a PKCS#12 file") from None
    if key is None or cert is None:
        raise ConfigurationError(f"the PFX file {path!r} must hold both a private key and its certificate")
    return key, [cert, *extra]


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def certificate_validity(cert: Any) -> Tuple[float, float]:
    """(not_before, not_after) as POSIX seconds."""
    before = getattr(cert, "not_valid_before_utc", None) or _utc(cert.not_valid_before)
    after = getattr(cert, "not_valid_after_utc", None) or _utc(cert.not_valid_after)
    return before.timestamp(), after.timestamp()


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def check_validity(not_before: float, not_after: float, now: float) -> None:
    """Raise when a certificate valid from ``not_before`` to ``not_after`` is not valid ``now``."""
    if now > not_after:
        raise ConfigurationError(f"client_credential's certificate expired on {_iso(not_after)}")
    if now < not_before:
        raise ConfigurationError(f"client_credential's certificate is not valid before {_iso(not_before)}")


def _public_der(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_key_matches(cert: Any, private_key: Any) -> None:
    if _public_der(cert.public_key()) != _public_der(private_key.public_key()):
        raise ConfigurationError("client_credential's public_certificate does not match its private_key")


def signing_algorithm(private_key: Any, *, pss: bool) -> str:
    """The JWS algorithm for ``private_key``: PS256 (``pss``) or RS256 for RSA, ES256/384/512 for EC."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(private_key, rsa.RSAPrivateKey):
        return "PS256" if pss else "RS256"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        algorithm = _EC_ALGORITHMS.get(private_key.curve.name)
        if algorithm:
            return algorithm
        raise ConfigurationError(f"client_credential's private_key uses the curve {private_key.curve.name}; "
                                 "use P-256, P-384 or P-521")
    raise ConfigurationError(f"client_credential's private_key is a {type(private_key).__name__}; "
                             "use an RSA or EC key")


def certificate_headers(certs: List[Any], *, include_chain: bool) -> Dict[str, Any]:
    """JOSE headers naming the leaf certificate: ``x5t``, ``x5t#S256`` and optionally ``x5c``."""
    from cryptography.hazmat.primitives import serialization

    der = certs[0].public_bytes(serialization.Encoding.DER)
    headers: Dict[str, Any] = {
        "x5t": b64url(hashlib.sha1(der).digest()),  # noqa: S324 - a thumbprint, as RFC 7515 defines it
        "x5t#S256": b64url(hashlib.sha256(der).digest()),
    }
    if include_chain:
        headers["x5c"] = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
                          for c in certs]
    return headers


def thumbprint_header(thumbprint: str) -> Dict[str, str]:
    """The ``x5t`` header from a SHA-1 thumbprint written in hex (colons and spaces allowed)."""
    digits = re.sub(r"[\s:]", "", thumbprint) if isinstance(thumbprint, str) else ""
    if not re.fullmatch(r"[0-9A-Fa-f]{40}", digits):
        raise ConfigurationError("client_credential's thumbprint must be the certificate's SHA-1 "
                                 "thumbprint in hex (40 hex digits)")
    return {"x5t": b64url(bytes.fromhex(digits))}


class AssertionSigner:
    """Signs a fresh client assertion (RFC 7523 section 3) for each request.

    ``iss`` = ``sub`` = the client id, ``aud`` = the token endpoint, a unique ``jti``, ``iat`` and
    ``nbf`` now, ``exp`` :data:`ASSERTION_LIFETIME` later. The key is loaded once; signing is
    all a request pays for.
    """

    def __init__(self, client_id: str, private_key: Any, algorithm: str, headers: Mapping[str, Any], *,
                 validity: Optional[Tuple[float, float]] = None, claims: Optional[Mapping[str, Any]] = None,
                 clock: Clock = system_clock):
        self._client_id = client_id
        self._key = private_key
        self.algorithm = algorithm
        self.headers = dict(headers)
        self._validity = validity
        self._claims = dict(claims or {})
        self._clock = clock

    def __repr__(self) -> str:
        named = self.headers.get("x5t#S256") or self.headers.get("x5t")
        return f"AssertionSigner(client_id={self._client_id!r}, algorithm={self.algorithm!r}, x5t={named!r})"

    def __call__(self, audience: str) -> str:
        import jwt

        now = int(self._clock())
        if self._validity is not None:
            check_validity(*self._validity, now)
        payload = dict(self._claims)
        payload.update(iss=self._client_id, sub=self._client_id, aud=audience, jti=str(uuid.uuid4()),
                       iat=now, nbf=now, exp=now + ASSERTION_LIFETIME)
        return jwt.encode(payload, self._key, algorithm=self.algorithm, headers=self.headers)

