"""Access tokens a driver published, as a worker process holds them: ``Published`` and the ``Board``.

A ``Published`` is one access token with its times, or the provider's refusal of the sign-in
(then no token): never a refresh token. Each worker process has one ``board()``; whatever
delivers the driver's tokens (Dask's worker plugin, a Ray actor's answer) posts them there, and
tasks take the latest usable one, waiting for the next when it has expired.
"""
from __future__ import annotations

import threading
from typing import Callable, Dict, NamedTuple, Optional

from ..clock import Clock, system_clock
from ..exceptions import OAuthError, SignInTimeout
from ..integrations.source import Token
from ..protocol.lifecycle import TokenState, TokenTimes
from ..redact import mask


class Published(NamedTuple):
    """One publication: ``serial`` orders them; ``error`` (the provider's refusal) means no token."""

    serial: int
    access_token: str = ""
    expires_on: float = 0.0
    cached_at: Optional[float] = None
    refresh_on: Optional[float] = None
    token_type: str = "Bearer"
    error: Optional[str] = None
    description: str = ""

    def usable(self, now: float) -> bool:
        """A refusal (to be raised), or a token that has not yet expired (less its margin)."""
        if self.error:
            return True
        return TokenTimes.of(self.expires_on, self.cached_at, self.refresh_on).state(now) is not TokenState.EXPIRED

    def token(self) -> Token:
        if self.error:
            raise OAuthError(self.error, self.description)
        return Token(self.access_token, int(self.expires_on), self.token_type,
                     int(self.refresh_on) if self.refresh_on is not None else None)

    def __repr__(self) -> str:
        what = f"error={self.error!r}" if self.error else f"access_token={mask(self.access_token)}"
        return f"Published(serial={self.serial}, {what}, expires_on={self.expires_on})"


#: Fetches the latest publication of a channel from elsewhere (e.g. a Ray actor); None: none yet.
Fetch = Callable[[str, float], Optional[Published]]


class Board:
    """The latest publication of each channel in this process (see the module's docstring)."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._latest: Dict[str, Published] = {}
        self._changed = threading.Condition()

    def post(self, channel: str, published: Published) -> None:
        """Keep ``published`` unless a later one is already here; wakes waiting tasks."""
        with self._changed:
            current = self._latest.get(channel)
            if current is None or published.serial > current.serial:
                self._latest[channel] = published
                self._changed.notify_all()

    def take(self, channel: str, timeout: Optional[float]) -> Token:
        """The latest usable token of ``channel``, waiting up to ``timeout`` seconds for one;
        raises the provider's refusal, or SignInTimeout when none came."""
        with self._changed:
            latest = self._latest.get(channel)
            if latest is None or not latest.usable(self._clock()):
                self._changed.wait_for(lambda: self._usable(channel), timeout)
                latest = self._latest.get(channel)
        if latest is None or not latest.usable(self._clock()):
            raise SignInTimeout(f"no usable token was published for this sign-in within {timeout} s: publish "
                                "it from the driver (nbauth.cluster.dask.publish or nbauth.cluster.ray.publish), "
                                "or let workers read the token cache (mode='shared_cache')")
        return latest.token()

    def has_usable(self, channel: str) -> bool:
        """Whether ``take`` would answer at once."""
        with self._changed:
            return self._usable(channel)

    def _usable(self, channel: str) -> bool:
        latest = self._latest.get(channel)
        return latest is not None and latest.usable(self._clock())


_board = Board()


def board() -> Board:
    """This process's board."""
    return _board
