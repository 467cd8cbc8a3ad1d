"""The driver's side of the published mode: a ``Publication`` sends each renewed access token out.

The process's background refresher keeps the sign-in's token fresh (``keep_fresh``); after each
renewal its listener sends the token now cached to the workers (``send``: a Dask worker plugin, a
Ray actor). When the provider refuses the refresh token, the refusal is sent instead, so workers
raise it and never ask the provider themselves; a new sign-in on the driver, published again
(``publish(...)`` once more), puts tokens back. Only access tokens travel.
"""
from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Mapping, Optional, Sequence

from ..exceptions import ConfigurationError, NbauthError, OAuthError
from ..protocol.status import Outcome
from ..tokens.refresher import RefreshStatus, background_refresher, needs_sign_in
from .board import Published
from .recipe import PUBLISHED, Recipe, recipe_of, signed_in

logger = logging.getLogger("nbauth")

#: Sends one publication of a channel to the workers.
Send = Callable[[str, Published], None]

_serials = itertools.count(1)  # later publications win on a worker, whichever publication sent them


class Publication:
    """One sign-in's access tokens, sent to workers after each renewal until ``stop()``."""

    def __init__(self, provider: Any, send: Send, *, account: Optional[Mapping[str, Any]] = None,
                 scopes: Optional[Sequence[str]] = None) -> None:
        self.recipe: Recipe = recipe_of(provider, account=account, scopes=scopes, mode=PUBLISHED)
        _, self._service, self._account, self._scopes = signed_in(provider, account, scopes)
        if not self._scopes:
            raise ConfigurationError("publishing needs the scopes whose tokens workers use: pass scopes=")
        self._send = send
        #: Called by ``stop()`` (e.g. to withdraw a Dask worker plugin).
        self.on_stop: Optional[Callable[[], None]] = None
        self._lock = threading.Lock()  # one send at a time: the refresher's thread and publish_now
        self.publish_now()
        self._renewal = background_refresher().keep_fresh(self._service, dict(self._account),
                                                          list(self._scopes), self._renewed)

    def publish_now(self) -> Published:
        """Send the token cached now (refreshed first if due), or the provider's refusal."""
        try:
            result = self._service.silent(list(self._scopes), self._account)
        except OAuthError as exc:
            if not needs_sign_in(exc):
                raise
            return self._publish(error=exc.error, description=exc.description or "")
        if result is None:
            return self._publish(error="interaction_required", description="the account's tokens left the cache")
        return self._publish(access_token=str(result.access_token), expires_on=float(result.expires_on),
                             cached_at=self._service.clock(), refresh_on=result.refresh_on,
                             token_type=result.token_type)

    def stop(self) -> None:
        """Stop renewing and sending (workers keep the last token until it expires)."""
        self._renewal.cancel()
        if self.on_stop is not None:
            self.on_stop()

    def _publish(self, **fields: Any) -> Published:
        with self._lock:
            published = Published(next(_serials), **fields)
            self._send(self.recipe.channel, published)
        return published

    def _renewed(self, status: RefreshStatus) -> None:
        """The refresher's listener: send the renewed token, or the refusal."""
        if status.outcome is Outcome.RETRYING:
            return  # the token already sent stays valid meanwhile
        if status.outcome is Outcome.SIGN_IN_NEEDED:
            error = status.error if isinstance(status.error, OAuthError) else None
            self._publish(error=error.error if error else "interaction_required",
                          description=(error.description if error else str(status.error or "")) or "")
            return
        try:
            self.publish_now()
        except NbauthError as exc:  # e.g. the network; the next renewal sends again
            logger.info("could not publish the renewed token (%s)", type(exc).__name__)

    def __repr__(self) -> str:
        return f"<nbauth.cluster.Publication {self.recipe.channel}>"
