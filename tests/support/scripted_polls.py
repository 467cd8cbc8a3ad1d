"""A device-code poll answered from a script (helpers, no tests): the driver's ``redeem`` in the
device-flow tests, with the time of each poll recorded."""
from __future__ import annotations

from nbauth.exceptions import OAuthError


class ScriptedPolls:
    """Answers each poll with the next scripted answer: an exception to raise, an OAuth error code,
    or "token"; then authorization_pending. Records when it was asked."""

    def __init__(self, clock, answers):
        self.clock, self.answers, self.polled_at = clock, list(answers), []

    def __call__(self):
        self.polled_at.append(self.clock())
        answer = self.answers.pop(0) if self.answers else "authorization_pending"
        if answer == "token":
            return {"access_token": "at"}
        if isinstance(answer, Exception):
            raise answer
        raise OAuthError(answer, "from the provider", status=400)
