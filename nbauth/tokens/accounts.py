"""An application's accounts and refresh tokens in a cache it may share with other providers.

MSAL files an OpenID provider's tokens under the host of its token endpoint and the first segment
of its path, so two providers on one host (Keycloak realms ``/realms/a`` and ``/realms/b``, two
ports, Okta authorization servers) share MSAL's environment and realm. nbauth records the provider
on each user entry (``nbauth_provider``, the canonical authority URL, which discovery checked
equals the provider's issuer) and adds it to every query, so an application sees only its own
provider's entries and those that name none (written by MSAL, found as MSAL finds them). Entra ID,
B2C and AD FS keep MSAL's rules: their refresh tokens serve every tenant of a cloud, and tokens
written by msal or azure-cli must keep working there, so nothing is recorded for them.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..cache.schema import PROVIDER_FIELD
from ..exceptions import OAuthError
from ..provider.authority import Authority
from .cached import public_account

#: Account entries MSAL lists (its other authority types belong to brokers and Cloud Shell).
_ACCOUNT_AUTHORITY_TYPES = ("MSSTS", "ADFS")
#: Errors refusing a refresh token for the scopes asked only (a consent or policy for a resource).
_SCOPE_REFUSALS = frozenset({"interaction_required", "consent_required"})
_CONSENT_REQUIRED = 65001  # Entra's AADSTS65001: invalid_grant, suberror consent_required


def provider_query(authority: Authority) -> Dict[str, str]:
    """The query field that keeps lookups to ``authority``'s provider ({} for Microsoft's)."""
    return {PROVIDER_FIELD: authority.url} if authority.kind == "oidc" else {}


def accounts_in(cache: Any, environments: Sequence[str], provider: Dict[str, str]) -> List[dict]:
    """The accounts of the first environment that has any, as ``get_accounts`` shows them."""
    for environment in environments:
        accounts: Dict[str, dict] = {}
        for entry in cache.search(cache.CredentialType.ACCOUNT, query={"environment": environment, **provider}):
            if entry.get("authority_type") in _ACCOUNT_AUTHORITY_TYPES:
                accounts.setdefault(entry.get("home_account_id"), public_account(entry))
        if accounts:
            break
    return list(accounts.values())


def remove_account_entries(cache: Any, client_id: str, account: dict, provider: Dict[str, str]) -> None:
    """Remove the account's refresh tokens (of ``client_id``), access tokens, ID tokens and
    account entries of this provider from ``cache``."""
    types = cache.CredentialType
    owned = {"environment": account["environment"], "home_account_id": account["home_account_id"], **provider}
    for entry in list(cache.search(types.REFRESH_TOKEN, query=dict(owned, client_id=client_id))):
        cache.remove_rt(entry)
    for kind, remove in ((types.ACCESS_TOKEN, cache.remove_at), (types.ID_TOKEN, cache.remove_idt),
                         (types.ACCOUNT, cache.remove_account)):
        for entry in list(cache.search(kind, query=owned)):
            remove(entry)


def refused_scopes(error: OAuthError, scopes: Iterable[str]) -> Optional[Tuple[str, ...]]:
    """What the provider refused a refresh token for: None when the error does not refuse the
    token (e.g. a server error), () for every scope (``invalid_grant``: revoked, expired, spent),
    or ``scopes`` when only those were refused (consent or interaction needed for them)."""
    if error.error in _SCOPE_REFUSALS or (error.error == "invalid_grant" and _CONSENT_REQUIRED in error.error_codes):
        return tuple(scopes)
    return () if error.error == "invalid_grant" else None
