"""`holdfast cluster` and `holdfast drill` end to end: a whole local cluster
(etcd x3, PostgreSQL x3 under Patroni, holdfast x3, HAProxy) on loopback, one
short `kill-db-primary`, `kill-node` and `partition-db-primary` drill each.
Each fails if any acknowledged write (post, follow, unfollow, favourite) is
lost, duplicated or missing from a follower's home timeline, if any read
failed within the client's 10 s deadline, or, on the partition, if the
cut-off primary kept taking writes.

Runs once, in the PostgreSQL pass of the suite (HOLDFAST_TEST_BACKEND=postgres),
and needs Debian's etcd-server, patroni and haproxy (scripts/test installs them).
Longer drills and their results live in bench/drills.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import BACKEND, BINARY  # noqa: E402

pytestmark = [
    pytest.mark.skipif(BACKEND != "postgres", reason="runs once, in the PostgreSQL pass"),
    pytest.mark.skipif(not all(shutil.which(p) for p in ("etcd", "patroni", "haproxy")),
                       reason="needs etcd-server, patroni and haproxy (scripts/test installs them)"),
]

UP_TIMEOUT_S = 240
DRILL_TIMEOUT_S = 300
DOWN_TIMEOUT_S = 120


def holdfast(*args, timeout):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, RUST_LOG="warn"))


@pytest.fixture(scope="module")
def cluster():
    # PostgreSQL runs as its own user, which must reach the directory: not
    # under pytest's 0700 temporary root.
    parent = tempfile.mkdtemp(prefix="holdfast-cluster-")
    os.chmod(parent, 0o755)
    directory = pathlib.Path(parent) / "c"
    up = holdfast("cluster", "up", "--dir", str(directory), timeout=UP_TIMEOUT_S)
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        yield directory
    finally:
        holdfast("cluster", "down", "--dir", str(directory), timeout=DOWN_TIMEOUT_S)
        shutil.rmtree(parent, ignore_errors=True)


def drill(cluster, out, fault):
    res = holdfast("drill", "--cluster", str(cluster), "--fault", fault, "--rounds", "1",
                   "--out", str(out), "--writers", "4", "--readers", "2",
                   "--duration-s", "14", "--fault-at-s", "4", "--deadline-s", "10",
                   timeout=DRILL_TIMEOUT_S)
    reports = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else []
    return res, reports


def test_status_names_a_primary_and_every_process(cluster):
    res = holdfast("cluster", "status", "--dir", str(cluster), timeout=60)
    assert res.returncode == 0, res.stderr
    assert "primary: pg" in res.stdout
    for name in ("etcd1", "etcd3", "patroni2", "node3", "haproxy"):
        line = next(l for l in res.stdout.splitlines() if l.startswith(name))
        assert "running" in line, line
    state = json.loads((cluster / "cluster.json").read_text())
    assert len(state["pg_ports"]) == 3 and len(state["node_ports"]) == 3
    # Patroni before 3.0.3 keeps its keys in etcd's v2 API: its v3 client
    # hands the leader key back to a primary woken from a pause (cluster.rs,
    # EtcdApi).
    version = subprocess.run(["patroni", "--version"], capture_output=True, text=True).stdout.split()[-1]
    old_patroni = tuple(int(p) for p in version.split(".")[:3]) < (3, 0, 3)
    assert state["etcd_api"] == ("v2" if old_patroni else "v3")
    section = (cluster / "pg1" / "patroni.yml").read_text()
    assert ("\netcd:\n" in section) == old_patroni and ("\netcd3:\n" in section) != old_patroni


@pytest.mark.parametrize("fault", ["kill-db-primary", "kill-node", "partition-db-primary"])
def test_a_short_drill_loses_nothing(cluster, tmp_path, fault):
    res, reports = drill(cluster, tmp_path / fault, fault)
    assert res.returncode == 0, res.stderr + res.stdout
    [report] = reports
    # The fault hit a whole cluster: both standbys streaming from the primary
    # (as the primary itself says), not a cluster still healing.
    assert report["standbys_at_fault"] == 2
    assert report["writes_acknowledged"] > 0
    assert report["lost"] == 0 and report["duplicated"] == 0 and report["stale"] == 0
    assert report["refused_but_present"] == 0
    # Follows, unfollows and favourites during the fault: none acknowledged and lost.
    assert report["social_acknowledged"] > 0
    assert report["follows_lost"] == 0 and report["favourites_lost"] == 0
    if fault == "partition-db-primary":
        # No split brain: the cut-off primary stopped taking writes on its side.
        assert report["old_primary_writes_stopped_after_ms"] is not None
    if fault == "kill-db-primary":
        # The stall is split: the drill saw the new primary take a commit itself.
        assert report["new_primary_commits_after_ms"] is not None
        assert report["new_primary_promoted_after_ms"] <= report["new_primary_commits_after_ms"]
        # The new primary acknowledged its first commit only once a
        # synchronous standby had it: never on one server alone.
        assert report["new_primary_first_commit_standbys"] >= 1
        # The nodes counted the writes they held for a synchronous standby.
        assert report["writes_held_for_sync_standby"] is not None
    assert report["reads_failed"] == 0, report["failed_by_endpoint"]
    assert report["passed"]
    assert (tmp_path / fault / "summary.md").read_text().startswith("| round |")


def test_cluster_up_refuses_patroni_timing_that_breaks_patronis_rule(tmp_path):
    # ttl 4 with retry_timeout 2: a leader cut off from etcd would still be
    # retrying when its key expires and a standby is promoted.
    res = holdfast("cluster", "up", "--dir", str(tmp_path / "c"), "--patroni-ttl-s", "4",
                   "--patroni-loop-wait-s", "1", "--patroni-retry-timeout-s", "2", timeout=60)
    assert res.returncode != 0
    assert "loop_wait + 2 x retry_timeout <= ttl" in res.stderr
    assert not (tmp_path / "c").exists()


def test_the_drill_refuses_what_is_not_a_local_cluster(tmp_path):
    # No cluster here.
    res = holdfast("drill", "--cluster", str(tmp_path), "--fault", "kill-node", "--out", str(tmp_path / "o"),
                   timeout=60)
    assert res.returncode != 0
    assert "cluster.json" in res.stderr
    # A cluster file naming a process that was not started from the directory
    # (this test's own pid): refused, and nothing is signalled.
    state = {
        "dir": str(tmp_path), "etcd_client_ports": [1, 2, 3], "etcd_peer_ports": [1, 2, 3],
        "pg_ports": [1, 2, 3], "patroni_ports": [1, 2, 3], "node_ports": [1, 2, 3],
        "haproxy_port": 1, "haproxy_stats_port": 2, "pg_bin": "/nonexistent",
        "pids": {name: os.getpid() for name in
                 ("etcd1", "etcd2", "etcd3", "patroni1", "patroni2", "patroni3",
                  "node1", "node2", "node3", "haproxy")},
    }
    (tmp_path / "cluster.json").write_text(json.dumps(state))
    res = holdfast("drill", "--cluster", str(tmp_path), "--fault", "kill-node", "--out", str(tmp_path / "o"),
                   timeout=60)
    assert res.returncode != 0
    assert "refusing" in res.stderr
    # The partition too: its relays are the cluster's processes like any other.
    res = holdfast("drill", "--cluster", str(tmp_path), "--fault", "partition-db-primary",
                   "--out", str(tmp_path / "o"), timeout=60)
    assert res.returncode != 0
    assert "refusing" in res.stderr
    # Unknown faults are refused before anything happens.
    res = holdfast("drill", "--cluster", str(tmp_path), "--fault", "rm-rf", "--out", str(tmp_path / "o"),
                   timeout=60)
    assert res.returncode != 0
    assert "fault" in res.stderr
