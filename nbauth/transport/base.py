"""The transport's data types: what a response is, and what an injected client must offer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Protocol

from .. import strict_json

#: The longest answer nbauth reads (token, device, discovery, JWKS, revocation): far more than any
#: real one, so a runaway or hostile server cannot fill memory or the cache.
MAX_BODY_BYTES = 1 << 20


class HttpClient(Protocol):
    """MSAL's injectable ``http_client`` shape; a ``requests.Session`` satisfies it."""

    def get(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None, **kwargs: Any) -> Any: ...

    def post(self, url: str, params: Optional[dict] = None, data: Any = None, headers: Optional[dict] = None,
             **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class HttpResponse:
    """A finished HTTP exchange; header names are matched case-insensitively."""

    status_code: int
    text: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> Optional[str]:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as strict JSON; raises ``ValueError`` when it is not (see ``nbauth.strict_json``)."""
        return strict_json.loads(self.text)
