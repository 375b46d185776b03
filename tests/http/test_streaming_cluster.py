"""The streaming API across nodes (issue 12), PostgreSQL only: an event made
on one node reaches subscribers on another (LISTEN/NOTIFY, payload in a
table), exactly once; during a database outage streams stay open and, once
the database is back, get what happened meanwhile; /readyz and /metrics say
whether a node's event feed is live."""
import json
import time

import pytest
import requests

from conftest import BACKEND, TEST_CONFIG, pg_cluster, sign_up
from streamclient import SSE, WS
from test_postgres_fault import CuttableProxy
from helpers import metric

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="needs HOLDFAST_TEST_BACKEND=postgres")

T = 10


def fast_config(tmp_path):
    base = open(TEST_CONFIG).read()
    path = tmp_path / "holdfast.toml"
    path.write_text(base + "pg_connect_timeout_ms = 1000\npg_operation_timeout_ms = 2000\n"
                           "db_acquire_timeout_ms = 1000\npg_pool_size = 4\n"
                           "streaming_feed_poll_ms = 500\nstreaming_feed_reconnect_max_ms = 500\n")
    return str(path)


def wait_ready(node, live=True, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(node.url("/readyz"), timeout=T)
        if (r.status_code == 200 and r.json().get("events") == "live") == live:
            return r
        assert time.monotonic() < deadline, f"readyz never said events {'live' if live else 'down'}: {r.text}"
        time.sleep(0.1)

def test_post_on_one_node_streams_on_the_other(make_server, tmp_path):
    cluster = pg_cluster()
    url = cluster.url(cluster.create_database())
    a = make_server("--config", fast_config(tmp_path), database=url)
    b = make_server("--config", fast_config(tmp_path), database=url)
    wait_ready(a)
    wait_ready(b)
    assert metric(b, "holdfast_streaming_feed_live") == 1
    alice, bob = sign_up(a), sign_up(a)
    assert requests.post(a.url(f"/api/v1/accounts/{bob.id}/follow"), headers={"Authorization": f"Bearer {alice.token}"},
                         timeout=T).status_code == 200
    ws = WS(b, alice.token, "?stream=user")
    sse = SSE(b, "/api/v1/streaming/public", alice.token)
    assert ws.status == 101 and sse.status == 200
    posted = bob.status("made on node A")
    m = ws.next({"update"})
    assert json.loads(m["payload"])["id"] == posted["id"]
    assert json.loads(sse.next({"update"})[1])["id"] == posted["id"]
    bob.status(f"@{alice.username} from A")
    note = ws.next({"notification"})
    assert json.loads(note["payload"])["type"] == "mention"
    assert bob.delete(f"/api/v1/statuses/{posted['id']}").status_code == 200
    assert ws.next({"delete"})["payload"] == posted["id"]
    # Exactly once: nothing else about the first post arrives.
    marker = bob.status("marker")
    while True:
        m = ws.next({"update", "delete"})
        if m["event"] == "update" and json.loads(m["payload"])["id"] == marker["id"]:
            break
        assert not (m["event"] == "update" and json.loads(m["payload"])["id"] == posted["id"]), "delivered twice"
        assert m["event"] != "delete", "delete delivered twice"
    ws.close()
    sse.close()


def test_database_outage_keeps_streams_and_catches_up(make_server, tmp_path):
    cluster = pg_cluster()
    proxy = CuttableProxy(cluster.port)
    try:
        db = cluster.create_database()
        a = make_server("--config", fast_config(tmp_path), database=cluster.url(db))
        b = make_server("--config", fast_config(tmp_path), database=cluster.url(db, port=proxy.port))
        wait_ready(b)
        alice, bob = sign_up(a), sign_up(a)
        ws = WS(b, alice.token, "?stream=public")
        assert ws.status == 101
        before = bob.status("before the outage")
        assert json.loads(ws.next({"update"})["payload"])["id"] == before["id"]
        proxy.cut()
        r = wait_ready(b, live=False)
        assert r.status_code == 503 and r.json()["events"] == "down"
        assert metric(b, "holdfast_streaming_feed_live") == 0
        during = bob.status("while node B cannot reach the database")
        time.sleep(0.5)
        assert not ws.closed.is_set(), "the socket was closed during the outage"
        proxy.restore()
        wait_ready(b)
        # What happened during the outage arrives once the feed is back, once.
        assert json.loads(ws.next({"update"}, timeout=20)["payload"])["id"] == during["id"]
        after = bob.status("after")
        assert json.loads(ws.next({"update"})["payload"])["id"] == after["id"]
        assert not ws.closed.is_set()
        ws.close()
    finally:
        proxy.close()


def restart_database(cluster):
    """A real PostgreSQL restart (fast shutdown: every connection is cut, then
    the server starts again with the same options)."""
    cluster._run("pg_ctl", "-D", cluster.data, "-l", cluster.dir + "/postgres.log", "-m", "fast",
                 "-w", "-t", "60", "restart")


def test_database_restart_keeps_streams_one_node_and_two(make_server, tmp_path):
    # A cluster of its own: restarting the session's would disturb other tests' servers.
    from conftest import PgCluster
    cluster = PgCluster()
    try:
        url = cluster.url(cluster.create_database())
        a = make_server("--config", fast_config(tmp_path), database=url)
        b = make_server("--config", fast_config(tmp_path), database=url)
        wait_ready(a)
        wait_ready(b)
        alice, bob = sign_up(a), sign_up(a)
        assert requests.post(a.url(f"/api/v1/accounts/{bob.id}/follow"),
                             headers={"Authorization": f"Bearer {alice.token}"}, timeout=T).status_code == 200
        # Subscribers on the node that posts (in-process) and on the other (the feed).
        local = WS(a, alice.token, "?stream=user")
        remote = WS(b, alice.token, "?stream=public")
        remote_sse = SSE(b, "/api/v1/streaming/user", alice.token)
        assert local.status == 101 and remote.status == 101 and remote_sse.status == 200
        before = bob.status("before the restart")
        assert json.loads(local.next({"update"})["payload"])["id"] == before["id"]
        assert json.loads(remote.next({"update"})["payload"])["id"] == before["id"]
        assert json.loads(remote_sse.next({"update"})[1])["id"] == before["id"]

        restart_database(cluster)
        wait_ready(a, timeout=30)
        wait_ready(b, timeout=30)
        deadline = time.monotonic() + 30
        while True:  # the first write after the restart may meet a connection the restart cut
            r = bob.post("/api/v1/statuses", json={"status": "after the restart"})
            if r.status_code == 200:
                after = r.json()
                break
            assert r.status_code == 503 and time.monotonic() < deadline, r.text
            time.sleep(0.2)
        assert json.loads(local.next({"update"}, timeout=20)["payload"])["id"] == after["id"]
        assert json.loads(remote.next({"update"}, timeout=20)["payload"])["id"] == after["id"]
        assert json.loads(remote_sse.next({"update"}, timeout=20)[1])["id"] == after["id"]
        # The same sockets: none was closed, and a notification still finds its way.
        bob.status(f"@{alice.username} still there?")
        assert json.loads(local.next({"notification"}, timeout=20)["payload"])["type"] == "mention"
        assert json.loads(remote_sse.next({"notification"}, timeout=20)[1])["type"] == "mention"
        assert not local.closed.is_set() and not remote.closed.is_set() and not remote_sse.ended.is_set()
        for s in (local, remote, remote_sse):
            s.close()
    finally:
        cluster.stop()
