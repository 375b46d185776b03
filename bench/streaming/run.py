"""Streaming benchmark (issue 12): idle streaming connections held, server RSS
per connection, and time from post to delivery (p50/p99) at each level.

Starts `holdfast serve` (SQLite, a temporary data directory) with the caps
raised for one loopback client, opens CONNECTIONS SSE streams on
`/api/v1/streaming/public` from one process (non-blocking sockets, one
selector), samples the server's VmRSS, then posts POSTS statuses one at a time
and records, for every stream, when each post's `update` arrived.

    .venv/bin/python bench/streaming/run.py                      # levels 1000,10000
    LEVELS=200,1000 POSTS=10 HOLDFAST_BIN=target/debug/holdfast .venv/bin/python bench/streaming/run.py

Writes bench/streaming/results/summary.json and prints it. Exits non-zero
when a level misses its targets (RSS_BOUND_MIB total at the largest level,
P99_BOUND_S at every level) or a stream did not get every post.
"""
import json
import multiprocessing
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("HOLDFAST_BIN", os.path.join(REPO, "target", "release", "holdfast"))
LEVELS = [int(x) for x in os.environ.get("LEVELS", "1000,10000").split(",")]
POSTS = int(os.environ.get("POSTS", "20"))
# Distinct watching accounts (streams take them in turn), and client processes
# (each with its own share of the streams and its own selector).
WATCHERS = int(os.environ.get("WATCHERS", "20"))
CLIENT_PROCS = int(os.environ.get("CLIENT_PROCS", "2"))
RSS_BOUND_MIB = float(os.environ.get("RSS_BOUND_MIB", "512"))
P99_BOUND_S = float(os.environ.get("P99_BOUND_S", "1.0"))
DELIVERY_TIMEOUT_S = 60
MARKER_TAIL_BYTES = 256


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    """CPU seconds (user + system) the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start_server(max_conns):
    tmp = tempfile.mkdtemp(prefix="holdfast-bench-streaming-")
    config = os.path.join(tmp, "holdfast.toml")
    n = max_conns + 100
    with open(config, "w") as f:
        f.write("[limits]\n")
        for k in ("rate_token_requests", "rate_token_burst_requests",
                  "rate_anonymous_ip_requests", "rate_account_requests",
                  "rate_token_lookup_ip_requests", "rate_ops_ip_requests",
                  "rate_signup_requests", "rate_login_requests"):
            f.write(f"{k} = 10000000\n")
        f.write(f"max_connections = {n}\nmax_connections_per_ip = {n}\n"
                f"streaming_connections_max = {n}\nstreaming_connections_per_ip_max = {n}\n"
                f"streaming_connections_per_account_max = {n}\n"
                # Every stream is a request in flight until its head is sent: one
                # loopback client opening thousands at once must not meet the cap.
                f"requests_in_flight_per_ip_max = {n}\n")
    port = free_port()
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([BINARY, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
                             os.path.join(tmp, "data"), "--domain", "localhost", "--config", config],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, RUST_LOG="warn"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, port, base
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError("holdfast did not start")


def sign_up(base):
    app = requests.post(base + "/api/v1/apps", data={"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                      "scopes": "read write"}, timeout=30).json()
    tok = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                     "client_secret": app["client_secret"], "scope": "read write"},
                        timeout=30).json()["access_token"]
    name = "b" + uuid.uuid4().hex[:12]
    r = requests.post(base + "/api/v1/accounts", headers={"Authorization": f"Bearer {tok}"},
                      json={"username": name, "email": f"{name}@example.com", "password": "pw-" + uuid.uuid4().hex,
                            "agreement": True, "locale": "en"}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def open_streams(port, tokens, n, sel):
    socks = []
    for i in range(n):
        request = (f"GET /api/v1/streaming/public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n\r\n").encode()
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, data={"buf": b"", "ok": None})
        socks.append(s)
    # Every stream answered 200 and is open (a minute, plus time for a loaded machine).
    deadline = time.monotonic() + 60 + n / 50
    ok = 0
    while ok < n and time.monotonic() < deadline:
        ok = 0
        pump(sel, 0.2, lambda *_: None)
        ok = sum(1 for key in sel.get_map().values() if key.data["ok"])
    return socks, ok


def pump(sel, timeout, on_data):
    for key, _ in sel.select(timeout):
        try:
            chunk = key.fileobj.recv(1 << 16)
        except BlockingIOError:
            continue
        if not chunk:
            sel.unregister(key.fileobj)
            continue
        d = key.data
        if d["ok"] is None:
            d["ok"] = chunk.startswith(b"HTTP/1.1 200")
        # Only a tail is kept: a marker split across two reads is still
        # found, and each read costs its own length, not the stream's history.
        d["buf"] = d["buf"][-MARKER_TAIL_BYTES:] + chunk
        on_data(key, chunk)


def client(port, tokens, n, conn):
    """One client process: opens its `n` streams, reports how many opened,
    then for each marker the parent sends, the arrival time on every stream
    (CLOCK_MONOTONIC, the same clock in every process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    socks, ok = open_streams(port, tokens, n, sel)
    conn.send(ok)
    while True:
        marker = conn.recv()
        if marker is None:
            break
        want = marker.encode()
        got = {}

        def on_data(key, chunk):
            if want in key.data["buf"] and key.fileobj not in got:
                got[key.fileobj] = time.monotonic()

        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while len(got) < ok and time.monotonic() < deadline:
            pump(sel, 0.1, on_data)
        conn.send((list(got.values()), ok - len(got)))
    for s in socks:
        s.close()


def run_level(n):
    proc, port, base = start_server(n)
    try:
        watchers = [sign_up(base) for _ in range(WATCHERS)]
        poster = sign_up(base)
        idle_before = rss_kib(proc.pid)
        started = time.monotonic()
        clients = []
        for i in range(CLIENT_PROCS):
            share = n // CLIENT_PROCS + (1 if i < n % CLIENT_PROCS else 0)
            parent, child = multiprocessing.Pipe()
            p = multiprocessing.Process(target=client, args=(port, watchers, share, child), daemon=True)
            p.start()
            clients.append((p, parent))
        ok = sum(parent.recv() for _, parent in clients)
        open_s = time.monotonic() - started
        time.sleep(1)
        idle_after = rss_kib(proc.pid)
        latencies, missing = [], 0
        cpu_before = cpu_s(proc.pid)
        for i in range(POSTS):
            marker = f"bench{i}x{uuid.uuid4().hex[:8]}"
            sent = time.monotonic()
            r = requests.post(base + "/api/v1/statuses", headers={"Authorization": f"Bearer {poster}"},
                              json={"status": marker}, timeout=30)
            r.raise_for_status()
            for _, parent in clients:
                parent.send(marker)
            for _, parent in clients:
                arrived, missed = parent.recv()
                latencies += [t - sent for t in arrived]
                missing += missed
        cpu_per_post = (cpu_s(proc.pid) - cpu_before) / POSTS
        peak = rss_kib(proc.pid, "VmHWM")
        for p, parent in clients:
            parent.send(None)
            p.join(30)
        lat = sorted(latencies)
        result = {
            "connections": n, "opened": ok, "open_seconds": round(open_s, 2),
            "watchers": WATCHERS, "client_processes": CLIENT_PROCS,
            "rss_idle_server_mib": round(idle_before / 1024, 1),
            "rss_with_streams_mib": round(idle_after / 1024, 1),
            "rss_per_connection_kib": round((idle_after - idle_before) / max(ok, 1), 1),
            "rss_peak_mib": round(peak / 1024, 1),
            "posts": POSTS, "deliveries": len(lat), "missing": missing,
            "delivery_p50_s": round(statistics.median(lat), 4) if lat else None,
            "delivery_p99_s": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 4) if lat else None,
            # Server CPU per post while delivering (posting, checking, rendering,
            # writing to every stream): what the load on the machine does not change.
            "server_cpu_per_post_s": round(cpu_per_post, 4),
            "load_average_1m": round(os.getloadavg()[0], 1),
            "dropped": dropped(base),
        }
        return result
    finally:
        proc.terminate()
        proc.wait(30)


def dropped(base):
    """Streams the server dropped, by reason (from /metrics)."""
    out = {}
    for line in requests.get(base + "/metrics", timeout=30).text.splitlines():
        if line.startswith("holdfast_streaming_dropped_total{"):
            reason = line.split('reason="')[1].split('"')[0]
            if float(line.split()[-1]):
                out[reason] = float(line.split()[-1])
    return out


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results = [run_level(n) for n in LEVELS]
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "summary.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))
    failed = False
    for r in results:
        if r["missing"] or r["opened"] < r["connections"]:
            print(f"FAIL: {r['connections']}: {r['missing']} deliveries missing, {r['opened']} streams opened")
            failed = True
        if r["delivery_p99_s"] is not None and r["delivery_p99_s"] > P99_BOUND_S:
            print(f"FAIL: {r['connections']}: p99 {r['delivery_p99_s']} s > {P99_BOUND_S} s")
            failed = True
    if results[-1]["rss_with_streams_mib"] > RSS_BOUND_MIB:
        print(f"FAIL: {results[-1]['rss_with_streams_mib']} MiB > {RSS_BOUND_MIB} MiB")
        failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
