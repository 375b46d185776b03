"""Failover on PostgreSQL, with a primary and a streaming standby named in
one multi-host URL: losing the primary leaves reads working (from the
standby); a write waits out a failover that fits in `pg_write_retry_window_ms`
(a slower answer, not an error); past that window writes are refused at once
with 503 + Retry-After and /readyz says `degraded` with 200 (so a load
balancer keeps sending reads). Once a standby is promoted, writes resume by
themselves, without a restart; ids never sort before acknowledged ones.

Runs with HOLDFAST_TEST_BACKEND=postgres; the test starts its own two
PostgreSQL servers (the session's shared one is never stopped)."""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import BACKEND, BINARY, TEST_CONFIG, _pg_bin, free_ports, sign_up
from helpers import metric

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only (HOLDFAST_TEST_BACKEND=postgres)")

START_TIMEOUT_S = 60
REPLAY_TIMEOUT_S = 30
HEAL_TIMEOUT_S = 30
# A refused write must be refused quickly, not after connect timeouts.
FAST_REFUSAL_S = 3.0


class PrimaryAndStandby:
    """Two PostgreSQL servers on loopback: a primary and a hot standby that
    streams from it (pg_basebackup -R), in one temporary directory."""

    def __init__(self):
        self.bin = _pg_bin()
        self.dir = tempfile.mkdtemp(prefix="holdfast-failover-")
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if subprocess.run(["id", "postgres"], capture_output=True).returncode == 0 else "nobody"
            subprocess.run(["chown", "-R", self.user, self.dir], check=True)
            os.chmod(self.dir, 0o755)
        self.primary_data = os.path.join(self.dir, "primary")
        self.standby_data = os.path.join(self.dir, "standby")
        self.primary_port, self.standby_port = free_ports(2)
        self._run("initdb", "-D", self.primary_data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--lc-collate=C", "--lc-ctype=C.UTF-8", "--no-sync")
        self._start(self.primary_data, self.primary_port)
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
                  "-D", self.standby_data, "-R", "-X", "stream", "--no-sync")
        self._start(self.standby_data, self.standby_port)

    def _run(self, tool, *args):
        cmd = [os.path.join(self.bin, tool), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"{tool} failed: {res.stdout}{res.stderr}")
        return res.stdout

    def _start(self, data, port):
        opts = f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", data, "-l", data + ".log", "-o", opts, "-w", "-t", str(START_TIMEOUT_S), "start")

    def psql(self, port, database, sql):
        res = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                              "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-c", sql],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {res.stderr}")
        return res.stdout.strip()

    def url(self, database):
        return (f"postgres://postgres@127.0.0.1:{self.primary_port},127.0.0.1:{self.standby_port}/{database}")

    def wait_replayed(self, database):
        """Until the standby has replayed everything the primary has written."""
        target = self.psql(self.primary_port, database, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + REPLAY_TIMEOUT_S
        while time.monotonic() < deadline:
            caught_up = self.psql(self.standby_port, database,
                                  f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            if caught_up == "t":
                return
            time.sleep(0.1)
        raise AssertionError("the standby did not catch up")

    def kill_primary(self):
        self._run("pg_ctl", "-D", self.primary_data, "-m", "immediate", "-w", "stop")

    def freeze_primary(self):
        """SIGSTOP the primary's postmaster and every backend: it keeps its
        sockets but never answers, as a host cut off by the network looks to
        its clients. Returns the pids, for thaw()."""
        with open(os.path.join(self.primary_data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)],
                                  capture_output=True, text=True).stdout.split()
        pids = [postmaster, *map(int, children)]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @staticmethod
    def thaw(pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def promote_standby(self):
        self._run("pg_ctl", "-D", self.standby_data, "-w", "promote")

    def stop(self):
        for data in (self.primary_data, self.standby_data):
            try:
                self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
            except Exception:  # already stopped (the killed primary)
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def replicated():
    pg = PrimaryAndStandby()
    yield pg
    pg.stop()

def node(make_server, pg, tmp_path, **limits):
    """A holdfast node on both hosts, with the suites' relaxed limits plus `limits`.
    The pair replicates asynchronously, so the node is told to accept that
    (`pg_sync_standbys_min = 0`; a Patroni cluster's standbys are synchronous)."""
    limits.setdefault("pg_sync_standbys_min", 0)
    pg.psql(pg.primary_port, "postgres", "CREATE DATABASE holdfast")
    config = tmp_path / "holdfast.toml"
    config.write_text(open(TEST_CONFIG).read() + "".join(f"{k} = {v}\n" for k, v in limits.items()))
    return make_server("--config", str(config), database=pg.url("holdfast"))


def test_reads_survive_the_primary_and_a_write_waits_out_the_promotion(replicated, make_server, tmp_path):
    pg = replicated
    server = node(make_server, pg, tmp_path)
    assert requests.get(server.url("/readyz"), timeout=10).json()["status"] == "ready"
    alice, bob = sign_up(server), sign_up(server)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    posted = [alice.status(f"before the failover {i}")["id"] for i in range(3)]
    # Say the old primary's clock ran an hour ahead of the standby's, and it
    # had promised ids up to there (its lease): the new primary must not
    # mint ids that sort before those.
    lease_ms = int(pg.psql(pg.primary_port, "holdfast",
                           "INSERT INTO holdfast_id_leases (lease_ms, offset_ms, holder) "
                           "SELECT lease_ms + 3600000, offset_ms, holder FROM holdfast_id_leases "
                           "ORDER BY lease_ms DESC LIMIT 1 RETURNING lease_ms"))
    pg.wait_replayed("holdfast")

    pg.kill_primary()

    # Reads: by id, timelines (home needs the follow graph), the account,
    # token authentication itself, anonymous pages.
    for sid in posted:
        r = bob.get(f"/api/v1/statuses/{sid}")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == sid
    home = bob.get("/api/v1/timelines/home")
    assert home.status_code == 200, home.text
    assert [s["id"] for s in home.json()][:3] == posted[::-1]
    assert alice.get("/api/v1/accounts/verify_credentials").json()["statuses_count"] == 3
    assert requests.get(server.url(f"/api/v1/accounts/{alice.id}/statuses"), timeout=10).status_code == 200
    assert requests.get(server.url("/api/v1/timelines/public"), timeout=10).status_code == 200

    # A write during the failover waits for the new primary (Patroni would
    # promote the standby; here we do, a second later) and then succeeds.
    result = {}

    def post():
        started = time.monotonic()
        result["response"] = alice.post("/api/v1/statuses", json={"status": "during the failover"},
                                        headers={"Idempotency-Key": "failover-1"})
        result["took_s"] = time.monotonic() - started

    writer = threading.Thread(target=post)
    writer.start()
    time.sleep(1.0)
    pg.promote_standby()
    writer.join(30)
    r = result["response"]
    assert r.status_code == 200, r.text
    assert result["took_s"] >= 0.9, "it waited for the promotion"
    during = r.json()["id"]
    assert int(during) > int(posted[-1]), "ids keep their order across the failover"
    assert int(during) >> 16 >= lease_ms, "the new primary starts at the old one's lease"
    # Ready again by itself (the event feed reconnects with its own backoff,
    # so this may take a moment after the first write).
    deadline = time.monotonic() + HEAL_TIMEOUT_S
    while (ready := requests.get(server.url("/readyz"), timeout=10).json())["status"] != "ready":
        assert time.monotonic() < deadline, ready
        time.sleep(0.2)
    # (It waited inside its connection attempt, which asks the standby again
    # every pg_connect_requalify_ms until it is promoted, or in retries.)
    assert metric(server, "holdfast_store_standby_reads_total") >= 1
    after = alice.status("after the failover")["id"]
    assert int(after) > int(during)
    timeline = [s["id"] for s in bob.get("/api/v1/timelines/home").json()]
    assert timeline[:5] == [after, during, *posted[::-1]]
    # Retrying the write that waited returns the same status, once.
    again = alice.post("/api/v1/statuses", json={"status": "during the failover"},
                       headers={"Idempotency-Key": "failover-1"})
    assert again.json()["id"] == during


def test_a_frozen_primary_costs_a_read_the_short_bound_not_the_operation_timeout(replicated, make_server, tmp_path):
    # A cut-off or frozen primary does not refuse: it is silent. Reads must
    # go to the standby after pg_primary_read_timeout_ms, not wait out
    # pg_operation_timeout_ms, and new connections must not stall on the
    # silent host listed first in the URL.
    pg = replicated
    bound_s, operation_s = 1.0, 8.0
    server = node(make_server, pg, tmp_path, pg_primary_read_timeout_ms=int(bound_s * 1000),
                  pg_operation_timeout_ms=int(operation_s * 1000))
    alice, bob = sign_up(server), sign_up(server)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    posted = alice.status("before the freeze")["id"]
    pg.wait_replayed("holdfast")

    frozen = pg.freeze_primary()
    try:
        # The first read waits the short bound on the pooled connection; the
        # later ones, past the recheck, look for the primary again (every host
        # at once) and fall back within the bound too.
        for _ in range(3):
            started = time.monotonic()
            home = bob.get("/api/v1/timelines/home")
            took = time.monotonic() - started
            assert home.status_code == 200, home.text
            assert [s["id"] for s in home.json()][:1] == [posted]
            assert took < operation_s / 2, f"a read took {took:.1f} s against a frozen primary"
            time.sleep(1.2)
        assert metric(server, "holdfast_store_standby_reads_total") >= 3
    finally:
        pg.thaw(frozen)
    # Thawed, the primary serves again: writes work without a restart.
    deadline = time.monotonic() + HEAL_TIMEOUT_S
    while alice.post("/api/v1/statuses", json={"status": "thawed"}).status_code != 200:
        assert time.monotonic() < deadline, "writes did not resume after the thaw"
        time.sleep(0.2)


def test_a_long_outage_refuses_writes_at_once_and_heals(replicated, make_server, tmp_path):
    pg = replicated
    window_s = 1.0
    server = node(make_server, pg, tmp_path, pg_write_retry_window_ms=int(window_s * 1000))
    alice = sign_up(server)
    posted = alice.status("before the outage")["id"]
    pg.wait_replayed("holdfast")

    pg.kill_primary()

    # The first write waits out the window, then gives up with 503 ...
    started = time.monotonic()
    r = alice.post("/api/v1/statuses", json={"status": "during the outage"})
    took = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert window_s * 0.5 <= took < window_s + FAST_REFUSAL_S
    assert "error" in r.json()
    assert int(r.headers["Retry-After"]) >= 1
    # ... and once the outage is older than the window, writes are refused at once.
    for action in (lambda: alice.post("/api/v1/statuses", json={"status": "still out"}),
                   lambda: alice.post(f"/api/v1/statuses/{posted}/favourite")):
        started = time.monotonic()
        r = action()
        assert r.status_code == 503, r.text
        assert time.monotonic() - started < FAST_REFUSAL_S
    # Reads go on; nothing half-written shows up.
    statuses = alice.get(f"/api/v1/accounts/{alice.id}/statuses")
    assert statuses.status_code == 200
    assert [s["id"] for s in statuses.json()] == [posted]

    # The operator and the load balancer see it: 200, degraded, and why.
    ready = requests.get(server.url("/readyz"), timeout=10)
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["writes"] == "unavailable"
    assert "primary" in ready.json()["store"]
    assert metric(server, "holdfast_store_primary_reachable") == 0

    # A primary again: writes resume by themselves.
    pg.promote_standby()
    deadline = time.monotonic() + HEAL_TIMEOUT_S
    while True:
        r = alice.post("/api/v1/statuses", json={"status": "after the outage"})
        if r.status_code == 200:
            break
        assert r.status_code == 503, r.text
        assert time.monotonic() < deadline, "writes did not resume after the promotion"
        time.sleep(0.2)
    # Ready by itself (the event feed reconnects with its own backoff).
    while (ready := requests.get(server.url("/readyz"), timeout=10).json())["status"] != "ready":
        assert time.monotonic() < deadline, ready
        time.sleep(0.2)
    assert metric(server, "holdfast_store_primary_reachable") == 1


def test_a_node_with_no_database_at_all_is_not_ready(replicated, make_server, tmp_path):
    pg = replicated
    server = node(make_server, pg, tmp_path)
    pg.wait_replayed("holdfast")
    pg.stop()
    r = requests.get(server.url("/readyz"), timeout=30)
    assert r.status_code == 503
    assert r.json()["status"] == "not ready"
    assert requests.get(server.url("/api/v1/timelines/public"), timeout=30).status_code == 503


def test_a_retry_window_past_the_request_timeout_is_refused_at_start(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[limits]\npg_write_retry_window_ms = 20000\nrequest_timeout_ms = 15000\n")
    # Checked before the database is opened (this URL names nothing); only
    # PostgreSQL retries writes across a failover, so only it is checked.
    res = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                          "--database", "postgres://holdfast@127.0.0.1:1/none",
                          "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert "pg_write_retry_window_ms" in res.stderr


def test_with_no_database_at_all_recent_timeline_pages_come_from_the_read_cache(replicated, make_server, tmp_path):
    """Degraded mode's last resort: with no database host answering, the
    timeline pages this node served recently are answered again from memory
    (bounded, at most read_cache_stale_max_s old), /readyz stays 200
    degraded and says why, and anything not in memory gets 503."""
    pg = replicated
    server = node(make_server, pg, tmp_path)
    alice, bob = sign_up(server), sign_up(server)
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    posted = [bob.status(f"before the outage {i}")["id"] for i in range(3)]
    home = alice.get("/api/v1/timelines/home")
    assert home.status_code == 200
    assert [s["id"] for s in home.json()] == posted[::-1]
    public = requests.get(server.url("/api/v1/timelines/public"), timeout=10)
    assert public.status_code == 200
    pg.wait_replayed("holdfast")

    pg.stop()

    r = alice.get("/api/v1/timelines/home")
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()] == posted[::-1]
    # A viewer sees only their own copy: bob never read his home timeline.
    assert bob.get("/api/v1/timelines/home").status_code == 503
    # A page never served is not invented.
    assert alice.get("/api/v1/timelines/home", params={"limit": 1}).status_code == 503
    assert requests.get(server.url("/api/v1/timelines/public"), timeout=30).status_code == 200
    ready = requests.get(server.url("/readyz"), timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "degraded"
    assert "from memory" in ready.json()["reason"]
    assert metric(server, "holdfast_read_cache_served_total") >= 2
    status = requests.get(server.url("/status.json"), timeout=30).json()
    assert status["store"]["cached_pages"] >= 2
    assert status["status"] == "degraded"


def test_a_status_deleted_on_one_node_leaves_the_read_cache_of_another(replicated, make_server, tmp_path):
    """Cross-node invalidation: node B cached pages of alice's home; bob
    deletes one status through node A and edits another. Once the event feed
    has brought both to B (B never reads the pages again), and no database
    host answers at all, B answers its copies without the deleted status, and
    not at all for a page that held the edited one (its copy is stale)."""
    pg = replicated
    a = node(make_server, pg, tmp_path)
    b = make_server("--config", str(tmp_path / "holdfast.toml"), database=pg.url("holdfast"))
    for n in (a, b):
        deadline = time.monotonic() + HEAL_TIMEOUT_S
        while requests.get(n.url("/readyz"), timeout=10).json().get("events") != "live":
            assert time.monotonic() < deadline, "the event feed never went live"
            time.sleep(0.1)
    alice, bob = sign_up(a), sign_up(a)
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    p0, p1, p2 = (bob.status(f"cached on b {i}")["id"] for i in range(3))
    as_alice = {"Authorization": f"Bearer {alice.token}"}

    def home_on_b(limit):
        r = requests.get(b.url("/api/v1/timelines/home"), headers=as_alice, params={"limit": limit}, timeout=30)
        return r.status_code, [s["id"] for s in r.json()] if r.status_code == 200 else None

    assert home_on_b(3) == (200, [p2, p1, p0])
    assert home_on_b(2) == (200, [p2, p1])
    assert home_on_b(1) == (200, [p2])
    before = metric(b, "holdfast_read_cache_invalidated_total")

    assert bob.delete(f"/api/v1/statuses/{p1}").status_code == 200
    assert bob.put(f"/api/v1/statuses/{p0}", json={"status": "edited on a"}).status_code == 200
    # The delete changes two of B's pages, the edit drops one.
    deadline = time.monotonic() + HEAL_TIMEOUT_S
    while metric(b, "holdfast_read_cache_invalidated_total") < before + 3:
        assert time.monotonic() < deadline, "node b's read cache never heard of the delete and the edit"
        time.sleep(0.1)
    pg.wait_replayed("holdfast")

    pg.stop()

    assert home_on_b(2) == (200, [p2]), "the deleted status is gone from B's copy"
    assert home_on_b(1) == (200, [p2])
    assert home_on_b(3) == (503, None), "no stale copy of the edited status"
