"""MSAL's token cache schema: entry keys, and the entries a token response yields (pure).

The layout, field names and types (times are strings of epoch seconds) are MSAL Python's, so a
cache written here is read by ``msal`` and the other way round. Nothing here does I/O or reads
the clock: ``now`` is passed in.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple
from urllib.parse import urlsplit

from .. import strict_json


class CredentialType:
    """MSAL's section names (and the ``credential_type`` field of tokens)."""

    ACCESS_TOKEN = "AccessToken"
    ACCESS_TOKEN_EXTENDED = "atext"  # the AT key's type when ext_cache_key is set (as MSAL)
    REFRESH_TOKEN = "RefreshToken"
    ACCOUNT = "Account"
    ID_TOKEN = "IdToken"
    APP_METADATA = "AppMetadata"


class AuthorityType:
    ADFS = "ADFS"
    MSSTS = "MSSTS"  # Entra ID v2 (work and personal accounts), and any OpenID provider


#: The sections this schema knows; others found in a serialized cache are kept untouched.
KNOWN_SECTIONS = (CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN, CredentialType.ID_TOKEN,
                  CredentialType.ACCOUNT, CredentialType.APP_METADATA)

#: Grants after which MSAL records how the account was established (``account_source``).
ACCOUNT_SOURCE_GRANTS = frozenset({
    "broker", "authorization_code", "password", "urn:ietf:params:oauth:grant-type:device_code", "user_fic"})

#: Request fields that do not enter MSAL's extended cache key (standard or secret parameters).
#: ``user_assertion_hash`` is nbauth's OBO marker, stored as its own field instead.
_EXT_KEY_EXCLUDED = frozenset({
    "client_id", "grant_type", "scope", "claims", "username", "password", "refresh_token", "code",
    "redirect_uri", "code_verifier", "device_code", "assertion", "requested_token_use",
    "client_assertion", "client_assertion_type", "client_secret", "token_type", "req_cnf", "key_id",
    "user_federated_identity_credential", "user_id", "client_info", "user_assertion_hash",
})

Entry = Dict[str, Any]

#: nbauth's field naming the OpenID provider an entry came from (MSAL keeps unknown fields and
#: ignores them). Entries without it (written by MSAL) match any provider of their environment.
PROVIDER_FIELD = "nbauth_provider"
#: nbauth's field on a refresh token the provider refused: one line per refusal, the digest of the
#: refused secret and the scopes refused (none: all). A different secret makes the lines void.
REFUSED_FIELD = "nbauth_refused"


def _join_key(*parts: Optional[str]) -> str:
    return "-".join([part or "" for part in parts]).lower()


def entry_key(credential_type: str, entry: Mapping[str, Any]) -> str:
    """The key MSAL files ``entry`` under in its section."""
    get = entry.get
    if credential_type == CredentialType.ACCESS_TOKEN:
        ext = get("ext_cache_key")
        parts = [get("home_account_id"), get("environment"),
                 CredentialType.ACCESS_TOKEN_EXTENDED if ext else CredentialType.ACCESS_TOKEN,
                 get("client_id"), get("realm"), get("target")]
        return _join_key(*parts, *([ext] if ext else []))
    if credential_type == CredentialType.REFRESH_TOKEN:  # refresh tokens are cross-tenant: no realm
        return _join_key(get("home_account_id"), get("environment"), CredentialType.REFRESH_TOKEN,
                         get("client_id"), "", get("target"))
    if credential_type == CredentialType.ID_TOKEN:
        return _join_key(get("home_account_id"), get("environment"), CredentialType.ID_TOKEN,
                         get("client_id"), get("realm"), "")
    if credential_type == CredentialType.ACCOUNT:
        return _join_key(get("home_account_id"), get("environment"), get("realm"))
    if credential_type == CredentialType.APP_METADATA:  # MSAL does not lower-case this one
        return "appmetadata-{}-{}".format(get("environment") or "", get("client_id") or "")
    raise KeyError(f"unknown credential type {credential_type!r}")


def provider_key(key: str, provider: str) -> str:
    """Where a provider's entry goes when its MSAL ``key`` holds another provider's (two providers
    on one host with the same client id and subject): that key with a digest of the provider."""
    return f"{key}-{hashlib.sha256(provider.encode()).hexdigest()[:16]}"


def ext_cache_key(data: Optional[Mapping[str, Any]]) -> str:
    """MSAL's extended cache key: a hash of the non-standard request fields ("" when none).

    Each field is length-prefixed ("netstring") before hashing, byte for byte as MSAL does, so
    a token cached here with extra request fields is found by ``msal`` given the same fields.
    """
    parts = {k: str(v) for k, v in (data or {}).items() if k not in _EXT_KEY_EXCLUDED and v}
    if not parts:
        return ""
    text = "".join(f"{len(k.encode())}:{k}{len(v.encode())}:{v}" for k, v in sorted(parts.items()))
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii").lower()


def environment_and_realm(token_endpoint: str) -> Tuple[Optional[str], Optional[str]]:
    """(host in lower case, first path segment) of a token endpoint, as MSAL's ``canonicalize``."""
    parts = urlsplit(token_endpoint)
    segments = [s for s in parts.path.split("/") if s]
    return parts.hostname, (segments[0] if segments else None)


def decode_b64_json(text: str) -> Dict[str, Any]:
    """The JSON object inside unpadded base64url ``text`` (a JWT part, Entra's client_info)."""
    try:
        value = strict_json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, TypeError) as error:
        raise ValueError("not base64url-encoded JSON") from error
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def id_token_claims(response: Mapping[str, Any]) -> Dict[str, Any]:
    """The response's validated ``id_token_claims``, else its ID token's payload (not verified).

    Only used to file tokens under the right account, as MSAL does; the flows validate ID tokens.
    """
    claims = response.get("id_token_claims")
    if isinstance(claims, dict):
        return claims
    id_token = response.get("id_token")
    if not isinstance(id_token, str) or id_token.count(".") < 2:
        return {}
    try:
        return decode_b64_json(id_token.split(".")[1])
    except ValueError:
        return {}


def home_account(response: Mapping[str, Any], claims: Mapping[str, Any]) -> Tuple[Dict[str, Any], Optional[str]]:
    """(client_info, home_account_id): Entra's ``uid.utid``, else the ID token's ``sub``."""
    raw = response.get("client_info")
    if isinstance(raw, str):
        try:
            info = decode_b64_json(raw)
        except ValueError:
            info = {}
        if "uid" in info and "utid" in info:
            return info, "{}.{}".format(info["uid"], info["utid"])
    if claims.get("sub"):
        return {"uid": claims["sub"]}, claims["sub"]
    return {}, None  # an app's own token (client credentials)


def _username(claims: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    data = event.get("data") or {}
    return (claims.get("preferred_username") or claims.get("upn") or data.get("username")
            or event.get("username") or "")


def _access_token(base: Entry, event: Mapping[str, Any], target: str, now: int) -> Entry:
    response, data = event.get("response") or {}, event.get("data") or {}
    default_lifetime = int(response["expires_on"]) - now if response.get("expires_on") else 600
    expires_in = int(response.get("expires_in", default_lifetime))  # Entra v1 sends strings
    ext_expires_in = int(response.get("ext_expires_in", expires_in))
    entry = dict(base, credential_type=CredentialType.ACCESS_TOKEN, secret=response["access_token"],
                 target=target, token_type=response.get("token_type", "Bearer"), cached_at=str(now),
                 expires_on=str(now + expires_in), extended_expires_on=str(now + ext_expires_in))
    entry.update({k: data[k] for k in ("key_id", "user_assertion_hash") if data.get(k)})
    ext = ext_cache_key(data)
    if ext:
        entry["ext_cache_key"] = ext
    if "refresh_in" in response:
        entry["refresh_on"] = str(now + int(response["refresh_in"]))
    return entry


def _account(base: Entry, event: Mapping[str, Any], claims: Mapping[str, Any]) -> Entry:
    realm = base["realm"]
    entry = {
        "home_account_id": base["home_account_id"], "environment": base["environment"], "realm": realm,
        "local_account_id": event.get("_account_id", claims.get("oid", claims.get("sub"))),
        "username": _username(claims, event),
        "authority_type": event.get(
            "authority_type", AuthorityType.ADFS if realm == "adfs" else AuthorityType.MSSTS),
    }
    if event.get("grant_type") in ACCOUNT_SOURCE_GRANTS:
        entry["account_source"] = event["grant_type"]
    return _with_provider(entry, base)


def _with_provider(entry: Entry, base: Mapping[str, Any]) -> Entry:
    if PROVIDER_FIELD in base:
        entry[PROVIDER_FIELD] = base[PROVIDER_FIELD]
    return entry


def _refresh_token(base: Entry, event: Mapping[str, Any], target: str, now: int) -> Entry:
    response, data = event.get("response") or {}, event.get("data") or {}
    entry = {"credential_type": CredentialType.REFRESH_TOKEN, "secret": response["refresh_token"],
             "home_account_id": base["home_account_id"], "environment": base["environment"],
             "client_id": base["client_id"], "target": target, "last_modification_time": str(now)}
    _with_provider(entry, base)
    if "foci" in response:
        entry["family_id"] = response["foci"]
    if data.get("user_assertion_hash"):
        entry["user_assertion_hash"] = data["user_assertion_hash"]
    return entry


def entries_from_event(event: Mapping[str, Any], now: int) -> Iterator[Tuple[str, Entry]]:
    """(credential type, entry) for each cache entry a token event yields, in MSAL's order.

    ``event`` is MSAL's: client_id, scope (list), token_endpoint, environment, response (the
    token response, with ``id_token_claims`` once validated and Entra's ``client_info``),
    data (request fields such as ``key_id`` or nbauth's ``user_assertion_hash``), grant_type;
    and nbauth's ``nbauth_provider``, recorded on the user's entries (not on app metadata).
    """
    environment = realm = None
    if event.get("token_endpoint"):
        environment, realm = environment_and_realm(event["token_endpoint"])
    if event.get("environment"):
        environment = event["environment"]
    response = event.get("response") or {}
    claims = id_token_claims(response)
    client_info, home_account_id = home_account(response, claims)
    target = " ".join(sorted(event.get("scope") or []))
    base = {"home_account_id": home_account_id, "environment": environment,
            "client_id": event.get("client_id"), "realm": realm}
    if event.get(PROVIDER_FIELD):
        base[PROVIDER_FIELD] = event[PROVIDER_FIELD]

    if response.get("access_token"):
        yield CredentialType.ACCESS_TOKEN, _access_token(base, event, target, now)
    if client_info and not event.get("skip_account_creation"):
        yield CredentialType.ACCOUNT, _account(base, event, claims)
    if response.get("id_token"):
        yield CredentialType.ID_TOKEN, dict(base, credential_type=CredentialType.ID_TOKEN,
                                            secret=response["id_token"])
    if response.get("refresh_token"):
        yield CredentialType.REFRESH_TOKEN, _refresh_token(base, event, target, now)
    app_metadata = {"client_id": base["client_id"], "environment": environment}
    if "foci" in response:
        app_metadata["family_id"] = response["foci"]
    yield CredentialType.APP_METADATA, app_metadata


def scopes_of(entry: Mapping[str, Any]) -> List[str]:
    """An entry's scopes (its ``target``), lower-cased, for case-insensitive matching."""
    target = entry.get("target")
    return target.lower().split() if isinstance(target, str) else []


def _digest(secret: Any) -> str:
    return hashlib.sha256(str(secret).encode()).hexdigest()[:32]


def is_refused(entry: Mapping[str, Any], scopes: Iterable[str]) -> bool:
    """Whether the provider refused this refresh token (its current secret) for ``scopes``: for
    every scope, or for scopes all among those asked."""
    asked, digest = {s.lower() for s in scopes}, _digest(entry.get("secret"))
    for line in str(entry.get(REFUSED_FIELD) or "").splitlines():
        refused, *refused_scopes = line.split() or [""]
        if refused == digest and set(refused_scopes) <= asked:
            return True
    return False


def with_refusal(entry: Mapping[str, Any], scopes: Iterable[str]) -> str:
    """The refresh token's ``nbauth_refused`` value once its secret is refused for ``scopes``
    (empty: for every scope); lines about earlier secrets go."""
    digest = _digest(entry.get("secret"))
    kept = [line for line in str(entry.get(REFUSED_FIELD) or "").splitlines() if line.split()[:1] == [digest]]
    return "\n".join(kept + [" ".join([digest, *sorted({s.lower() for s in scopes})])])


def expires_on(entry: Mapping[str, Any]) -> int:
    """An access token's expiry in epoch seconds (0, i.e. expired, when unreadable)."""
    try:
        return int(entry.get("expires_on", 0))
    except (TypeError, ValueError):
        return 0


#: Fields of known sections that must be strings (or null) for the entry to be usable.
_STRING_FIELDS = ("home_account_id", "environment", "realm", "client_id", "target", "secret", "credential_type",
                  "token_type", "family_id", "username", "local_account_id", "authority_type", "ext_cache_key",
                  "user_assertion_hash", "key_id", PROVIDER_FIELD, REFUSED_FIELD)
#: Times (epoch seconds, MSAL writes them as strings), required or optional, by section.
_TIME_FIELDS = {
    CredentialType.ACCESS_TOKEN: (("expires_on",), ("cached_at", "refresh_on", "extended_expires_on")),
    CredentialType.REFRESH_TOKEN: ((), ("last_modification_time",)),
}
_SECRET_SECTIONS = (CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN, CredentialType.ID_TOKEN)
_MAX_TIME = 10 ** 11  # seconds since the epoch, about the year 5000


@dataclass
class Reading:
    """A parsed cache document, read as msal reads it: what nbauth cannot use is kept, not refused.

    ``changed``: each known section's usable entries that differ from those already held;
    ``usable``: the keys of every usable entry; ``kept_entries``: entries nbauth cannot use
    (kept as found, written back unchanged); ``kept_sections``: unknown sections, and known
    ones that are not objects, as found; ``problems``: one line naming each part skipped.
    """

    changed: Dict[str, Dict[str, Entry]] = field(default_factory=dict)
    usable: Dict[str, Set[str]] = field(default_factory=dict)
    kept_entries: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    kept_sections: Dict[str, Any] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)


def read_document(document: Any, known: Mapping[str, Mapping[str, Any]]) -> Reading:
    """Read a parsed cache against ``known`` (section name to entries by key, e.g. what memory
    holds; entries equal to those are taken as checked already).

    Raises ValueError only when ``document`` is not a JSON object. A known section that is not
    an object, an entry that is not one, a field of the wrong type, a token without its secret
    or a time that is not a whole number of seconds is kept and named in ``problems``.
    """
    if not isinstance(document, dict):
        raise ValueError(f"a JSON {type(document).__name__}, not an object")
    reading = Reading(kept_sections={k: v for k, v in document.items() if k not in KNOWN_SECTIONS})
    for section in KNOWN_SECTIONS:
        entries = document.get(section, {})
        changed, kept = reading.changed.setdefault(section, {}), reading.kept_entries.setdefault(section, {})
        if not isinstance(entries, dict):
            reading.kept_sections[section] = entries
            reading.problems.append(f"section {section} is not an object")
            entries = {}
        held = known.get(section, {})
        for key, entry in entries.items():
            if key in held and held[key] == entry:
                continue
            problem = entry_problem(section, key, entry)
            if problem:
                kept[key] = entry
                reading.problems.append(problem)
            else:
                changed[key] = entry
        reading.usable[section] = entries.keys() - kept.keys()
    return reading


def entry_problem(section: str, key: str, entry: Any) -> Optional[str]:
    """Why nbauth cannot use ``entry`` of a known ``section`` (None: it can)."""
    if not isinstance(entry, dict):
        return f"entry {key!r} in {section} is not an object"
    try:
        _check_entry(section, key, entry)
    except ValueError as error:
        return str(error)
    return None


def _check_entry(section: str, key: str, entry: Mapping[str, Any]) -> None:
    for name in _STRING_FIELDS:
        if not isinstance(entry.get(name, ""), (str, type(None))):
            raise ValueError(f"field {name} of entry {key!r} in {section} is not a string")
    if section in _SECRET_SECTIONS and not isinstance(entry.get("secret"), str):
        raise ValueError(f"entry {key!r} in {section} has no secret")
    required, optional = _TIME_FIELDS.get(section, ((), ()))
    for name in required + tuple(f for f in optional if entry.get(f) not in (None, "")):
        if not _is_time(entry.get(name)):
            raise ValueError(f"field {name} of entry {key!r} in {section} is not a number")


def _is_time(value: Any) -> bool:
    """Whether ``value`` is a whole number of seconds since the epoch (a string, as MSAL writes it)."""
    try:
        return 0 <= int(value) <= _MAX_TIME
    except (TypeError, ValueError):
        return False
