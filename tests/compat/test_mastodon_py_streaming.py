"""Client compatibility: Mastodon.py's streaming (it reads the SSE endpoints,
found through the instance's `urls.streaming_api`) against a real holdfast."""
import queue
import time

import pytest

from mastodon import Mastodon, StreamListener

from conftest import sign_up

WAIT_S = 10


class Collect(StreamListener):
    def __init__(self):
        self.events = queue.Queue()

    def on_update(self, status):
        self.events.put(("update", status))

    def on_notification(self, notification):
        self.events.put(("notification", notification))

    def on_delete(self, status_id):
        self.events.put(("delete", status_id))

    def next(self, kind):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                k, v = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if k == kind:
                return v
        raise AssertionError(f"no {kind} from the stream")


@pytest.fixture(scope="module")
def server():
    """A server with a short heartbeat: Mastodon.py's close waits for the next bytes."""
    from conftest import Server, suite_config_with
    s = Server(("--config", suite_config_with(streaming_heartbeat_ms=300)))
    yield s
    s.stop()


def api_for(server, token):
    return Mastodon(api_base_url=server.base_url, access_token=token, version_check_mode="none",
                    request_timeout=30, ratelimit_method="throw")


def test_stream_user_with_a_listener(server):
    alice, bob = sign_up(server), sign_up(server)
    api = api_for(server, alice.token)
    bob_api = api_for(server, bob.token)
    api.account_follow(bob.id)
    listener = Collect()
    handle = api.stream_user(listener, run_async=True, reconnect_async=False)
    try:
        deadline = time.monotonic() + WAIT_S
        while not handle.is_receiving() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.is_receiving()
        posted = bob_api.status_post("streamed to Mastodon.py")
        got = listener.next("update")
        assert str(got.id) == str(posted.id)
        assert got.account.acct == bob.username
        assert got.created_at.tzinfo is not None  # parsed like a REST status
        bob_api.status_post(f"@{alice.username} a mention", visibility="direct")
        note = listener.next("notification")
        assert note.type == "mention" and str(note.account.id) == bob.id
        bob_api.status_delete(posted.id)
        assert str(listener.next("delete")) == str(posted.id)
    finally:
        handle.close()


def test_stream_hashtag_and_public(server):
    alice, bob = sign_up(server), sign_up(server)
    api = api_for(server, alice.token)
    bob_api = api_for(server, bob.token)
    tag_listener, public_listener = Collect(), Collect()
    tag = "mpystream" + bob.username[-6:]
    h1 = api.stream_hashtag(tag, tag_listener, run_async=True, reconnect_async=False)
    h2 = api.stream_public(public_listener, run_async=True, reconnect_async=False, local=True)
    try:
        deadline = time.monotonic() + WAIT_S
        while not (h1.is_receiving() and h2.is_receiving()) and time.monotonic() < deadline:
            time.sleep(0.05)
        posted = bob_api.status_post(f"tagged #{tag}")
        assert str(tag_listener.next("update").id) == str(posted.id)
        assert str(public_listener.next("update").id) == str(posted.id)
    finally:
        h1.close()
        h2.close()
