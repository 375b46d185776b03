"""The streaming API (issue 12): SSE endpoints and the WebSocket, raw on the
wire. Events, their Mastodon shapes, who gets them (visibility, blocks,
mutes), the errors, and the bounds (connection caps, subscription cap, slow
consumers, idle sockets, admission, shutdown)."""
import json
import socket
import threading
import time

import pytest
import requests

from conftest import sign_up, unique_name, suite_config_with
from helpers import assert_error, scoped_token, metric
from streamclient import SSE, WS

def follow(a, b):
    r = a.post(f"/api/v1/accounts/{b.id}/follow")
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- plumbing

def test_health_and_instance_urls(server):
    r = requests.get(server.url("/api/v1/streaming/health"), timeout=10)
    assert r.status_code == 200 and r.text == "OK"
    ws_base = "ws://127.0.0.1:%d" % server.port
    assert requests.get(server.url("/api/v1/instance"), timeout=10).json()["urls"]["streaming_api"] == ws_base
    v2 = requests.get(server.url("/api/v2/instance"), timeout=10).json()
    assert v2["configuration"]["urls"]["streaming"] == ws_base


def test_errors_as_mastodon_sends_them(server, alice):
    r = requests.get(server.url("/api/v1/streaming/user"), timeout=10)
    assert_error(r, 401)
    assert r.json()["error"] == "Missing access token"
    r = requests.get(server.url("/api/v1/streaming/user"), headers={"Authorization": "Bearer nope"}, timeout=10)
    assert_error(r, 401)
    assert r.json()["error"] == "Invalid access token"
    r = alice.get("/api/v1/streaming/nonsense")
    assert_error(r, 400)
    r = alice.get("/api/v1/streaming/hashtag")
    assert_error(r, 400)
    assert r.json()["error"] == "No tag for stream provided"
    r = alice.get("/api/v1/streaming", params={"stream": "bogus"})
    assert_error(r, 400)
    assert r.json()["error"] == "Unknown stream type"
    # Scopes as Mastodon checks them: read:notifications is enough for the
    # notification stream, not for the home stream; public streams take any token.
    notes_only = scoped_token(server, alice, "read:notifications")
    r = requests.get(server.url("/api/v1/streaming/user"), headers={"Authorization": f"Bearer {notes_only}"},
                     timeout=10)
    assert_error(r, 401)
    assert r.json()["error"] == "Access token does not have the required scopes"
    ok = SSE(server, "/api/v1/streaming/user/notification", notes_only)
    assert ok.status == 200
    ok.close()
    write_only = scoped_token(server, alice, "write")
    pub = SSE(server, "/api/v1/streaming/public", write_only)
    assert pub.status == 200
    pub.close()
    # A WebSocket without a token is refused before the upgrade.
    ws = WS(server)
    assert ws.status == 401 and ws.json()["error"] == "Missing access token"


# ---------------------------------------------------------------- SSE

def test_sse_user_stream_update_delete_notification(server, alice, bob, carol):
    follow(alice, bob)
    s = SSE(server, "/api/v1/streaming/user", alice.token)
    assert s.status == 200
    assert s.response.headers["content-type"].startswith("text/event-stream")
    posted = bob.status("live from bob")
    kind, data = s.next({"update"})
    status = json.loads(data)
    assert status["id"] == posted["id"] and status["account"]["id"] == bob.id
    assert status["content"] == posted["content"]
    # Favourites render for the viewer, like the REST API.
    assert status["favourited"] is False
    # A mention notifies.
    carol.status(f"hey @{alice.username}")
    kind, data = s.next({"notification"})
    note = json.loads(data)
    assert note["type"] == "mention" and note["account"]["id"] == carol.id
    # A favourite of alice's own post notifies; her own post is in her home stream.
    mine = alice.status("mine")
    kind, data = s.next({"update"})
    assert json.loads(data)["id"] == mine["id"]
    assert bob.post(f"/api/v1/statuses/{mine['id']}/favourite").status_code == 200
    kind, data = s.next({"notification"})
    note = json.loads(data)
    assert note["type"] == "favourite" and note["status"]["id"] == mine["id"]
    # Deleting announces the bare id.
    assert bob.delete(f"/api/v1/statuses/{posted['id']}").status_code == 200
    kind, data = s.next({"delete"})
    assert data == posted["id"]
    s.close()


def test_sse_notification_stream_has_only_notifications(server, alice, bob):
    follow(alice, bob)
    s = SSE(server, "/api/v1/streaming/user/notification", alice.token)
    bob.status("not for the notification stream")
    follow(bob, alice)
    kind, data = s.next({"update", "notification"})
    assert kind == "notification"
    assert json.loads(data)["type"] == "follow"
    s.close()


def test_sse_heartbeat(make_server):
    srv = make_server("--config", suite_config_with(streaming_heartbeat_ms=200))
    a = sign_up(srv)
    s = SSE(srv, "/api/v1/streaming/public", a.token)
    comments = []
    deadline = time.monotonic() + 5
    while len([c for c in comments if c == "thump"]) < 2 and time.monotonic() < deadline:
        kind, data = s.events.get(timeout=5)
        if kind == "comment":
            comments.append(data)
    assert comments.count("thump") >= 2, comments
    s.close()


def test_sse_public_and_hashtag(server, alice, bob):
    tag = unique_name("tag")
    pub = SSE(server, "/api/v1/streaming/public/local", alice.token)
    tagged = SSE(server, "/api/v1/streaming/hashtag", alice.token, params={"tag": tag.upper()})
    local_tag = SSE(server, "/api/v1/streaming/hashtag/local", alice.token, params={"tag": tag})
    remote = SSE(server, "/api/v1/streaming/public/remote", alice.token)
    unlisted = bob.status("quiet", visibility="unlisted")
    plain = bob.status("no tag here")
    with_tag = bob.status(f"about #{tag}")
    # public: unlisted never, plain and tagged in order
    assert json.loads(pub.next({"update"})[1])["id"] == plain["id"]
    assert json.loads(pub.next({"update"})[1])["id"] == with_tag["id"]
    assert json.loads(tagged.next({"update"})[1])["id"] == with_tag["id"]
    assert json.loads(local_tag.next({"update"})[1])["id"] == with_tag["id"]
    # Nothing is remote here.
    with pytest.raises(AssertionError):
        remote.next({"update"}, timeout=1)
    assert unlisted["id"] not in (plain["id"], with_tag["id"])
    for s in (pub, tagged, local_tag, remote):
        s.close()


# ---------------------------------------------------------------- visibility

def test_visibility_private_blocked_muted_never_streamed(server):
    viewer, follower_only, stranger, blocked, muted, marker = (sign_up(server) for _ in range(6))
    follow(viewer, follower_only)
    follow(viewer, blocked)
    follow(viewer, muted)
    assert viewer.post(f"/api/v1/accounts/{blocked.id}/block").status_code == 200
    assert viewer.post(f"/api/v1/accounts/{muted.id}/mute").status_code == 200
    follow(viewer, marker)
    home = SSE(server, "/api/v1/streaming/user", viewer.token)
    ws = WS(server, viewer.token, "?stream=public")
    assert ws.status == 101
    ws.subscribe("user")
    time.sleep(0.3)
    leaks = [
        stranger.status("private, viewer does not follow", visibility="private"),
        stranger.status(f"direct to someone else", visibility="direct"),
        blocked.status("blocked author"),
        muted.status("muted author"),
        follower_only.status("unlisted from followed", visibility="unlisted"),
    ]
    # A private post of someone the viewer follows does reach the home stream.
    allowed = follower_only.status("private for followers", visibility="private")
    last = marker.status("marker: everything before this was decided")
    got_home = []
    while True:
        kind, data = home.next({"update"})
        got_home.append(json.loads(data)["id"])
        if got_home[-1] == last["id"]:
            break
    got_ws = []
    while True:
        m = ws.next({"update"})
        got_ws.append((m["stream"][0], json.loads(m["payload"])["id"]))
        if got_ws[-1] == ("public", last["id"]):
            break
    leaked = {s["id"] for s in leaks[:4]}
    assert not leaked & set(got_home), got_home
    assert not leaked & {i for _, i in got_ws}, got_ws
    assert allowed["id"] in got_home
    assert leaks[4]["id"] in got_home  # unlisted reaches followers' home …
    assert ("public", leaks[4]["id"]) not in got_ws  # … but not the public stream
    assert ("public", allowed["id"]) not in got_ws
    home.close()
    ws.close()


def test_direct_stream_conversation(server, alice, bob, carol):
    d = SSE(server, "/api/v1/streaming/direct", alice.token)
    other = SSE(server, "/api/v1/streaming/direct", carol.token)
    dm = bob.status(f"@{alice.username} psst", visibility="direct")
    kind, data = d.next({"conversation"})
    conv = json.loads(data)
    assert conv["last_status"]["id"] == dm["id"]
    assert [a["id"] for a in conv["accounts"]] == [bob.id]
    assert conv["unread"] is True
    with pytest.raises(AssertionError):
        other.next({"conversation"}, timeout=1)
    d.close()
    other.close()


# ---------------------------------------------------------------- WebSocket

def test_websocket_token_by_header_protocol_and_query(server, alice, bob):
    follow(alice, bob)
    by_header = WS(server, alice.token, "?stream=user")
    by_query = WS(server, None, f"?stream=user&access_token={alice.token}")
    by_protocol = WS(server, None, "?stream=user", protocol=alice.token)
    assert by_header.status == by_query.status == by_protocol.status == 101
    # The token offered as the subprotocol is echoed back, as browsers require.
    assert by_protocol.headers.get("sec-websocket-protocol") == alice.token
    posted = bob.status("to three sockets")
    for ws in (by_header, by_query, by_protocol):
        m = ws.next({"update"})
        assert m["stream"] == ["user"]
        assert isinstance(m["payload"], str)
        assert json.loads(m["payload"])["id"] == posted["id"]
        ws.close()
    bad = WS(server, None, "?stream=user", protocol="not-a-token")
    assert bad.status == 401


def test_websocket_subscribe_unsubscribe_several_streams(server, alice, bob):
    tag = unique_name("wstag")
    ws = WS(server, alice.token)
    assert ws.status == 101
    ws.subscribe("public:local")
    ws.subscribe("hashtag", tag=tag)
    ws.subscribe("user:notification")
    ws.send("this is not json")  # ignored, as Mastodon does
    ws.subscribe("no-such-stream")
    err = ws.next()
    assert err == {"error": "Unknown stream type", "status": 400}
    ws.subscribe("hashtag")
    assert ws.next() == {"error": "No tag for stream provided", "status": 400}
    s = bob.status(f"both #{tag}")
    first, second = ws.next({"update"}), ws.next({"update"})
    assert sorted([first["stream"], second["stream"]]) == sorted([["public:local"], ["hashtag", tag]])
    follow(bob, alice)
    note = ws.next({"notification"})
    assert note["stream"] == ["user:notification"]
    assert json.loads(note["payload"])["type"] == "follow"
    assert bob.delete(f"/api/v1/statuses/{s['id']}").status_code == 200
    deletes = [ws.next({"delete"}), ws.next({"delete"})]
    assert {m["payload"] for m in deletes} == {s["id"]}
    # After unsubscribing, public posts no longer arrive (the hashtag still does).
    ws.unsubscribe("public:local")
    time.sleep(0.3)
    bob.status("public only")
    t = bob.status(f"tag only #{tag}")
    m = ws.next({"update"})
    assert m["stream"] == ["hashtag", tag] and json.loads(m["payload"])["id"] == t["id"]
    ws.close()


def test_websocket_reblog_reaches_followers(server, alice, bob, carol):
    follow(alice, bob)
    ws = WS(server, alice.token, "?stream=user")
    original = carol.status("boost me")
    r = bob.post(f"/api/v1/statuses/{original['id']}/reblog")
    assert r.status_code == 200
    m = ws.next({"update"})
    payload = json.loads(m["payload"])
    assert payload["reblog"]["id"] == original["id"]
    assert payload["account"]["id"] == bob.id
    # Undoing the reblog deletes it: the reblog's own id is announced.
    assert bob.post(f"/api/v1/statuses/{original['id']}/unreblog").status_code == 200
    assert ws.next({"delete"})["payload"] == payload["id"]
    # Deleting the original takes its reblogs along: each is announced.
    again = json.loads(bob.post(f"/api/v1/statuses/{original['id']}/reblog").text)
    assert json.loads(ws.next({"update"})["payload"])["id"] == again["id"]
    assert carol.delete(f"/api/v1/statuses/{original['id']}").status_code == 200
    assert ws.next({"delete"})["payload"] == again["id"]
    ws.close()


# ---------------------------------------------------------------- bounds

def test_connection_and_subscription_caps(make_server):
    srv = make_server("--config", suite_config_with(streaming_connections_per_account_max=2,
                                              streaming_subscriptions_per_connection_max=2,
                                              retry_after_s=3))
    a = sign_up(srv)
    s1 = SSE(srv, "/api/v1/streaming/public", a.token)
    w1 = WS(srv, a.token)
    assert s1.status == 200 and w1.status == 101
    r = requests.get(srv.url("/api/v1/streaming/public"), headers={"Authorization": f"Bearer {a.token}"},
                     timeout=10)
    assert_error(r, 429)
    # The one Retry-After policy (`retry_after_s` when the wait is unknown).
    assert r.headers.get("Retry-After") == "3"
    w2 = WS(srv, a.token)
    assert w2.status == 429
    assert metric(srv, "holdfast_streaming_refused_total", reason="per_account") == 2
    assert metric(srv, "holdfast_streaming_connections", transport="sse") == 1
    assert metric(srv, "holdfast_streaming_connections", transport="websocket") == 1
    w1.subscribe("public")
    w1.subscribe("public:local")
    w1.subscribe("public:media")
    assert w1.next() == {"error": "Too many subscriptions", "status": 429}
    assert metric(srv, "holdfast_streaming_subscriptions") == 3  # 1 SSE + 2 on the socket
    # Closing frees the slot.
    s1.close()
    deadline = time.monotonic() + 5
    while metric(srv, "holdfast_streaming_connections", transport="sse") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # (the SSE slot goes when hyper drops the body)
    deadline = time.monotonic() + 5
    while True:
        again = SSE(srv, "/api/v1/streaming/public", a.token)
        if again.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert again.status == 200
    again.close()
    w1.close()


def test_per_address_cap(make_server):
    srv = make_server("--config", suite_config_with(streaming_connections_per_ip_max=2))
    a, b = sign_up(srv), sign_up(srv)
    s1 = SSE(srv, "/api/v1/streaming/public", a.token)
    s2 = SSE(srv, "/api/v1/streaming/public", b.token)
    assert s1.status == s2.status == 200
    r = requests.get(srv.url("/api/v1/streaming/public"), headers={"Authorization": f"Bearer {a.token}"},
                     timeout=10)
    assert_error(r, 429)
    assert "address" in r.json()["error"]
    # REST calls from the same address are not affected.
    assert a.get("/api/v1/timelines/public").status_code == 200
    s1.close()
    s2.close()


def test_streams_do_not_hold_admission_or_request_timeout(make_server):
    # Two admission slots and a 1 s request budget; six open streams; requests
    # still pass, and a stream outlives the request timeout.
    srv = make_server("--config", suite_config_with(admission_initial_concurrency=2, admission_min_concurrency=1,
                                              admission_max_concurrency=2, request_timeout_ms=1000,
                                              pg_write_retry_window_ms=500))
    a, b = sign_up(srv), sign_up(srv)
    streams = [SSE(srv, "/api/v1/streaming/public", a.token) for _ in range(3)]
    sockets = [WS(srv, a.token, "?stream=public") for _ in range(3)]
    assert all(s.status == 200 for s in streams) and all(w.status == 101 for w in sockets)
    for _ in range(5):
        assert b.get("/api/v1/timelines/public").status_code == 200
    time.sleep(1.5)
    posted = b.status("after the request timeout")
    for s in streams:
        assert json.loads(s.next({"update"})[1])["id"] == posted["id"]
    for w in sockets:
        assert json.loads(w.next({"update"})["payload"])["id"] == posted["id"]
        w.close()
    for s in streams:
        s.close()


def test_websocket_idle_timeout_and_pong(make_server):
    srv = make_server("--config", suite_config_with(streaming_heartbeat_ms=200, streaming_idle_timeout_ms=700))
    a = sign_up(srv)
    silent = WS(srv, a.token, "?stream=public", auto_pong=False)
    answering = WS(srv, a.token, "?stream=public")
    assert silent.closed.wait(5), "an idle socket was not closed"
    assert silent.close_frame == (1000, "idle timeout")
    assert silent.pings >= 2
    time.sleep(0.5)
    assert not answering.closed.is_set(), "a socket answering pings was closed"
    assert metric(srv, "holdfast_streaming_dropped_total", reason="idle") == 1
    answering.close()


# How long a test waits, after its last post, for a stalled stream to be cut:
# write timeouts are counted in time, not in posts, and posting got fast
# enough (session 13) that 400 posts could end inside a 1 s timeout.
STALL_SETTLE_S = 10


def _post_until(poster, text, done, max_posts):
    """Posts until `done()`, at most `max_posts`, then waits up to
    STALL_SETTLE_S for it; returns how many posts were made."""
    for i in range(max_posts):
        r = poster.post("/api/v1/statuses", json={"status": f"{i} {text}"})
        assert r.status_code == 200, r.text
        if i % 5 == 4 and done():
            return i + 1
    deadline = time.monotonic() + STALL_SETTLE_S
    while time.monotonic() < deadline:
        if done():
            return max_posts
        time.sleep(0.1)
    raise AssertionError(f"no drop after {max_posts} posts and {STALL_SETTLE_S} s")


def _raw_sse_not_reading(srv, token):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", srv.port))
    sock.sendall((f"GET /api/v1/streaming/public HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n").encode())
    return sock


def _stream_slot_free(srv, token):
    """Whether `token`'s account may open a stream now (tests cap it at one)."""
    r = requests.get(srv.url("/api/v1/streaming/public"), stream=True, timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    r.close()
    return r.status_code == 200


def _stall_until_slot_free(srv, reader, poster):
    """Opens `reader`'s one stream on a socket that never reads, then has
    `poster` post large statuses until that stream's slot is free again."""
    sock = _raw_sse_not_reading(srv, reader.token)
    try:
        time.sleep(0.3)
        assert not _stream_slot_free(srv, reader.token), "one stream per account: the stalled one holds it"
        # Large posts fill the socket buffers and the stream's send budget.
        _post_until(poster, "w" * 50000, lambda: _stream_slot_free(srv, reader.token), 400)
    finally:
        sock.close()


def test_a_stalled_sse_client_dropped_as_slow_consumer_frees_its_slot_at_once(make_server):
    # Before: the drop ended the response's body, which hyper polls only once
    # the client takes bytes again; a client that never does kept its stream
    # slot until the write timeout (30 s by default) cut the connection. The
    # write timeout here is a minute, so only the drop itself can free the slot.
    srv = make_server("--config", suite_config_with(
        streaming_send_buffer_bytes=64 * 1024, status_max_chars=60000,
        request_body_max_bytes=1024 * 1024, streaming_connections_per_account_max=1,
        write_stall_timeout_ms=60000))
    _stall_until_slot_free(srv, sign_up(srv), sign_up(srv))
    assert metric(srv, "holdfast_streaming_dropped_total", reason="slow_consumer") >= 1
    assert metric(srv, "holdfast_guard_connection_refusals_total", reason="write_stall") == 0


def test_slow_sse_consumer_is_dropped_memory_bounded(make_server):
    budget = 64 * 1024
    srv = make_server("--config", suite_config_with(streaming_send_buffer_bytes=budget, status_max_chars=60000,
                                              request_body_max_bytes=1024 * 1024))
    a, b = sign_up(srv), sign_up(srv)
    sock = _raw_sse_not_reading(srv, a.token)
    fast = SSE(srv, "/api/v1/streaming/public", a.token)  # a healthy neighbour keeps up
    time.sleep(0.3)
    text = "x" * 50000
    posts = _post_until(b, text, lambda: metric(srv, "holdfast_streaming_dropped_total",
                                                reason="slow_consumer") >= 1, 400)
    assert metric(srv, "holdfast_streaming_queued_bytes") <= 2 * budget
    # The neighbour got every post.
    for _ in range(posts):
        fast.next({"update"})
    # The slow client, reading now, finds its stream ended, not endless.
    sock.settimeout(10)
    total = 0
    ended = False
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                ended = True
                break
            total += len(chunk)
    except ConnectionResetError:
        ended = True
    except socket.timeout:
        pass
    assert ended, f"the slow consumer's stream was still open after {total} bytes"
    assert total < posts * 60000
    sock.close()
    fast.close()


def test_slow_websocket_consumer_is_dropped(make_server):
    budget = 64 * 1024
    srv = make_server("--config", suite_config_with(streaming_send_buffer_bytes=budget, status_max_chars=60000,
                                              request_body_max_bytes=1024 * 1024,
                                              streaming_write_timeout_ms=1000))
    a, b = sign_up(srv), sign_up(srv)
    # A client that never reads: no reader thread, a small receive buffer.
    ws = WS(srv, a.token, "?stream=public", read=False, rcvbuf=4096)
    assert ws.status == 101
    text = "y" * 50000

    def dropped():
        return (metric(srv, "holdfast_streaming_dropped_total", reason="slow_consumer")
                + metric(srv, "holdfast_streaming_dropped_total", reason="write_timeout")) >= 1

    _post_until(b, text, dropped, 400)
    assert metric(srv, "holdfast_streaming_queued_bytes") <= 2 * budget
    deadline = time.monotonic() + 15
    while metric(srv, "holdfast_streaming_connections", transport="websocket") != 0:
        assert time.monotonic() < deadline, "the slow socket was not dropped"
        time.sleep(0.2)
    ws.close()


def test_shutdown_closes_streams_with_reason(make_server):
    srv = make_server()
    a = sign_up(srv)
    ws = WS(srv, a.token, "?stream=public")
    s = SSE(srv, "/api/v1/streaming/public", a.token)
    assert ws.status == 101 and s.status == 200
    started = time.monotonic()
    srv.proc.terminate()
    assert ws.closed.wait(8)
    assert ws.close_frame == (1001, "server shutting down")
    assert s.ended.wait(8)
    srv.proc.wait(10)
    assert time.monotonic() - started < 8, "streams held up the shutdown"


def test_query_token_stream_bypasses_the_anonymous_cache(make_server):
    # With `?access_token=` the guard sees no Authorization header (an
    # anonymous GET); a stream must still never be cached or buffered.
    srv = make_server("--config", suite_config_with(anon_cache_ttl_ms=5000))
    a, b = sign_up(srv), sign_up(srv)
    first = SSE(srv, "/api/v1/streaming/public", params={"access_token": a.token})
    second = SSE(srv, "/api/v1/streaming/public", params={"access_token": a.token})
    assert first.status == second.status == 200
    posted = b.status("live, not cached")
    for s in (first, second):
        assert json.loads(s.next({"update"})[1])["id"] == posted["id"]
        s.close()


def test_a_flood_of_upgrades_is_rate_limited(make_server):
    # Streams skip admission, not the rate limits: a flood of WebSocket
    # upgrades with one token runs into the per-token budget like any flood.
    srv = make_server("--config", suite_config_with(rate_token_requests=5))
    a = sign_up(srv)
    opened, refused = [], None
    for _ in range(10):
        ws = WS(srv, a.token, "?stream=public")
        if ws.status != 101:
            refused = ws
            break
        opened.append(ws)
    assert refused is not None and refused.status == 429, "no upgrade was refused"
    assert refused.json()["error"] == "Too many requests"
    assert 1 <= len(opened) <= 5
    assert metric(srv, "holdfast_streaming_slots") == len(opened)
    for ws in opened:
        ws.close()


def test_revoked_token_and_suspended_account_end_their_streams(make_server):
    srv = make_server("--config", suite_config_with(streaming_token_recheck_ms=200))
    a, b = sign_up(srv), sign_up(srv)
    ws = WS(srv, a.token, "?stream=public")
    sse = SSE(srv, "/api/v1/streaming/public", a.token)
    kept = WS(srv, b.token, "?stream=public")
    assert ws.status == 101 and sse.status == 200 and kept.status == 101
    r = requests.post(srv.url("/oauth/revoke"), data={"token": a.token, "client_id": a.app["client_id"],
                                                       "client_secret": a.app["client_secret"]}, timeout=10)
    assert r.status_code == 200, r.text
    assert ws.closed.wait(5) and ws.close_frame == (1008, "access token revoked")
    assert sse.ended.wait(5)
    assert not kept.closed.is_set()
    # Suspending an account (operator CLI, another process) ends its streams too.
    res = srv.cli("user", "suspend", b.username)
    assert res.returncode == 0, res.stderr
    assert kept.closed.wait(5) and kept.close_frame == (1008, "access token revoked")
    assert metric(srv, "holdfast_streaming_dropped_total", reason="revoked") == 3


def test_public_stream_shares_one_answer_per_event_yet_decides_per_viewer(server):
    """Public and hashtag subscribers share the per-event answers (is the post
    public, who hides its author); each still gets exactly what its REST
    public timeline would show."""
    author, plain, muter, blocked_by_author, marker = (sign_up(server) for _ in range(5))
    assert muter.post(f"/api/v1/accounts/{author.id}/mute").status_code == 200
    assert author.post(f"/api/v1/accounts/{blocked_by_author.id}/block").status_code == 200
    tag = unique_name("shared")
    streams = {v.username: (SSE(server, "/api/v1/streaming/public", v.token),
                            SSE(server, "/api/v1/streaming/hashtag", v.token, params={"tag": tag}))
               for v in (plain, muter, blocked_by_author)}
    time.sleep(0.3)
    posted = author.status(f"for everyone but two #{tag}")
    last = marker.status(f"marker #{tag}")
    for v in (plain, muter, blocked_by_author):
        for s in streams[v.username]:
            seen = []
            while not seen or seen[-1] != last["id"]:
                seen.append(json.loads(s.next({"update"})[1])["id"])
            assert (posted["id"] in seen) == (v is plain), (v.username, seen)
            # The REST public timeline agrees with the stream.
            rest = [x["id"] for x in v.get("/api/v1/timelines/public", params={"limit": 40}).json()]
            assert (posted["id"] in rest) == (v is plain)
            s.close()


# ---------------------------------------------------------------- filters_changed (filters engineer's event)

def test_filters_changed_on_user_streams_without_payload(server, alice, bob):
    sse = SSE(server, "/api/v1/streaming/user", alice.token)
    ws = WS(server, alice.token, "?stream=user")
    notes = SSE(server, "/api/v1/streaming/user/notification", alice.token)
    other = WS(server, bob.token, "?stream=user")
    assert ws.status == 101 and other.status == 101
    time.sleep(0.3)
    r = alice.post("/api/v2/filters", json={"title": "spoilers", "context": ["home"],
                                             "keywords_attributes": [{"keyword": "spoiler"}]})
    assert r.status_code == 200, r.text
    kind, data = sse.next({"filters_changed"})
    assert data in ("", "undefined")
    m = ws.next({"filters_changed"})
    assert m["stream"] == ["user"] and "payload" not in m
    # Changing and removing announce it too.
    fid = r.json()["id"]
    assert alice.put(f"/api/v2/filters/{fid}", json={"title": "spoilers!"}).status_code == 200
    ws.next({"filters_changed"})
    assert alice.delete(f"/api/v2/filters/{fid}").status_code == 200
    ws.next({"filters_changed"})
    # Only the user stream hears it, and only the owner's.
    with pytest.raises(AssertionError):
        notes.next({"filters_changed"}, timeout=1)
    with pytest.raises(AssertionError):
        other.next({"filters_changed"}, timeout=1)
    for s in (sse, ws, notes, other):
        s.close()


def test_streams_apply_the_viewers_filters_like_the_rest_timelines(server, alice, bob, carol):
    """A `hide` filter keeps a status out of the streams of its context; a
    `warn` filter sends it with `filtered`; others get the shared rendering."""
    word = unique_name("spoil")
    follow(alice, bob)
    assert alice.post("/api/v2/filters", json={
        "title": "hide", "context": ["home", "public"], "filter_action": "hide",
        "keywords_attributes": [{"keyword": word}]}).status_code == 200
    assert carol.post("/api/v2/filters", json={
        "title": "warn", "context": ["public"], "filter_action": "warn",
        "keywords_attributes": [{"keyword": word}]}).status_code == 200
    hidden_home = SSE(server, "/api/v1/streaming/user", alice.token)
    hidden_public = WS(server, alice.token, "?stream=public")
    warned = SSE(server, "/api/v1/streaming/public", carol.token)
    plain = SSE(server, "/api/v1/streaming/public", bob.token)
    assert hidden_public.status == 101
    time.sleep(0.3)
    spoiler = bob.status(f"the butler did it {word}")
    last = bob.status("nothing to hide here")
    got = json.loads(warned.next({"update"})[1])
    assert got["id"] == spoiler["id"]
    assert [r["filter"]["title"] for r in got["filtered"]] == ["warn"]
    got = json.loads(plain.next({"update"})[1])
    assert got["id"] == spoiler["id"] and got.get("filtered", []) == []
    for stream_next in (lambda: json.loads(hidden_home.next({"update"})[1])["id"],
                        lambda: json.loads(hidden_public.next({"update"})["payload"])["id"]):
        assert stream_next() == last["id"], "the hidden status was streamed"
    # The REST timelines agree.
    assert spoiler["id"] not in [s["id"] for s in alice.get("/api/v1/timelines/home").json()]
    for s in (hidden_home, hidden_public, warned, plain):
        s.close()


# ---------------------------------------------------------------- status.update (posts engineer's event)

def test_status_update_reaches_home_public_and_hashtag_streams_raw(server, alice, bob, carol):
    """An edit is announced as `status.update` with the edited Status (JSON
    string payload), on SSE and WebSocket alike, to those who may see it."""
    follow(alice, bob)
    tag = unique_name("edit")
    home = SSE(server, "/api/v1/streaming/user", alice.token)
    ws = WS(server, alice.token, "?stream=public")
    assert ws.status == 101
    ws.subscribe("hashtag", tag=tag)
    stranger_home = SSE(server, "/api/v1/streaming/user", carol.token)
    time.sleep(0.3)
    posted = bob.status(f"first words #{tag}")
    assert json.loads(home.next({"update"})[1])["id"] == posted["id"]
    r = bob.put(f"/api/v1/statuses/{posted['id']}", json={"status": f"second words #{tag}"})
    assert r.status_code == 200, r.text
    kind, data = home.next({"status.update"})
    edited = json.loads(data)
    assert edited["id"] == posted["id"] and "second words" in edited["content"]
    assert edited["edited_at"] is not None
    seen = set()
    while seen != {"public", "hashtag"}:
        m = ws.next({"status.update"})
        assert isinstance(m["payload"], str)
        assert json.loads(m["payload"])["id"] == posted["id"]
        seen.add(m["stream"][0])
    # carol does not follow bob: nothing of it in her home stream.
    with pytest.raises(AssertionError):
        stranger_home.next({"update", "status.update"}, timeout=1)
    for s in (home, ws, stranger_home):
        s.close()


def test_status_update_of_a_private_post_only_to_followers(server, alice, bob, carol):
    follow(alice, bob)
    a = SSE(server, "/api/v1/streaming/user", alice.token)
    c = WS(server, carol.token, "?stream=public")
    assert c.status == 101
    time.sleep(0.3)
    private = bob.status("for followers", visibility="private")
    assert bob.put(f"/api/v1/statuses/{private['id']}", json={"status": "for followers, edited"}).status_code == 200
    assert json.loads(a.next({"status.update"})[1])["id"] == private["id"]
    with pytest.raises(AssertionError):
        c.next({"update", "status.update"}, timeout=1)
    a.close()
    c.close()


# ---------------------------------------------------------------- conversation, raw on both transports

def test_conversation_event_on_sse_and_websocket_alike(server):
    """A direct message is announced on the `direct` stream as `conversation`
    with the Conversation the REST list has (a JSON string payload), over SSE
    and the WebSocket alike; a reply announces it again; no one else hears it."""
    a, b, outsider = sign_up(server), sign_up(server), sign_up(server)
    sse = SSE(server, "/api/v1/streaming/direct", b.token)
    ws = WS(server, b.token, "?stream=direct")
    outsider_ws = WS(server, outsider.token)
    assert ws.status == 101 and outsider_ws.status == 101
    outsider_ws.subscribe("direct")
    outsider_ws.subscribe("public")
    time.sleep(0.3)
    dm = a.status(f"@{b.username} by every transport", visibility="direct")
    kind, data = sse.next({"conversation"})
    by_sse = json.loads(data)
    m = ws.next({"conversation"})
    assert m["stream"] == ["direct"]
    assert isinstance(m["payload"], str), "the payload is a JSON string, as Mastodon sends it"
    by_ws = json.loads(m["payload"])
    listed = b.get("/api/v1/conversations").json()[0]
    for event in (by_sse, by_ws):
        assert event["id"] == listed["id"]
        assert event["last_status"]["id"] == dm["id"]
        assert event["unread"] is True
        assert [x["id"] for x in event["accounts"]] == [a.id]
    # Read, then answered: the conversation comes again, unread, with the new last status.
    assert b.post(f"/api/v1/conversations/{listed['id']}/read").status_code == 200
    reply = a.status(f"@{b.username} and again", visibility="direct", in_reply_to_id=dm["id"])
    again = json.loads(ws.next({"conversation"})["payload"])
    assert again["id"] == listed["id"]
    assert again["last_status"]["id"] == reply["id"] and again["unread"] is True
    assert json.loads(sse.next({"conversation"})[1])["last_status"]["id"] == reply["id"]
    # A direct message is on no one else's stream, and never on a public one.
    with pytest.raises(AssertionError):
        outsider_ws.next({"conversation", "update"}, timeout=1)
    for s in (sse, ws, outsider_ws):
        s.close()


# ---------------------------------------------------------------- reconnect, then refetch

def _timeline_since(client, path, since_id, pages_max=10):
    """Every status newer than `since_id`, oldest first, walking `min_id` pages."""
    got, cursor = [], since_id
    for _ in range(pages_max):
        page = client.get(path, params={"min_id": cursor, "limit": 40}).json()
        if not page:
            return got
        page.sort(key=lambda s: int(s["id"]))
        got += page
        cursor = page[-1]["id"]
    raise AssertionError(f"more than {pages_max} pages since {since_id}")


def test_reconnect_then_refetch_fills_the_gap_without_replays(server, alice, bob):
    """Mastodon's convention: a stream does not replay what a client missed
    while away; a client that reconnects refetches the timeline from the last
    status it saw (`min_id`), and the new stream carries on from now, with
    nothing delivered twice."""
    follow(alice, bob)
    ws = WS(server, alice.token, "?stream=user")
    assert ws.status == 101
    time.sleep(0.3)
    seen = bob.status("before the drop")
    assert json.loads(ws.next({"update"})["payload"])["id"] == seen["id"]
    ws.close()
    missed = [bob.status(f"while away {i}") for i in range(3)]
    again = WS(server, alice.token, "?stream=user")
    assert again.status == 101
    time.sleep(0.3)
    refetched = _timeline_since(alice, "/api/v1/timelines/home", seen["id"])
    assert [s["id"] for s in refetched] == [s["id"] for s in missed]
    after = bob.status("after the reconnect")
    m = again.next({"update"})
    assert json.loads(m["payload"])["id"] == after["id"], "the new stream replayed a missed status"
    with pytest.raises(AssertionError):
        again.next({"update"}, timeout=1)
    again.close()


def test_a_lagging_websocket_is_told_to_reconnect_and_refetch(make_server):
    """A subscriber that falls behind the hub (here it holds one event) is
    closed with 1013 and a reason saying to reconnect and refetch, counted as
    `lagged`; the timeline it refetches has every status it missed."""
    srv = make_server("--config", suite_config_with(streaming_hub_events_max=1))
    a, b = sign_up(srv), sign_up(srv)
    ws = WS(srv, a.token, "?stream=public")
    assert ws.status == 101
    time.sleep(0.3)
    posted = []
    errors = []

    def post_burst(n):
        for i in range(n):
            if ws.closed.is_set():
                return
            r = b.post("/api/v1/statuses", json={"status": f"burst {i}"})
            if r.status_code != 200:
                errors.append(r.text)
                return
            posted.append(r.json()["id"])

    for _ in range(10):  # bounded: at most 10 rounds of 4 × 10 posts
        threads = [threading.Thread(target=post_burst, args=(10,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if ws.closed.wait(1):
            break
    assert not errors, errors
    assert ws.closed.is_set(), f"no lag after {len(posted)} posts"
    assert ws.close_frame == (1013, "missed events; reconnect and refetch")
    assert metric(srv, "holdfast_streaming_dropped_total", reason="lagged") >= 1
    delivered = set()
    while not ws.messages.empty():
        m = ws.messages.get()
        if isinstance(m, dict) and m.get("event") == "update" and m["stream"] == ["public"]:
            delivered.add(json.loads(m["payload"])["id"])
    assert set(posted) - delivered, "the closed stream had missed nothing"
    first_missed = min((p for p in posted if p not in delivered), key=int)
    since = str(int(first_missed) - 1)
    refetched = {s["id"] for s in _timeline_since(a, "/api/v1/timelines/public", since, pages_max=20)}
    assert set(posted) - delivered <= refetched
