"""The published mode without a cluster: what a worker's board holds, and silence after a refusal (the
driver publishes the provider's refusal; workers raise it and nobody sends the refresh token again)."""
import pickle
import time

import pytest

from nbauth import OAuthError, SignInTimeout
from nbauth.cluster.board import Board, Published
from nbauth.cluster.publish import Publication
from support.integrations import SCOPES, signed_in_app

pytestmark = pytest.mark.timeout(60)


def test_after_a_refusal_workers_raise_it_and_no_refresh_is_sent_again(make_idp):
    provider = make_idp()
    offset = [0.0]
    app, account = signed_in_app(provider)
    app.service.clock = lambda: time.time() + offset[0]
    worker, sent = Board(), []

    def send(channel, published):
        sent.append(pickle.dumps(published))  # what would travel to the workers
        worker.post(channel, published)

    publication = Publication(app, send, account=account, scopes=SCOPES)
    try:
        channel = publication.recipe.channel
        assert worker.take(channel, 0).access_token
        provider.revoke_user_refresh_tokens("alice")
        offset[0] = 3600.0  # the driver's token is now expired: its renewal meets the revoked refresh token
        provider.reset_stats()
        publication.publish_now()
        for _ in range(3):
            with pytest.raises(OAuthError) as refused:
                worker.take(channel, 0)
            assert refused.value.error == "invalid_grant"
        publication.publish_now()  # the driver asks again: the cache knows the refusal
    finally:
        publication.stop()
    assert provider.count("refresh_token", "invalid_grant") == 1 and provider.count("refresh_token") == 0
    refresh_tokens = [e["secret"] for e in app.token_cache.search(app.token_cache.CredentialType.REFRESH_TOKEN)]
    assert refresh_tokens and not any(rt.encode() in data for rt in refresh_tokens for data in sent)


def test_a_task_waits_for_the_next_token_once_the_last_expired():
    now = [1000.0]
    board = Board(clock=lambda: now[0])
    board.post("c", Published(1, "first", expires_on=1010.0, cached_at=1000.0))
    assert board.take("c", 0).access_token == "first"
    now[0] = 1009.5  # within the last tenth of its life: counts as expired
    with pytest.raises(SignInTimeout, match="no usable token was published"):
        board.take("c", 0)
    board.post("c", Published(3, "third", expires_on=1020.0, cached_at=1009.0))
    board.post("c", Published(2, "second", expires_on=1015.0, cached_at=1005.0))  # late: an older one
    assert board.take("c", 0).access_token == "third"


def test_published_tokens_print_masked():
    assert "secret-token" not in repr(Published(1, "secret-token", expires_on=1.0))
