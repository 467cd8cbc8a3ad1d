"""A fake server's route that hangs until the test lets it answer: a provider that does not answer."""
from __future__ import annotations

import threading
from typing import Callable


def held(server, method: str, path: str, answer: Callable) -> threading.Event:
    """Hold every ``method path`` of ``server`` (a FakeServer) until the returned event is set, then
    answer each with ``answer(request)``."""
    release = threading.Event()

    def respond(request):
        release.wait(60)
        return answer(request)

    server.route(method, path, respond)
    return release
