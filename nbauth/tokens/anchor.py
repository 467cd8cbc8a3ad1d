"""Entra's ``X-AnchorMailbox`` routing hint on requests for a user's tokens, as msal 1.39 sends it:
``upn:<username>`` with a password or a user federated identity credential, ``Oid:<uid>@<utid>``
when refreshing an account's token (from its ``home_account_id``) or redeeming an authorization
code (from the redirect's ``client_info``), ``Oid:<object id>@<tenant>`` for a user named by
object id. It is a hint: a value that cannot be an ASCII header value is left out.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

from ..cache.schema import decode_b64_json

HEADER = "X-AnchorMailbox"


def anchor_header(value: str) -> Dict[str, str]:
    """The header for ``value``, or none when it is not printable ASCII (no CR/LF injection)."""
    return {HEADER: value} if value.isascii() and value.isprintable() else {}


def by_username(username: str) -> Dict[str, str]:
    return anchor_header(f"upn:{username}")


def by_object_id(user_object_id: str, tenant: str) -> Dict[str, str]:
    return anchor_header(f"Oid:{user_object_id}@{tenant}")


def by_home_account_id(home_account_id: Optional[str]) -> Dict[str, str]:
    """From an account's ``home_account_id`` (Entra's ``uid.utid``), as msal writes it."""
    return anchor_header("Oid:" + home_account_id.replace(".", "@")) if home_account_id else {}


def by_client_info(redirect: Mapping[str, object]) -> Dict[str, str]:
    """From the ``client_info`` of an authorization response (Entra sends it when asked with
    ``client_info=1``); none when it is missing or not Entra's ``{"uid", "utid"}``."""
    raw = redirect.get("client_info")
    try:
        info = decode_b64_json(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    uid, utid = info.get("uid"), info.get("utid")
    return by_object_id(uid, utid) if isinstance(uid, str) and isinstance(utid, str) else {}
