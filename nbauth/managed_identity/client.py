"""``ManagedIdentityClient``: msal 1.39's client for the managed identity of the Azure compute a
script runs on. Tokens are cached as msal caches them (environment ``localhost``, realm
``managed_identity``, the identity's id as client id), served while fresh and renewed at
``refresh_in`` (half the lifetime of tokens living two hours or more, as msal sets it); a token
due for renewal is still served if the source fails.

Differences from msal, for one-line use in scripts: ``http_client`` may be left out (nbauth makes
its own session), and without ``token_cache`` every client of the process shares one cache, so
``ManagedIdentityClient(...).acquire_token_for_client(resource=...)`` written twice asks once.
As msal, a source's throttling answer (429, 5xx, Retry-After) is given again without asking while
its Retry-After lasts, remembered in ``http_cache`` (see ``throttle``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..apps.base import errors_as_results
from ..cache import TokenCache
from ..cache.contract import adapt
from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError, OAuthError, ProtocolError, TransportError
from ..protocol.lifecycle import TokenState
from ..tokens.cached import best_access_token
from ..tokens.result import TokenResult
from ..provider.http_cache import dict_like
from ..transport import HttpResponse, Transport
from . import sources, throttle
from .identity import ManagedIdentity, ManagedIdentityError
from .pinned import PinnedClient

ENVIRONMENT, REALM = "localhost", "managed_identity"
SYSTEM_ASSIGNED_ID = "SYSTEM_ASSIGNED_MANAGED_IDENTITY"
_TWO_HOURS = 7200
#: The cache clients share when given none (see the module's docstring).
shared_cache = TokenCache()


class ManagedIdentityClient:
    """Tokens for ``managed_identity`` (``SystemAssignedManagedIdentity()`` or
    ``UserAssignedManagedIdentity(client_id=|resource_id=|object_id=)``, or their dict form)."""

    #: Where the Azure Arc agent writes the key its token endpoint asks for (Linux).
    arc_key_folder: str = sources.ARC_KEY_FOLDER

    def __init__(self, managed_identity: Mapping[str, Any], *, http_client: Any = None, token_cache: Any = None,
                 http_cache: Any = None, client_capabilities: Optional[Sequence[str]] = None,
                 clock: Clock = system_clock) -> None:
        if not ManagedIdentity.is_managed_identity(managed_identity):
            raise ManagedIdentityError(f"managed_identity must be SystemAssignedManagedIdentity() or "
                                       f"UserAssignedManagedIdentity(...), not {type(managed_identity).__name__}")
        self._identity = dict(managed_identity)
        self._client_id = self._identity.get(ManagedIdentity.ID) or SYSTEM_ASSIGNED_ID
        self.token_cache = token_cache if token_cache is not None else shared_cache
        self._transport = Transport(http_client, clock=clock)
        self._pinned: Dict[str, Transport] = {}  # Service Fabric's, by certificate thumbprint
        self._http_cache = {} if http_cache is None else dict_like(http_cache)  # throttled answers (``throttle``)
        self._clock = clock
        self.client_capabilities: List[str] = list(client_capabilities or [])  # only Service Fabric hears them

    def __repr__(self) -> str:
        return f"ManagedIdentityClient({self._identity!r})"

    @errors_as_results
    def acquire_token_for_client(self, *, resource: str, claims_challenge: Optional[str] = None) -> Any:
        """A token for ``resource`` (e.g. ``"https://storage.azure.com"``): from the cache while
        fresh, else from the source the environment names; MSAL's result dict (an error dict
        when the source refuses). A ``claims_challenge`` skips the cache."""
        if not isinstance(resource, str) or not resource:
            raise ConfigurationError("resource must be a non-empty string, e.g. https://management.azure.com")
        now = self._clock()
        query = {"client_id": self._client_id, "environment": ENVIRONMENT, "realm": REALM, "home_account_id": None}
        cache = adapt(self.token_cache)
        cached = best_access_token(cache.access_tokens_with_times([resource], query, now), now)
        stale = None
        if claims_challenge:  # the cached token is the one refused: not served, and named to Service Fabric
            stale, cached = (str(cached[1].access_token) if cached else None), None
        if cached is not None and cached[0] is TokenState.FRESH:
            return cached[1]
        try:
            return self._fetch(cache, resource, now, stale)
        except (OAuthError, ProtocolError, TransportError):
            if cached is None:
                raise
            return cached[1]  # due for renewal, still valid

    def _fetch(self, cache: Any, resource: str, now: float, stale: Optional[str]) -> TokenResult:
        source = sources.from_environment()
        url = sources.token_url(source, self._identity, resource, capabilities=self.client_capabilities,
                                stale_token=stale)
        response = throttle.throttled(self._http_cache, url, now)
        if response is None:
            response = self._ask(source, url)
            throttle.remember(self._http_cache, response, now)
        answer = sources.parse_answer(source, response.status_code, response.text, now, self._identity)
        if answer["expires_in"] >= _TWO_HOURS:
            answer["refresh_in"] = answer["expires_in"] // 2
        cache.add({"client_id": self._client_id, "scope": [resource], "token_endpoint": f"https://{ENVIRONMENT}/{REALM}",
                   "response": answer, "params": {}, "data": {}}, now=now)
        return TokenResult.from_response(answer, None, (resource,), None, now)

    def _ask(self, source: sources.Source, url: str) -> HttpResponse:
        response = self._transport_for(source).get(url, headers=source.headers)
        if source.kind == sources.AZURE_ARC and response.status_code == 401:
            key = sources.read_arc_key(sources.arc_key_file(response.header("WWW-Authenticate"), self.arc_key_folder))
            response = self._transport.get(url, headers={**source.headers, "Authorization": f"Basic {key}"})
        return response

    def _transport_for(self, source: sources.Source) -> Transport:
        """The transport for ``source``: Service Fabric's endpoint is reached only through a
        client pinned to its certificate (never the given ``http_client``, whose trust is a CA's)."""
        if source.thumbprint is None:
            return self._transport
        pinned = self._pinned.get(source.thumbprint)
        if pinned is None:
            pinned = self._pinned[source.thumbprint] = Transport(PinnedClient(source.thumbprint), clock=self._clock)
        return pinned
