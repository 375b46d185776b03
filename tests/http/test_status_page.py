"""The operator's status page: `/status` (HTML) and `/status.json`, readable
without logging in. Its figures are true (requests counted, a refusal shows in
the guard's section with its reason and class, the cluster view says which
node and database member answers) and it reveals no secrets (tokens,
passwords, database URLs). On PostgreSQL: with the primary gone the page says
degraded and why; with no database at all, down and why."""
import http.server
import json
import os
import tempfile
import threading
import time

import pytest
import requests

from conftest import BACKEND, TEST_CONFIG, free_port, sign_up

T = 30


def config_file(tmp_path, extra="", **limits):
    """The suites' relaxed limits, with `limits` replaced, plus `extra` TOML."""
    lines = [l for l in open(TEST_CONFIG).read().splitlines() if l.split(" = ")[0] not in limits]
    lines += [f"{k} = {v}" for k, v in limits.items()]
    path = tmp_path / "holdfast.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return str(path)


def status(server):
    r = requests.get(server.url("/status.json"), timeout=T)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def test_status_json_reports_this_node_truthfully(make_server, tmp_path):
    server = make_server("--config", config_file(tmp_path))
    alice = sign_up(server)
    for i in range(5):
        alice.status(f"post {i}")
    for _ in range(5):
        assert alice.get("/api/v1/timelines/home").status_code == 200
    assert requests.get(server.url("/api/v1/statuses/1"), timeout=T).status_code == 404

    s = status(server)
    assert s["status"] == "ok", s
    assert s["reasons"] == []
    assert s["node"]["version"]
    assert s["node"]["uptime_s"] >= 0
    assert s["store"]["backend"] == BACKEND
    assert s["store"]["readiness"] == "ready"
    assert s["store"]["primary_reachable"] is True
    assert s["store"]["standby_in_use"] is False
    r = s["requests"]
    # sign-up (app, token, account) + 5 posts + 5 reads + the 404; the ops
    # endpoints (this very request, /healthz polls) are not counted.
    assert r["requests"] >= 14, r
    assert r["window_s"] == 300
    assert r["per_second"] > 0
    assert r["server_errors"] == 0 and r["error_ratio"] == 0
    assert 0 < r["p50_ms"] <= r["p99_ms"], r
    assert s["guard"]["enabled"] is True
    assert s["streaming"]["connections"] == 0
    assert s["events"]["feed"] in ("none", "live")
    assert s["cluster"] is None


def test_a_refusal_shows_in_the_guard_section_with_reason_and_class(make_server, tmp_path):
    server = make_server("--config", config_file(tmp_path, rate_anonymous_ip_requests=3))
    codes = [requests.get(server.url("/api/v1/timelines/public"), timeout=T).status_code for _ in range(6)]
    assert 429 in codes, codes
    refused = codes.count(429)

    s = status(server)
    rows = {(x["reason"], x["class"]): x["count"] for x in s["guard"]["by_reason"]}
    assert rows.get(("rate_limited", "anonymous")) == refused, s["guard"]
    assert s["guard"]["refused"] >= refused

    page = requests.get(server.url("/status"), timeout=T)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "rate_limited" in page.text and "anonymous" in page.text
    assert "Refused by the guard" in page.text


def test_the_status_page_reveals_no_secrets(make_server, tmp_path):
    server = make_server("--config", config_file(tmp_path))
    alice = sign_up(server)
    alice.status("hello")
    for path in ("/status", "/status.json", "/metrics"):
        text = requests.get(server.url(path), timeout=T).text
        assert alice.token not in text
        assert alice.password not in text
        assert alice.email not in text
        assert alice.app["client_secret"] not in text
        if server.database:
            assert server.database not in text
            assert "postgres://" not in text
    # Readable without logging in, in the web UI's shell: its strict
    # Content-Security-Policy, and never kept by a cache.
    page = requests.get(server.url("/status"), timeout=T)
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "no-store" in page.headers["Cache-Control"]


class FakePatroni(http.server.BaseHTTPRequestHandler):
    """Patroni's REST API as far as the status page reads it (GET /cluster)."""
    cluster = {"members": [
        {"name": "pg1", "role": "leader", "state": "running", "host": "127.0.0.1", "port": 5001, "timeline": 4},
        {"name": "pg2", "role": "sync_standby", "state": "streaming", "host": "127.0.0.1", "port": 5002,
         "timeline": 4, "lag": 0},
        {"name": "pg3", "role": "replica", "state": "stopped", "host": "127.0.0.1", "port": 5003},
    ]}

    def do_GET(self):
        body = json.dumps(self.cluster if self.path == "/cluster" else {}).encode()
        self.send_response(200 if self.path == "/cluster" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_cluster_section_shows_every_node_and_the_database(make_server, tmp_path):
    patroni = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakePatroni)
    threading.Thread(target=patroni.serve_forever, daemon=True).start()
    dead = free_port()  # nothing listens here
    try:
        peer = make_server("--config", config_file(tmp_path))
        extra = (f'[cluster]\nnodes = ["{peer.base_url}", "http://127.0.0.1:{dead}"]\n'
                 f'patroni = ["http://127.0.0.1:{patroni.server_port}", "http://127.0.0.1:{dead}"]\n')
        (tmp_path / "b").mkdir()
        server = make_server("--config", config_file(tmp_path / "b", extra))
        s = status(server)
        nodes = {n["address"]: n for n in s["cluster"]["nodes"]}
        assert nodes[f"127.0.0.1:{peer.port}"]["status"] == "ready"
        assert nodes[f"127.0.0.1:{dead}"]["status"] == "unreachable"
        db = s["cluster"]["database"]
        assert db["answered_by"] == f"127.0.0.1:{patroni.server_port}"
        assert db["primary"] == "pg1"
        assert [m["state"] for m in db["members"]] == ["running", "streaming", "stopped"]
        assert [u["address"] for u in db["unreachable"]] == [f"127.0.0.1:{dead}"]
        # This node is fine, the cluster is not: degraded, and the page says why.
        assert s["status"] == "degraded"
        assert s["store"]["readiness"] == "ready"
        assert any(f"127.0.0.1:{dead}" in why and "unreachable" in why for why in s["reasons"]), s["reasons"]
        assert any("pg3 is stopped" in why for why in s["reasons"]), s["reasons"]
        page = requests.get(server.url("/status"), timeout=T).text
        assert "pg1" in page and "sync_standby" in page
        metrics = requests.get(server.url("/metrics"), timeout=T).text
        assert "holdfast_cluster_db_primary 1" in metrics
        assert f'holdfast_cluster_node_ready{{node="127.0.0.1:{dead}"}} 0' in metrics
    finally:
        patroni.shutdown()


def test_a_cluster_table_with_credentials_is_refused(tmp_path):
    import subprocess
    from conftest import BINARY
    path = config_file(tmp_path, '[cluster]\npatroni = ["http://admin:secret@127.0.0.1:8008"]\n')
    out = subprocess.run([BINARY, "serve", "--config", path, "--listen", f"127.0.0.1:{free_port()}",
                          "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "without credentials" in out.stderr


# ---- PostgreSQL: the database goes away ----

@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only (HOLDFAST_TEST_BACKEND=postgres)")
def test_with_the_primary_gone_the_status_says_degraded_and_why(make_server, tmp_path):
    from test_failover import PrimaryAndStandby
    pg = PrimaryAndStandby()
    try:
        pg.psql(pg.primary_port, "postgres", "CREATE DATABASE holdfast")
        # A password in the URL (trust auth ignores it) must never be shown.
        url = pg.url("holdfast").replace("postgres@", "postgres:hunter2secret@")
        # Without the read cache, so that with no database at all nothing can be
        # served (test_failover.py covers the cache's degraded mode).
        # The pair replicates asynchronously: the node is told to accept that
        # (as test_failover's nodes are; a Patroni cluster's standbys are synchronous).
        server = make_server("--config", config_file(tmp_path, pg_write_retry_window_ms=1000,
                                                    read_cache_entries_max=0, pg_sync_standbys_min=0),
                             database=url)
        alice = sign_up(server)
        alice.status("before")
        pg.wait_replayed("holdfast")
        assert status(server)["status"] == "ok"

        pg.kill_primary()
        assert alice.get("/api/v1/timelines/home").status_code == 200  # reads go on
        s = status(server)
        assert s["status"] == "degraded", s
        assert s["store"]["readiness"] == "degraded"
        assert s["store"]["primary_reachable"] is False
        assert s["store"]["standby_in_use"] is True
        assert s["store"]["writes"] == "unavailable"
        assert any("primary" in why for why in s["reasons"]), s["reasons"]
        page = requests.get(server.url("/status"), timeout=T).text
        assert "degraded" in page and "primary" in page
        for text in (json.dumps(s), page):
            assert "hunter2secret" not in text

        pg.stop()  # no database at all: down, and why
        s = status(server)
        assert s["status"] == "down", s
        assert s["store"]["readiness"] == "not ready"
        assert s["reasons"], s
    finally:
        pg.stop()


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only (HOLDFAST_TEST_BACKEND=postgres)")
def test_readyz_stays_200_degraded_while_the_event_feed_reconnects(make_server, tmp_path):
    """After a failover the store is whole again before the event feed has
    reconnected (it backs off). /readyz must say 200 degraded then, not 503:
    every node's feed reconnects at the same moment, and a 503 would take
    them all out of the load balancer at once."""
    from test_failover import PrimaryAndStandby
    pg = PrimaryAndStandby()
    try:
        pg.psql(pg.primary_port, "postgres", "CREATE DATABASE holdfast")
        server = make_server("--config", config_file(tmp_path, pg_write_retry_window_ms=1000,
                                                    streaming_feed_reconnect_max_ms=30000,
                                                    pg_sync_standbys_min=0),
                             database=pg.url("holdfast"))
        alice = sign_up(server)
        pg.wait_replayed("holdfast")
        pg.kill_primary()
        time.sleep(8)  # the feed's reconnect backoff grows meanwhile
        pg.promote_standby()
        deadline = time.monotonic() + 30
        while alice.post("/api/v1/statuses", json={"status": "after"}).status_code != 200:
            assert time.monotonic() < deadline, "writes did not resume"
            time.sleep(0.2)
        seen = []
        while True:
            r = requests.get(server.url("/readyz"), timeout=T)
            assert r.status_code == 200, r.text
            body = r.json()
            seen.append((body["status"], body.get("events")))
            if body["status"] == "ready":
                break
            assert time.monotonic() < deadline + 30, seen
            time.sleep(0.2)
        assert ("degraded", "down") in seen, seen
    finally:
        pg.stop()
