"""The two libraries behind one small interface, so every benchmark treats them alike.

Both get the same client, authority and ``http_client`` (a :class:`CountingSession`, so every
request either library sends is counted), and the same cache events.
"""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Dict, List, Optional

import requests

from .events import CLIENT_ID

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="response_mode", category=UserWarning)


class CountingSession(requests.Session):
    """A ``requests.Session`` that counts the requests sent through it (both libraries take one)."""

    def __init__(self) -> None:
        super().__init__()
        self._count_lock = threading.Lock()
        self.count = 0
        self.urls: List[str] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        with self._count_lock:
            self.count += 1
            self.urls.append(f"{method} {url}")
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class Library:
    """How a benchmark builds one library's caches and applications."""

    name: str
    memory_cache: Callable[[], Any]
    persisted_cache: Callable[[str], Any]
    app_class: Callable[[], Any]
    distributions: tuple

    def app(self, issuer: str, cache: Any, http_client: Optional[requests.Session] = None) -> Any:
        return self.app_class()(CLIENT_ID, oidc_authority=issuer, token_cache=cache,
                                http_client=http_client or CountingSession())

    def versions(self) -> Dict[str, str]:
        return {name: metadata.version(name) for name in self.distributions}

    def file_writes(self, cache: Any) -> Callable[[], int]:
        """Start counting the file writes of a persisted cache; returns the counter's reader."""
        # msal-extensions has no public seam for its writes: its private persistence object is wrapped
        owner, attribute = (cache.file, "write") if self.name == "nbauth" else (cache._persistence, "save")
        original, calls = getattr(owner, attribute), [0]

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return original(*args, **kwargs)

        setattr(owner, attribute, counted)  # instance attribute: only this cache is counted
        return lambda: calls[0]


def _nbauth_memory() -> Any:
    from nbauth import SerializableTokenCache

    return SerializableTokenCache()


def _nbauth_persisted(path: str) -> Any:
    from nbauth import PersistedTokenCache

    return PersistedTokenCache(path)


def _nbauth_app() -> Any:
    from nbauth import PublicClientApplication

    return PublicClientApplication


def _msal_memory() -> Any:
    import msal

    return msal.SerializableTokenCache()


def _msal_persisted(path: str) -> Any:
    import msal_extensions

    return msal_extensions.PersistedTokenCache(msal_extensions.FilePersistence(path))


def _msal_app() -> Any:
    import msal

    return msal.PublicClientApplication


NBAUTH = Library("nbauth", _nbauth_memory, _nbauth_persisted, _nbauth_app, ("nbauth",))
MSAL = Library("msal", _msal_memory, _msal_persisted, _msal_app, ("msal", "msal-extensions"))
LIBRARIES = (NBAUTH, MSAL)
