"""msal's throttling of managed-identity sources: an answer of 429, 5xx or one with Retry-After is
remembered for its Retry-After seconds (5 when it gives none, at most an hour), and a request for
the same URL meanwhile gets that answer again without reaching the source. It is kept in the
client's ``http_cache`` (MSAL's option: any dict-like, which the caller may persist) under
``"nbauth throttled <url>"`` as plain values; a damaged entry is ignored. The URL holds no secret
(the source's secret goes in a header).
"""
from __future__ import annotations

from typing import Any, MutableMapping, Optional

from ..transport import HttpResponse
from ..transport.retry import parse_retry_after

_PREFIX = "nbauth throttled "
DEFAULT_SECONDS, MAX_SECONDS = 5.0, 3600.0


def throttled(mapping: MutableMapping[str, Any], url: str, now: float) -> Optional[HttpResponse]:
    """The answer remembered for ``url``, while it holds."""
    record = mapping.get(_PREFIX + url)
    if not isinstance(record, dict) or not isinstance(record.get("until"), (int, float)) or record["until"] <= now:
        return None
    status, text = record.get("status"), record.get("text")
    if not isinstance(status, int) or not isinstance(text, str):
        return None
    return HttpResponse(status_code=status, text=text, url=url)


def remember(mapping: MutableMapping[str, Any], response: HttpResponse, now: float) -> None:
    """Keep ``response`` for its Retry-After if it throttles (429, 5xx or Retry-After)."""
    header = response.header("Retry-After")
    if response.status_code != 429 and response.status_code < 500 and header is None:
        return
    seconds = parse_retry_after(header, now)
    seconds = DEFAULT_SECONDS if seconds is None else min(MAX_SECONDS, seconds)
    mapping[_PREFIX + response.url] = {"until": now + seconds, "status": response.status_code, "text": response.text}
