"""Where a managed identity's token comes from, chosen from the environment as msal 1.39 does,
and each source's HTTP protocol (pure: the environment, the answers and ``now`` are passed in).

In msal's order: Service Fabric (``IDENTITY_ENDPOINT``, ``IDENTITY_HEADER`` and
``IDENTITY_SERVER_THUMBPRINT``, the endpoint trusted by that certificate thumbprint alone: see
``pinned``), App Service and Functions (``IDENTITY_ENDPOINT`` and
``IDENTITY_HEADER``), Azure ML compute (``MSI_ENDPOINT`` and ``MSI_SECRET``), Azure Arc
(``IDENTITY_ENDPOINT`` and ``IMDS_ENDPOINT``, or its agent installed), else the VM's instance
metadata service (``AZURE_POD_IDENTITY_AUTHORITY_HOST`` or 169.254.169.254; Cloud Shell too).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence
from urllib.parse import urlencode

from ..exceptions import OAuthError, ProtocolError
from ..strict_json import loads
from .identity import ManagedIdentity, ManagedIdentityError
from .pinned import sha1_thumbprint

VM, APP_SERVICE, MACHINE_LEARNING, AZURE_ARC, SERVICE_FABRIC = "vm", "app_service", "machine_learning", "azure_arc", \
    "service_fabric"
ARC_AGENT = "/opt/azcmagent/bin/himds"
ARC_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
#: Where the Arc agent writes the key a token request must show (Linux).
ARC_KEY_FOLDER = "/var/opt/azcmagent/tokens"
_ARC_KEY_LIMIT = 4096
#: Service Fabric's error codes as the OAuth errors msal reports them.
_SERVICE_FABRIC_ERRORS = {"SecretHeaderNotFound": "unauthorized_client", "ManagedIdentityNotFound": "invalid_client",
                          "ArgumentNullOrEmpty": "invalid_scope"}
_ID_PARAMS = {ManagedIdentity.CLIENT_ID: "client_id", ManagedIdentity.RESOURCE_ID: "msi_res_id",
              ManagedIdentity.OBJECT_ID: "object_id"}


@dataclass(frozen=True)
class Source:
    """A source of managed-identity tokens: which, its endpoint, and its secret header."""

    kind: str
    endpoint: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    api_version: str = "2018-02-01"
    id_params: Mapping[str, str] = field(default_factory=lambda: dict(_ID_PARAMS))
    thumbprint: Optional[str] = None  # the only certificate the endpoint may present (Service Fabric)


def detect(environ: Mapping[str, str], arc_agent_installed: bool) -> Source:
    """The source ``environ`` names, as msal chooses it."""
    endpoint, header = environ.get("IDENTITY_ENDPOINT"), environ.get("IDENTITY_HEADER")
    if endpoint and header and environ.get("IDENTITY_SERVER_THUMBPRINT"):
        if not endpoint.lower().startswith("https://"):
            raise ManagedIdentityError("the Service Fabric managed identity endpoint (IDENTITY_ENDPOINT) must use https")
        # The identity is the cluster's, set up there: the one asked for is not sent (as msal).
        return Source(SERVICE_FABRIC, endpoint, {"Secret": header}, "2019-07-01-preview", {},
                      sha1_thumbprint(environ["IDENTITY_SERVER_THUMBPRINT"]))
    if endpoint and header:
        return Source(APP_SERVICE, endpoint, {"X-IDENTITY-HEADER": header, "Metadata": "true"}, "2019-08-01",
                      dict(_ID_PARAMS, **{ManagedIdentity.RESOURCE_ID: "mi_res_id"}))
    if environ.get("MSI_ENDPOINT") and environ.get("MSI_SECRET"):
        return Source(MACHINE_LEARNING, environ["MSI_ENDPOINT"], {"secret": environ["MSI_SECRET"]}, "2017-09-01",
                      dict(_ID_PARAMS, **{ManagedIdentity.CLIENT_ID: "clientid"}))
    if endpoint and environ.get("IMDS_ENDPOINT"):
        return Source(AZURE_ARC, endpoint, {"Metadata": "true"}, "2020-06-01")
    if arc_agent_installed:
        return Source(AZURE_ARC, ARC_ENDPOINT, {"Metadata": "true"}, "2020-06-01")
    host = environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://169.254.169.254").strip("/")
    return Source(VM, host + "/metadata/identity/oauth2/token", {"Metadata": "true"})


def from_environment() -> Source:
    """The source of this process's environment."""
    return detect(os.environ, os.path.exists(ARC_AGENT))


def token_url(source: Source, identity: Mapping[str, Any], resource: str, *,
              capabilities: Sequence[str] = (), stale_token: Optional[str] = None) -> str:
    """The GET URL asking ``source`` for ``identity``'s token for ``resource``. Service Fabric
    also hears the client's ``capabilities`` (``xms_cc``) and, after a claims challenge, which
    token to replace (``token_sha256_to_refresh``), as msal tells it."""
    params = {"api-version": source.api_version, "resource": resource}
    id_param = source.id_params.get(identity.get(ManagedIdentity.ID_TYPE) or "")
    if id_param:
        params[id_param] = identity[ManagedIdentity.ID]
    if source.kind == SERVICE_FABRIC:
        if stale_token:
            params["token_sha256_to_refresh"] = hashlib.sha256(stale_token.encode("utf-8")).hexdigest()
        if capabilities:
            params["xms_cc"] = ",".join(capabilities)
    return f"{source.endpoint}{'&' if '?' in source.endpoint else '?'}{urlencode(params)}"


def arc_key_file(challenge: Optional[str], folder: str) -> str:
    """The key file an Arc agent's 401 challenge (``Basic realm=<path>``) names, in ``folder``
    (only its name is taken from the challenge)."""
    realm = (challenge or "").split("=", 1)
    if len(realm) != 2 or realm[0].strip().lower() != "basic realm":
        raise ManagedIdentityError(f"Azure Arc answered with an unrecognisable WWW-Authenticate header: {challenge!r}")
    name = os.path.splitext(os.path.basename(realm[1].strip()))[0]
    return os.path.join(folder, name + ".key")


def read_arc_key(path: str) -> str:
    """The Arc agent's key (at most 4 KiB, as msal checks before reading)."""
    if os.stat(path).st_size > _ARC_KEY_LIMIT:
        raise ManagedIdentityError(f"the Azure Arc key file {path} is larger than 4 KiB")
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def _check_arc_identity(identity: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    """A legacy Arc agent ignores the user-assigned identity asked for and answers the system
    one: refuse a token whose echoed id is not the one asked (as msal does)."""
    kind = identity.get(ManagedIdentity.ID_TYPE)
    if kind not in ManagedIdentity.USER_ASSIGNED_TYPES:
        return
    echoed = {ManagedIdentity.CLIENT_ID: payload.get("client_id"), ManagedIdentity.OBJECT_ID: payload.get("object_id"),
              ManagedIdentity.RESOURCE_ID: payload.get("msi_res_id") or payload.get("mi_res_id")}[kind]
    if not echoed or str(echoed).lower() != str(identity.get(ManagedIdentity.ID)).lower():
        raise ManagedIdentityError("Azure Arc did not confirm the user-assigned managed identity asked for; its "
                                   "agent likely answered with the system-assigned identity")


def parse_answer(source: Source, status: int, text: str, now: float,
                 identity: Mapping[str, Any]) -> Dict[str, Any]:
    """A source's answer as a token response (``access_token``, ``expires_in``, ``token_type``,
    ``resource``); OAuthError for its refusal, as msal's error dict would name it."""
    try:
        payload = loads(text)
    except ValueError:
        raise ProtocolError(f"the managed identity endpoint ({source.kind}) answered HTTP {status} with no JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError(f"the managed identity endpoint ({source.kind}) answered with no JSON object")
    if payload.get("access_token") and (payload.get("expires_in") or payload.get("expires_on")):
        if source.kind == AZURE_ARC:
            _check_arc_identity(identity, payload)
        expires_in = payload.get("expires_in") or int(float(payload["expires_on"])) - int(now)
        return {"access_token": payload["access_token"], "expires_in": int(float(expires_in)),
                "token_type": payload.get("token_type") or "Bearer", "resource": payload.get("resource")}
    error = payload.get("error")
    if isinstance(error, str):
        raise OAuthError(error, str(payload.get("error_description") or ""))
    if source.kind == SERVICE_FABRIC and isinstance(error, dict):
        raise OAuthError(_SERVICE_FABRIC_ERRORS.get(str(error.get("code")), "invalid_request"), text[:500])
    raise OAuthError("invalid_scope" if source.kind == APP_SERVICE else "invalid_request", text[:500])
