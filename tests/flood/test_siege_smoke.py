"""`holdfast siege` end to end: a short mixed siege against a server siege starts
itself, and the rule that siege never sends anywhere but loopback.

Behaviour only; speed targets live in bench/flood, not here.
"""
import json
import os
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import BINARY  # noqa: E402

SIEGE_TIMEOUT_S = 90
DURATION_S = 8
LEGIT_RATE_PER_S = 30
ACTIONS = {"home_timeline", "post_status", "favourite", "notifications", "public_timeline"}


def siege(*args):
    return subprocess.run([BINARY, "siege", *args], capture_output=True, text=True,
                          timeout=SIEGE_TIMEOUT_S, env=dict(os.environ, RUST_LOG="warn"))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    out = tmp_path_factory.mktemp("siege") / "out"
    # A smaller flood than the benchmark defaults keeps this quick on a busy CI box;
    # it still runs every attack of the scenario at once.
    res = siege("--scenario", "mixed", "--duration-s", str(DURATION_S), "--out", str(out),
                "--users", "8", "--legit-rate-per-s", str(LEGIT_RATE_PER_S),
                "--attack-concurrency", "40", "--slowloris-connections", "300",
                "--big-body-bytes", "600000")
    return res, out


def test_siege_exits_zero_and_prints_a_summary(mixed):
    res, _ = mixed
    assert res.returncode == 0, res.stderr + res.stdout
    assert "legit success ratio" in res.stdout
    assert "attacker requests admitted" in res.stdout
    assert "server RSS max" in res.stdout


def test_report_has_the_expected_shape(mixed):
    _, out = mixed
    report = json.loads((out / "report.json").read_text())
    assert report["scenario"] == "mixed"
    assert report["target"].startswith("http://127.0.0.1:")
    assert report["config"]["duration_s"] == DURATION_S
    assert len(report["timeline"]) >= DURATION_S
    for second in report["timeline"]:
        for side in ("legit", "attacker"):
            assert set(second[side]) >= {"sent", "ok", "refused", "errors", "p50_ms", "p99_ms"}
    for side in ("legit", "attacker"):
        t = report["totals"][side]
        assert set(t) >= {"sent", "ok", "refused", "errors", "admitted", "p50_ms", "p99_ms", "p999_ms", "by_status"}
        assert t["sent"] == t["ok"] + t["refused"] + t["errors"]
    assert set(report["legit_by_action"]) == ACTIONS
    server = report["server"]
    assert server["self_started"] is True
    assert server["died_during_run"] is None
    assert server["rss_max_kib"] > 0 and len(server["samples"]) >= DURATION_S
    svg = (out / "plot.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "legit p99" in svg and "attacker 2xx/s" in svg


def test_legit_users_run_open_loop_and_mostly_succeed(mixed):
    _, out = mixed
    report = json.loads((out / "report.json").read_text())
    legit = report["totals"]["legit"]
    # Open loop: every scheduled request is sent, however slow the server gets.
    assert legit["sent"] == DURATION_S * LEGIT_RATE_PER_S
    assert legit["success_ratio"] >= 0.80, legit
    assert legit["p50_ms"] is not None and legit["p99_ms"] >= legit["p50_ms"]


def test_the_attack_really_happened(mixed):
    _, out = mixed
    report = json.loads((out / "report.json").read_text())
    attacker = report["totals"]["attacker"]
    assert attacker["sent"] > report["totals"]["legit"]["sent"]
    # Wrong-password log-ins can never succeed, so not every attacker request is a 2xx.
    assert attacker["ok"] < attacker["sent"]
    assert report["slowloris"]["attempted"] >= 300
    assert report["slowloris"]["open_max"] > 0


def non_loopback_address():
    """An address of this machine that is not loopback, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


def test_non_loopback_target_is_refused_and_nothing_is_sent(tmp_path):
    ip = non_loopback_address()
    listener = None
    if ip is not None:
        listener = socket.socket()
        listener.bind((ip, 0))
        listener.listen(16)
        listener.setblocking(False)
        targets = [f"http://{ip}:{listener.getsockname()[1]}"]
    else:
        targets = ["http://192.0.2.1:80"]
    targets += ["http://example.com:80", "https://127.0.0.1:443"]
    try:
        for target in targets:
            out = tmp_path / "refused"
            res = siege("--scenario", "calm", "--duration-s", "5", "--target", target, "--out", str(out))
            assert res.returncode != 0, res.stdout
            assert "loopback" in res.stderr, res.stderr
            assert not out.exists(), "a refused siege writes nothing"
        if listener is not None:
            with pytest.raises(BlockingIOError):
                listener.accept()
    finally:
        if listener is not None:
            listener.close()


# ---- issue 11's scenarios: a few seconds each, bounded; targets live in bench/flood ----

SHORT_S = 4


@pytest.mark.parametrize("scenario,extra", [
    ("slow-bodies", ["--slow-bodies", "200", "--slowloris-trickle-ms", "1000"]),
    ("shared-address", ["--attack-concurrency", "30"]),
    # The floods from the users' own address: it gets banned, its users stay served.
    ("shared-address", ["--attack-concurrency", "30", "--attack-from-legit-address"]),
    ("fake-tokens", ["--attack-concurrency", "30"]),
])
def test_new_scenarios_run_short(tmp_path, scenario, extra):
    out = tmp_path / "out"
    res = siege("--scenario", scenario, "--duration-s", str(SHORT_S), "--out", str(out),
                "--users", "6", "--legit-rate-per-s", "20", *extra)
    assert res.returncode == 0, res.stderr + res.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["scenario"] == scenario
    assert report["server"]["died_during_run"] is None
    legit = report["totals"]["legit"]
    assert legit["sent"] == SHORT_S * 20
    assert legit["success_ratio"] >= 0.9, legit
    if scenario == "slow-bodies":
        assert report["slowloris"]["attack"] == "slow-body"
        assert report["slowloris"]["open_max"] > 0
    else:
        assert report["totals"]["attacker"]["sent"] > 0


def test_pinned_run_keeps_siege_off_the_server_cpu(tmp_path):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("pinning needs two CPUs")
    out = tmp_path / "out"
    res = siege("--scenario", "calm", "--duration-s", "2", "--out", str(out), "--users", "2",
                "--legit-rate-per-s", "10", "--server-cpus", "0", "--siege-cpus", "1")
    assert res.returncode == 0, res.stderr + res.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["server_cpus"] == "0" and report["config"]["siege_cpus"] == "1"
    # Read from /proc while it ran: every server thread inherited the pinning.
    assert "server threads on CPUs 0" in res.stderr, res.stderr


def test_bad_cpu_list_is_refused():
    res = siege("--scenario", "calm", "--server-cpus", "x")
    assert res.returncode != 0 and "CPU list" in res.stderr
