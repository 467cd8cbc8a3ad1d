"""Publishing a sign-in's access tokens to Ray workers: ``publish(me)``.

Each renewed token goes to one named actor (``nbauth-tokens``, namespace ``nbauth``). A task in
published mode, in a Ray worker, asks the actor for the latest usable token when its own board has
none, and the actor answers at once or when the next one arrives. Only access tokens travel.
Importing this module imports ``ray``.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Mapping, Optional, Sequence

import ray

from ..clock import system_clock
from .board import Published, board
from .publish import Publication

ACTOR_NAME, NAMESPACE = "nbauth-tokens", "nbauth"


@ray.remote(num_cpus=0)
class TokenActor:
    """The latest publication of each channel, for every worker of the Ray cluster."""

    def __init__(self) -> None:
        self._latest: Dict[str, Published] = {}
        self._changed = asyncio.Condition()

    async def post(self, channel: str, published: Published) -> None:
        async with self._changed:
            current = self._latest.get(channel)
            if current is None or published.serial > current.serial:
                self._latest[channel] = published
                self._changed.notify_all()

    async def latest(self, channel: str, timeout: float) -> Optional[Published]:
        """The latest usable publication, waiting up to ``timeout`` seconds for one."""
        def usable() -> bool:
            found = self._latest.get(channel)
            return found is not None and found.usable(system_clock())

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(usable), timeout)
            except asyncio.TimeoutError:
                pass
            return self._latest.get(channel)


def actor() -> Any:
    """The cluster's token actor (started on first use, kept until the cluster ends)."""
    return TokenActor.options(name=ACTOR_NAME, namespace=NAMESPACE, get_if_exists=True,
                              lifetime="detached").remote()


class ActorFeed:
    """A worker's feed (``workers.add_feed``): the actor's latest publication of a channel."""

    def latest(self, channel: str, timeout: float) -> Optional[Published]:
        return ray.get(actor().latest.remote(channel, timeout))


FEED = ActorFeed()


def publish(provider: Any, *, account: Optional[Mapping[str, Any]] = None,
            scopes: Optional[Sequence[str]] = None) -> Publication:
    """Keep ``provider``'s sign-in fresh on this process and publish each access token to the Ray
    cluster's workers until ``stop()`` (``ray.init()`` first)."""
    tokens = actor()

    def send(channel: str, published: Published) -> None:
        board().post(channel, published)
        ray.get(tokens.post.remote(channel, published))

    return Publication(provider, send, account=account, scopes=scopes)
