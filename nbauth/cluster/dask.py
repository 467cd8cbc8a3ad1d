"""Publishing a sign-in's access tokens to Dask workers: ``publish(me, client)``.

Each renewed token goes out as a worker plugin registered under the sign-in's channel name: Dask
runs its ``setup`` on every worker now and on each worker that joins later, and it posts the token
on that worker's board, where tasks in published mode take it. Only access tokens travel.
Importing this module imports ``distributed``.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from distributed import Client, get_client
from distributed.diagnostics.plugin import WorkerPlugin

from .board import Published, board
from .publish import Publication


class TokenPlugin(WorkerPlugin):
    """Posts one published token on each worker's board."""

    def __init__(self, channel: str, published: Published) -> None:
        self.channel, self.published = channel, published

    def setup(self, worker: Any) -> None:
        board().post(self.channel, self.published)

    def __repr__(self) -> str:
        return f"<nbauth TokenPlugin {self.channel} {self.published!r}>"


def publish(provider: Any, client: Optional[Client] = None, *, account: Optional[Mapping[str, Any]] = None,
            scopes: Optional[Sequence[str]] = None) -> Publication:
    """Keep ``provider``'s sign-in (a ``SignIn`` handle, or an application with ``account``)
    fresh on this process and publish each access token to ``client``'s workers (default: the
    current client) until ``stop()``. Tasks get them with the handle, ``NbauthCredential`` or
    ``BearerAuth`` in ``"auto"`` or ``"published"`` mode."""
    client = client or get_client()

    def send(channel: str, published: Published) -> None:
        board().post(channel, published)  # tasks run in this process too (threads, LocalCluster(processes=False))
        client.register_plugin(TokenPlugin(channel, published), name=channel)

    publication = Publication(provider, send, account=account, scopes=scopes)
    publication.on_stop = lambda: client.unregister_worker_plugin(publication.recipe.channel)
    return publication
