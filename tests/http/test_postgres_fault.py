"""Cut holdfast off from PostgreSQL while requests run, then restore it.

A TCP proxy on loopback sits between holdfast and the session's throwaway
cluster. Cutting it drops every open connection and swallows new ones (the
database host has vanished: no answer, not even a refusal). Expected:
requests get 503 with Retry-After quickly, /readyz says not ready, and once
the proxy passes traffic again the same process serves again, with every
acknowledged write present. Runs only with HOLDFAST_TEST_BACKEND=postgres.
"""
import os
import socket
import threading
import time

import pytest
import requests

from conftest import BACKEND, TEST_CONFIG, pg_cluster, sign_up

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="needs HOLDFAST_TEST_BACKEND=postgres")

T = 10
# Bounds of this test: how long a refused request may take, how long recovery may take.
FAST_503_S = 6
RECOVERY_S = 30
WRITES_DURING_CUT = 15


class CuttableProxy:
    """Forwards loopback TCP to `upstream_port` until cut."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.cut_off = False
        self.open = []   # sockets of forwarded connections
        self.held = []   # connections accepted while cut, never answered
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.cut_off:
                    self.held.append(client)
                    continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    if self.cut_off:
                        break  # swallow: the other side never hears of it
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.cut_off = True
            victims, self.open = self.open, []
        for s in victims:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def restore(self):
        with self.lock:
            self.cut_off = False
            held, self.held = self.held, []
        for s in held:
            s.close()

    def close(self):
        self.closed = True
        self.cut()
        self.restore()
        self.listener.close()


@pytest.fixture
def proxied_server(make_server, tmp_path):
    cluster = pg_cluster()
    proxy = CuttableProxy(cluster.port)
    config = tmp_path / "holdfast.toml"
    # Short bounds so the test is quick; the defaults are longer.
    # The suite's relaxed rate limits, plus these.
    base = open(TEST_CONFIG).read()
    assert "[limits]" in base
    config.write_text(base.replace("[limits]", "[limits]\npg_connect_timeout_ms = 1000\npg_operation_timeout_ms = 2000\n"
                                               "db_acquire_timeout_ms = 1000\npg_pool_size = 4", 1))
    server = make_server("--config", str(config), database=cluster.url(cluster.create_database(), port=proxy.port))
    yield server, proxy
    proxy.close()


def post(user, text):
    return user.session.post(user.server.url("/api/v1/statuses"), json={"status": text}, timeout=T)


def test_cut_database_gives_fast_503_then_recovers_without_restart(proxied_server):
    server, proxy = proxied_server
    user = sign_up(server)
    acknowledged = []
    for i in range(5):
        r = post(user, f"before cut {i}")
        assert r.status_code == 200, r.text
        acknowledged.append(r.json()["id"])
    assert requests.get(server.url("/readyz"), timeout=T).status_code == 200

    proxy.cut()
    outcomes = []
    for i in range(WRITES_DURING_CUT):
        started = time.monotonic()
        try:
            r = post(user, f"during cut {i}")
            outcomes.append((r.status_code, time.monotonic() - started))
            if r.status_code == 200:
                acknowledged.append(r.json()["id"])
            else:
                assert r.status_code == 503, r.text
                assert r.headers.get("Retry-After"), "503 says when to retry"
                assert "error" in r.json()
        except requests.Timeout:
            pytest.fail("a request hung while the database was cut off")
    assert all(code == 503 for code, _ in outcomes), outcomes
    assert max(elapsed for _, elapsed in outcomes) < FAST_503_S, outcomes
    r = requests.get(server.url("/readyz"), timeout=T)
    assert r.status_code == 503, r.text
    assert server.proc.poll() is None, "the node stays up"
    assert requests.get(server.url("/healthz"), timeout=T).status_code == 200

    proxy.restore()
    deadline = time.monotonic() + RECOVERY_S
    while requests.get(server.url("/readyz"), timeout=T).status_code != 200:
        assert time.monotonic() < deadline, "not ready again after the database came back"
        time.sleep(0.2)
    r = post(user, "after restore")
    assert r.status_code == 200, r.text
    acknowledged.append(r.json()["id"])

    # No acknowledged write is missing, and none is duplicated.
    for status_id in acknowledged:
        r = user.session.get(server.url(f"/api/v1/statuses/{status_id}"), timeout=T)
        assert r.status_code == 200, (status_id, r.text)
    listed = user.session.get(server.url(f"/api/v1/accounts/{user.id}/statuses"), params={"limit": 40}, timeout=T).json()
    texts = [s["content"] for s in listed]
    assert len(listed) == len(acknowledged) == len(set(acknowledged)), texts


def test_idempotency_key_across_two_nodes_makes_one_status(make_server):
    """Two nodes over one database; the same Idempotency-Key posted to both at once."""
    cluster = pg_cluster()
    url = cluster.url(cluster.create_database())
    node1 = make_server(database=url)
    node2 = make_server(database=url)
    user = sign_up(node1)
    key = f"k-{os.getpid()}-{time.monotonic_ns()}"
    results = []

    def send(node, n):
        r = requests.post(node.url("/api/v1/statuses"), json={"status": f"once {n}"}, timeout=T,
                          headers={"Authorization": f"Bearer {user.token}", "Idempotency-Key": key})
        results.append(r)

    threads = [threading.Thread(target=send, args=(node, i)) for i, node in enumerate([node1, node2] * 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(T * 2)
    assert len(results) == 8 and all(r.status_code == 200 for r in results), [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    listed = requests.get(node2.url(f"/api/v1/accounts/{user.id}/statuses"), timeout=T).json()
    assert len(listed) == 1
