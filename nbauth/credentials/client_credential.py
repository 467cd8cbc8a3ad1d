"""MSAL's ``client_credential`` forms, turned into client authentication at the token endpoint.

``parse_client_credential`` takes what ``ConfidentialClientApplication(client_credential=...)``
takes and returns a ``ClientAuth`` (``apply(data, headers, token_endpoint)``):

* a secret string: ``client_secret_basic`` (RFC 6749 section 2.3.1, the method every provider
  must support); ``{"client_secret": ..., "token_endpoint_auth_method": "client_secret_post"}``
  sends it in the form instead, for clients registered that way;
* ``{"private_key": PEM, "passphrase": ..., "thumbprint": SHA-1 hex}`` or
  ``{"private_key": PEM, "public_certificate": PEM}``, or MSAL's
  ``{"private_key_pfx_path": path, "passphrase": ..., "public_certificate": True}``: a JWT client
  assertion (RFC 7523, ``private_key_jwt``) signed afresh for every request;
* ``{"client_assertion": str | callable}``: an assertion made elsewhere; a callable is called for
  every request, so it can hand out fresh ones; one that takes an argument gets MSAL's context
  (``client_id``, ``token_endpoint``, and ``fmi_path`` when the request has one).

Bad credentials are refused here, before any request, with a message naming the problem; reprs
and messages never show a secret, a key, a passphrase or an assertion.
"""
from __future__ import annotations

import base64
import inspect
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Union
from urllib.parse import quote

from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError
from ..redact import Secret
from . import assertion as certs

if TYPE_CHECKING:
    from ..protocol.client_auth import ClientAuth

CLIENT_ASSERTION_TYPE_JWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_SECRET_METHODS = ("client_secret_basic", "client_secret_post")
_KNOWN_KEYS = frozenset({
    "client_secret", "token_endpoint_auth_method", "client_assertion",
    "private_key", "passphrase", "thumbprint", "public_certificate", "private_key_pfx_path",
})
_CREDENTIAL_KEYS = ("client_secret", "client_assertion", "private_key", "private_key_pfx_path")
_FORMS = ("a secret string, or a dict with client_secret, private_key (with thumbprint or "
          "public_certificate), private_key_pfx_path, or client_assertion")


class ClientSecretBasic:
    """The secret in an HTTP Basic ``Authorization`` header (both parts form-encoded first)."""

    auth_method = "client_secret_basic"

    def __init__(self, client_id: str, client_secret: str):
        self.client_id = client_id
        pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        self._authorization = Secret("Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii"))

    def __repr__(self) -> str:
        return f"ClientSecretBasic(client_id={self.client_id!r}, client_secret=<redacted>)"

    def apply(self, data: dict, headers: dict, token_endpoint: str) -> None:
        headers["Authorization"] = self._authorization


class ClientSecretPost:
    """The secret as the ``client_secret`` form field (``client_secret_post``)."""

    auth_method = "client_secret_post"

    def __init__(self, client_id: str, client_secret: str):
        self.client_id = client_id
        self._secret = Secret(client_secret)

    def __repr__(self) -> str:
        return f"ClientSecretPost(client_id={self.client_id!r}, client_secret=<redacted>)"

    def apply(self, data: dict, headers: dict, token_endpoint: str) -> None:
        data["client_id"] = self.client_id
        data["client_secret"] = self._secret


class ClientAssertion:
    """A JWT client assertion (RFC 7521 section 4.2) made for each request by
    ``source(token_endpoint, form)`` (the request's form fields, before the assertion)."""

    def __init__(self, client_id: str, source: Callable[[str, Mapping[str, Any]], Any], *, auth_method: str,
                 description: str):
        self.client_id = client_id
        self._source = source
        self.auth_method = auth_method
        self._description = description

    def __repr__(self) -> str:
        return f"ClientAssertion(client_id={self.client_id!r}, {self._description})"

    def apply(self, data: dict, headers: dict, token_endpoint: str) -> None:
        data["client_id"] = self.client_id
        data["client_assertion_type"] = CLIENT_ASSERTION_TYPE_JWT
        data["client_assertion"] = _assertion_text(self._source(token_endpoint, data))


def _assertion_text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str) or not value.strip():
        got = "an empty string" if isinstance(value, str) else type(value).__name__
        raise ConfigurationError(f"client_credential's client_assertion must give a non-empty string, not {got}")
    return Secret(value.strip())


def parse_client_credential(credential: Union[str, Mapping[str, Any]], client_id: str, *, adfs: bool = False,
                            client_claims: Optional[Mapping[str, Any]] = None,
                            clock: Clock = system_clock) -> "ClientAuth":
    """The client authentication that ``credential`` (any of MSAL's forms) calls for.

    ``adfs`` picks RS256 with a SHA-1 ``x5t`` for RSA keys, as AD FS wants; elsewhere a key
    with a certificate signs with PS256, like MSAL. ``client_claims`` go into every signed
    assertion. Raises ``ConfigurationError`` naming what is wrong.
    """
    if isinstance(credential, str):
        if not credential:
            raise ConfigurationError("client_credential is an empty secret")
        return ClientSecretBasic(client_id, credential)
    if not isinstance(credential, Mapping):
        raise ConfigurationError(f"client_credential must be {_FORMS}; got {type(credential).__name__}")
    unknown = sorted(str(key)[:40] for key in credential if key not in _KNOWN_KEYS)
    if unknown:
        raise ConfigurationError(f"client_credential has unknown keys {unknown}; it takes {sorted(_KNOWN_KEYS)}")
    given = {key: value for key, value in credential.items() if value not in (None, "", b"")}
    forms = [key for key in _CREDENTIAL_KEYS if key in given]
    if len(forms) != 1:
        raise ConfigurationError(f"client_credential must hold exactly one of {list(_CREDENTIAL_KEYS)}; "
                                 f"it has {forms or 'none'}")
    form = forms[0]
    _check_companions(form, given)
    if form == "client_secret":
        return _secret_auth(client_id, given)
    if form == "client_assertion":
        return _given_assertion(client_id, given["client_assertion"])
    signer = _certificate_signer(client_id, given, adfs=adfs, claims=client_claims, clock=clock)
    return ClientAssertion(client_id, lambda audience, form: signer(audience), auth_method="private_key_jwt",
                           description=f"signer={signer!r}")


#: Which other keys each credential form may come with.
_COMPANIONS = {
    "client_secret": {"token_endpoint_auth_method"},
    "client_assertion": set(),
    "private_key": {"passphrase", "thumbprint", "public_certificate"},
    "private_key_pfx_path": {"passphrase", "public_certificate"},
}


def _check_companions(form: str, given: Mapping[str, Any]) -> None:
    extra = sorted(set(given) - {form} - _COMPANIONS[form])
    if extra:
        raise ConfigurationError(f"client_credential's {form} does not go with {extra}")


def _secret_auth(client_id: str, given: Mapping[str, Any]) -> "ClientAuth":
    secret = given["client_secret"]
    if not isinstance(secret, str):
        raise ConfigurationError(f"client_credential's client_secret must be a string, not {type(secret).__name__}")
    method = given.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in _SECRET_METHODS:
        raise ConfigurationError(f"token_endpoint_auth_method for a secret must be one of {list(_SECRET_METHODS)}, "
                                 f"not {str(method)[:40]!r}")
    return (ClientSecretPost if method == "client_secret_post" else ClientSecretBasic)(client_id, secret)


def _given_assertion(client_id: str, value: Any) -> "ClientAuth":
    if callable(value):
        return ClientAssertion(client_id, _assertion_caller(client_id, value), auth_method="client_assertion",
                               description="client_assertion=<callable>")
    text = _assertion_text(value)
    return ClientAssertion(client_id, lambda audience, form: text, auth_method="client_assertion",
                           description="client_assertion=<redacted>")


def _assertion_caller(client_id: str, make: Callable[..., Any]) -> Callable[[str, Mapping[str, Any]], Any]:
    """How a ``client_assertion`` callable is called, as MSAL does: with a context when it has a
    positional parameter without a default, else with nothing."""
    if not _takes_context(make):
        return lambda audience, form: make()

    def with_context(audience: str, form: Mapping[str, Any]) -> Any:
        context = {"client_id": client_id, "token_endpoint": audience}
        if form.get("fmi_path"):
            context["fmi_path"] = form["fmi_path"]
        return make(context)
    return with_context


def _takes_context(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # not inspectable: called with nothing
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in parameters)


def _certificate_signer(client_id: str, given: Mapping[str, Any], *, adfs: bool,
                        claims: Optional[Mapping[str, Any]], clock: Clock) -> certs.AssertionSigner:
    passphrase = given.get("passphrase")
    certificate = given.get("public_certificate")
    if "private_key_pfx_path" in given:
        if certificate not in (None, True):
            raise ConfigurationError("with private_key_pfx_path, public_certificate may only be True "
                                     "(send the PFX file's certificate chain as x5c)")
        key, chain = certs.load_pfx(given["private_key_pfx_path"], passphrase)
        include_chain = certificate is True
    else:
        if certificate is True:
            raise ConfigurationError("public_certificate=True goes with private_key_pfx_path; "
                                     "with a PEM private_key give the certificate's PEM text")
        key = certs.load_private_key(given["private_key"], passphrase)
        chain = certs.load_certificates(certificate) if certificate is not None else []
        include_chain = True
    headers: dict = {}
    validity = None
    if chain:
        certs.check_key_matches(chain[0], key)
        validity = certs.certificate_validity(chain[0])
        certs.check_validity(*validity, clock())
        headers = certs.certificate_headers(chain, include_chain=include_chain)
    if "thumbprint" in given:
        named = certs.thumbprint_header(given["thumbprint"])
        if chain and named["x5t"] != headers["x5t"]:
            raise ConfigurationError("client_credential's thumbprint is not the SHA-1 thumbprint of its "
                                     "public_certificate")
        headers.update(named)
    elif not chain:
        raise ConfigurationError("client_credential's private_key needs a thumbprint or a public_certificate")
    if adfs or not chain:  # a bare SHA-1 thumbprint: MSAL and AD FS pair it with RS256
        headers.pop("x5t#S256", None)
    algorithm = certs.signing_algorithm(key, pss=bool(chain) and not adfs)
    return certs.AssertionSigner(client_id, key, algorithm, headers, validity=validity, claims=claims, clock=clock)
