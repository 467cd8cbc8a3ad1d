"""Authorities: which provider to talk to, and its OpenID configuration found by discovery.

Forms understood:

* any OpenID provider, by ``oidc_authority`` (or ``authority`` on a host that is not Microsoft's,
  unless the application vouches for the host: see ``parse_authority``):
  ``{authority}/.well-known/openid-configuration``, whose ``issuer`` must equal the authority;
* Microsoft Entra ID: ``https://login.microsoftonline.com/{tenant|common|organizations|consumers}``
  and the other clouds' hosts (US Government, China, the sovereign clouds):
  ``{authority}/v2.0/.well-known/openid-configuration``;
* Entra External ID (CIAM): ``https://{name}.ciamlogin.com[/{tenant}]``, the tenant being
  ``{name}.onmicrosoft.com`` when not given;
* Azure AD B2C: ``https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}`` (and the
  other clouds' b2clogin hosts, or a ``b2c_`` policy on a custom domain);
* AD FS: ``https://{host}/adfs``: ``{authority}/.well-known/openid-configuration``.

The discovery URLs are msal 1.39's. ``authority=`` may also be an ``AuthorityBuilder``.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Tuple, Union

from ..after_fork import reset_in_child
from ..clock import Clock, system_clock
from ..exceptions import AuthorityError, DiscoveryError, ProtocolError, TransportError
from ..protocol.urls import WebUrl, web_url
from ..transport import Transport

logger = logging.getLogger("nbauth.provider.authority")

AZURE_PUBLIC = "login.microsoftonline.com"
AZURE_US_GOVERNMENT = "login.microsoftonline.us"
DEPRECATED_AZURE_CHINA = "login.chinacloudapi.cn"
AZURE_GOV_FR = "login.sovcloud-identity.fr"
AZURE_GOV_DE = "login.sovcloud-identity.de"
AZURE_GOV_SG = "login.sovcloud-identity.sg"
#: Entra ID's sign-in hosts, by cloud; hosts in one group are aliases of each other.
ENTRA_CLOUDS = (
    frozenset({AZURE_PUBLIC, "login.windows.net", "login.microsoft.com", "sts.windows.net"}),
    frozenset({AZURE_US_GOVERNMENT, "login.usgovcloudapi.net"}),
    frozenset({"login-us.microsoftonline.com"}),
    frozenset({DEPRECATED_AZURE_CHINA, "login.partner.microsoftonline.cn"}),
    frozenset({"login.microsoftonline.de"}),
    frozenset({AZURE_GOV_FR}),
    frozenset({AZURE_GOV_DE}),
    frozenset({AZURE_GOV_SG}),
)
B2C_DOMAINS = ("b2clogin.com", "b2clogin.cn", "b2clogin.us", "b2clogin.de")
CIAM_DOMAIN = "ciamlogin.com"
ENTRA_MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/common"


class AuthorityBuilder:
    """MSAL's ``AuthorityBuilder``: ``AuthorityBuilder(AZURE_PUBLIC, "contoso.onmicrosoft.com")``
    for ``authority=``, without string concatenation."""

    def __init__(self, instance: str, tenant: str) -> None:
        self._instance = instance.rstrip("/")
        self._tenant = tenant.strip("/")

    def __str__(self) -> str:
        return f"https://{self._instance}/{self._tenant}"

    def __repr__(self) -> str:
        return f"AuthorityBuilder({self._instance!r}, {self._tenant!r})"


def _safe_url(url: Any, what: str) -> WebUrl:
    """``url`` read once (see ``protocol.urls``), if https or http on loopback; else AuthorityError."""
    parsed = web_url(url, what)
    if not parsed.is_safe:
        raise AuthorityError(f"{what} must use https (http is allowed only on loopback): {url!r}")
    return parsed


def check_endpoint_url(url: Any, what: str) -> str:
    """``url`` rebuilt from its one reading, if https (or http on loopback); raises
    AuthorityError naming ``what`` and the problem."""
    return _safe_url(url, what).url


def entra_aliases(host: str) -> frozenset:
    """The set of Entra hosts that share tokens with ``host`` (just ``{host}`` elsewhere)."""
    for cloud in ENTRA_CLOUDS:
        if host in cloud:
            return cloud
    return frozenset({host})


@dataclass(frozen=True)
class Authority:
    """A parsed authority. ``instance`` and ``tenant`` are the cache's environment and realm."""

    url: str
    kind: str  # "entra" | "ciam" | "b2c" | "adfs" | "oidc"
    instance: str
    tenant: str

    @property
    def is_entra(self) -> bool:
        """Microsoft's own authorities, which speak Entra extensions (client_info, user realm)."""
        return self.kind in ("entra", "ciam", "b2c")

    @property
    def discovery_url(self) -> str:
        suffix = "/v2.0/.well-known/openid-configuration" if self.is_entra else "/.well-known/openid-configuration"
        return self.url + suffix

    def issuer_matches(self, issuer: str) -> bool:
        """OpenID Discovery 4.3: the issuer must be the authority (Entra: same cloud, any tenant
        form that the authority admits, since multi-tenant and domain authorities name a GUID)."""
        try:
            parts = web_url(issuer, "issuer")
        except AuthorityError:
            return False
        if not self.is_entra:
            return parts.url.rstrip("/") == self.url
        if self.kind == "ciam":  # named by the tenant's id: another host of the same domain
            return parts.scheme == "https" and parts.netloc.endswith("." + CIAM_DOMAIN)
        if parts.scheme != "https" or parts.netloc not in entra_aliases(self.instance):
            return False
        issuer_tenant = parts.path.strip("/").split("/")[0]
        return (issuer_tenant.lower() == self.tenant.lower() or issuer_tenant == "{tenantid}"
                or not _is_guid(self.tenant))


def _is_guid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def parse_authority(authority: Union[str, AuthorityBuilder, None] = None, *,
                    oidc_authority: Optional[str] = None, vouched: bool = False) -> Authority:
    """Parse MSAL's ``authority`` / ``oidc_authority`` constructor arguments (no I/O).

    ``vouched`` (msal's ``validate_authority=False`` or ``instance_discovery=False``): an
    ``authority=`` on a host nbauth does not know as Microsoft's is an Entra authority there
    (Entra's discovery path and issuer rules), as msal takes it, not a plain OpenID provider.
    """
    if isinstance(authority, AuthorityBuilder):
        authority = str(authority)
    if authority and oidc_authority:
        raise AuthorityError("give either authority or oidc_authority, not both")
    raw = oidc_authority or authority or DEFAULT_AUTHORITY
    name = "oidc_authority" if oidc_authority else "authority"
    parts = _safe_url(raw, name)
    if "?" in raw or "#" in raw:
        raise AuthorityError(f"{name} must not have a query or fragment: {raw!r}")
    host = parts.netloc
    segments = [s for s in parts.path.split("/") if s]
    if oidc_authority:
        kind = "oidc"
    elif host.endswith("." + CIAM_DOMAIN):
        kind = "ciam"
        segments = segments or [host[:-len(CIAM_DOMAIN) - 1] + ".onmicrosoft.com"]  # as msal, path-less CIAM
    else:
        kind = _microsoft_kind(host, segments, raw)
        if kind == "oidc" and vouched:
            if not segments:
                raise AuthorityError(f"authority must be https://<host>/<tenant>: {raw!r}")
            kind = "entra"
    url = f"{parts.scheme}://{host}" + "".join("/" + s for s in segments)
    return Authority(url=url, kind=kind, instance=host, tenant=segments[0] if segments else "")


def _microsoft_kind(host: str, segments: List[str], raw: str) -> str:
    """Which of Microsoft's authorities ``authority=`` names ("oidc" when none: any OpenID provider)."""
    if (any(host.endswith("." + domain) for domain in B2C_DOMAINS) or (len(segments) >= 2 and segments[0].lower() == "tfp")
            or (len(segments) == 2 and segments[1].lower().startswith("b2c_"))):
        if len(segments) < 2:
            raise AuthorityError(f"a B2C authority needs a tenant and a policy: {raw!r}")
        return "b2c"
    if segments and segments[0].lower() == "adfs":
        return "adfs"
    if any(host in cloud for cloud in ENTRA_CLOUDS):
        if len(segments) != 1:
            raise AuthorityError(
                f"an Entra ID authority is https://{host}/<tenant> (a tenant id or domain, or "
                f"common, organizations, consumers): {raw!r}")
        return "entra"
    return "oidc"


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of an OpenID configuration nbauth uses, checked; ``raw`` keeps the rest."""

    issuer: str
    token_endpoint: str
    authorization_endpoint: Optional[str] = None
    device_authorization_endpoint: Optional[str] = None
    jwks_uri: Optional[str] = None
    revocation_endpoint: Optional[str] = None
    end_session_endpoint: Optional[str] = None
    userinfo_endpoint: Optional[str] = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def authorization_response_iss_supported(self) -> bool:
        """RFC 9207: the provider puts ``iss`` in authorization responses."""
        return self.raw.get("authorization_response_iss_parameter_supported") is True


_OPTIONAL_ENDPOINTS = ("authorization_endpoint", "device_authorization_endpoint", "jwks_uri",
                       "revocation_endpoint", "end_session_endpoint", "userinfo_endpoint")


def parse_metadata(document: Any, authority: Authority) -> ProviderMetadata:
    """Check a discovery document against ``authority``; raises DiscoveryError naming the fault."""
    if not isinstance(document, dict):
        raise DiscoveryError("the OpenID configuration is not a JSON object", authority=authority.url)
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise DiscoveryError("the OpenID configuration has no issuer", authority=authority.url)
    _in_document(web_url, issuer, "issuer", authority)
    if not authority.issuer_matches(issuer):
        raise DiscoveryError(f"the OpenID configuration's issuer {issuer!r} does not match the authority",
                             authority=authority.url)
    if "token_endpoint" not in document:
        raise DiscoveryError("the OpenID configuration has no token_endpoint", authority=authority.url)
    endpoints: Dict[str, str] = {}
    for name in ("token_endpoint",) + _OPTIONAL_ENDPOINTS:
        value = document.get(name)
        if value is None:
            continue
        endpoints[name] = _in_document(_safe_url, value, name, authority).url
    return ProviderMetadata(issuer=issuer, raw=dict(document), **endpoints)


def _in_document(rule: Callable[[Any, str], WebUrl], value: Any, name: str, authority: Authority) -> WebUrl:
    """``rule(value, name)``, its AuthorityError becoming the DiscoveryError that names the field."""
    try:
        return rule(value, name)
    except AuthorityError as exc:
        raise DiscoveryError(f"the OpenID configuration's {exc}", authority=authority.url) from None


class MetadataStore(Protocol):
    """Where discovery documents outlive the process (a persisted token cache offers one)."""

    def load(self, url: str) -> Optional[Tuple[Dict[str, Any], float]]: ...

    def save(self, url: str, document: Dict[str, Any], fetched_at: float) -> None: ...


#: How long a stored discovery document is used before it is fetched again.
STORED_METADATA_TTL = 24 * 3600.0


class Discovery:
    """Fetches each authority's configuration once per process and shares it (thread-safe).

    With a ``store``, a document fetched by an earlier process (within a day) is used without
    the network, and a stored document of any age stands in while the provider is unreachable.
    """

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._metadata: Dict[str, ProviderMetadata] = {}
        self._after_fork()
        reset_in_child(self, Discovery._after_fork)

    def _after_fork(self) -> None:
        """Fresh locks (in a forked child, another thread of the parent may have held one)."""
        self._lock = threading.Lock()
        self._key_locks: Dict[str, threading.Lock] = {}

    def get(self, authority: Authority, transport: Transport,
            store: Optional[MetadataStore] = None) -> ProviderMetadata:
        url = authority.discovery_url
        found = self._metadata.get(url)
        if found is not None:
            return found
        with self._lock:
            key_lock = self._key_locks.setdefault(url, threading.Lock())
        with key_lock:
            found = self._metadata.get(url)
            if found is None:
                found = self._metadata[url] = self._discover(authority, transport, store)
        return found

    def known(self, authority: Authority, store: Optional[MetadataStore] = None) -> Optional[ProviderMetadata]:
        """The authority's configuration if it can be had without the network (fetched by this
        process, or stored within a day), else None."""
        found = self._metadata.get(authority.discovery_url)
        if found is None and store is not None:
            found = self._stored(authority, store.load(authority.discovery_url))
        return found

    def _stored(self, authority: Authority, stored: Optional[Tuple[Dict[str, Any], float]]) -> Optional[ProviderMetadata]:
        """A stored document still within its day, checked; None when there is none or it no longer fits."""
        if stored is not None and self._clock() - stored[1] < STORED_METADATA_TTL:
            with contextlib.suppress(DiscoveryError):  # a stored document that no longer fits is refetched
                return parse_metadata(stored[0], authority)
        return None

    def _discover(self, authority: Authority, transport: Transport,
                  store: Optional[MetadataStore]) -> ProviderMetadata:
        stored = store.load(authority.discovery_url) if store is not None else None
        fresh = self._stored(authority, stored)
        if fresh is not None:
            return fresh
        try:
            document = fetch_document(authority, transport)
        except DiscoveryError as error:
            if stored is None:
                raise
            logger.warning("%s; using the configuration stored %d s ago", error, self._clock() - stored[1])
            return parse_metadata(stored[0], authority)
        metadata = parse_metadata(document, authority)
        if store is not None:
            store.save(authority.discovery_url, document, self._clock())
        return metadata

    def clear(self) -> None:
        with self._lock:
            self._metadata.clear()


def fetch_document(authority: Authority, transport: Transport) -> Any:
    """GET the authority's OpenID configuration as parsed JSON (unchecked; see parse_metadata)."""
    try:
        response = transport.get(authority.discovery_url)
    except (TransportError, ProtocolError) as exc:  # ProtocolError: an answer over the size cap
        raise DiscoveryError(f"could not fetch the OpenID configuration: {exc}", authority=authority.url) from None
    if response.status_code != 200:
        raise DiscoveryError(f"the OpenID configuration at {authority.discovery_url} answered "
                             f"HTTP {response.status_code}", authority=authority.url)
    try:
        return response.json()
    except ValueError:
        raise DiscoveryError(f"the OpenID configuration at {authority.discovery_url} is not JSON",
                             authority=authority.url) from None


def fetch_metadata(authority: Authority, transport: Transport) -> ProviderMetadata:
    """GET and check the authority's OpenID configuration (no memo; see ``Discovery``)."""
    return parse_metadata(fetch_document(authority, transport), authority)


#: The process-wide memo every application shares.
discovery = Discovery()
