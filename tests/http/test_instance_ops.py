"""Instance metadata and the operator endpoints (health, readiness, metrics)."""
import re

from conftest import sign_up
from helpers import anon_get


def test_instance_v1(server):
    r = anon_get(server, "/api/v1/instance")
    assert r.status_code == 200, r.text
    i = r.json()
    assert i["uri"] == "localhost"
    assert isinstance(i["title"], str)
    assert re.match(r"\d", i["version"]), i["version"]
    assert "holdfast" in i["version"]
    for k in ("short_description", "description", "email", "languages", "urls", "stats",
              "registrations", "approval_required", "configuration", "rules"):
        assert k in i, k
    assert set(i["stats"]) >= {"user_count", "status_count", "domain_count"}
    for v in i["stats"].values():
        assert isinstance(v, int)
    assert i["registrations"] is True  # the default is open
    assert i["approval_required"] is False
    assert i["configuration"]["statuses"]["max_characters"] == 500


def test_instance_v1_stats_move(server):
    before = anon_get(server, "/api/v1/instance").json()["stats"]
    c = sign_up(server)
    c.status("counted")
    after = anon_get(server, "/api/v1/instance").json()["stats"]
    assert after["user_count"] >= before["user_count"] + 1
    assert after["status_count"] >= before["status_count"] + 1


def test_instance_v2(server):
    r = anon_get(server, "/api/v2/instance")
    assert r.status_code == 200, r.text
    i = r.json()
    assert i["domain"] == "localhost"
    assert re.match(r"\d", i["version"]) and "holdfast" in i["version"]
    for k in ("title", "source_url", "description", "usage", "thumbnail", "languages",
              "configuration", "registrations", "contact", "rules"):
        assert k in i, k
    st = i["configuration"]["statuses"]
    assert st["max_characters"] == 500
    assert st["characters_reserved_per_url"] == 23
    assert i["registrations"]["enabled"] is True
    assert i["registrations"]["approval_required"] is False
    assert isinstance(i["usage"]["users"]["active_month"], int)


def test_healthz_and_readyz(server):
    assert anon_get(server, "/healthz").status_code == 200
    assert anon_get(server, "/readyz").status_code == 200


def test_metrics_prometheus_text(server, alice):
    # Generate some traffic with known outcomes first.
    assert anon_get(server, "/api/v1/instance").status_code == 200
    assert anon_get(server, "/api/v1/statuses/999999999999999999").status_code == 404
    alice.status("for the metrics")
    r = anon_get(server, "/metrics")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("text/plain")
    text = r.text
    assert "# TYPE" in text and "# HELP" in text
    # a latency histogram
    assert re.search(r"^# TYPE \S+ histogram$", text, re.M), text[:2000]
    assert re.search(r'^\S+_bucket\{[^}]*le="\+Inf"[^}]*\} \d', text, re.M)
    assert re.search(r"^\S+_sum(\{[^}]*\})? [0-9.e+-]+$", text, re.M)
    assert re.search(r"^\S+_count(\{[^}]*\})? \d+", text, re.M)
    # request counters labelled by route and status
    counters = [line for line in text.splitlines()
                if line and not line.startswith("#") and "{" in line]
    def has(route_part, status):
        return any(route_part in line and re.search(r'"%s"' % status, line) for line in counters)
    assert has("/api/v1/instance", 200), "\n".join(counters[:50])
    assert has("/api/v1/statuses", 404), "\n".join(counters[:50])
    assert has("/api/v1/statuses", 200), "\n".join(counters[:50])
    # route labels are templates, not raw paths (bounded cardinality)
    assert "999999999999999999" not in text


def test_metrics_counter_increases(server):
    def instance_count():
        total = 0.0
        for line in anon_get(server, "/metrics").text.splitlines():
            if (not line.startswith("#") and "/api/v1/instance" in line and '"200"' in line
                    and "_bucket" not in line and "_sum" not in line):
                total += float(line.rsplit(" ", 1)[1])
        return total
    before = instance_count()
    for _ in range(3):
        anon_get(server, "/api/v1/instance")
    assert instance_count() >= before + 3


def test_unknown_path_outside_api(server):
    r = anon_get(server, "/definitely/not/here")
    assert r.status_code == 404
