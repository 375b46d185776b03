#!/usr/bin/env python3
"""Image upload benchmark: throughput and server memory while many 10 MP
photos are uploaded (and decoded) at once.

Starts `holdfast serve` itself on a free loopback port with a temporary data
directory (SQLite), signs up one account per uploader, then N uploaders each
POST the same photo to /api/v2/media at the same moment, ROUNDS times. A 503
(decode pool or admission full) is retried after its Retry-After, as a client
would, within a deadline. The server's memory is read from
/proc/<pid>/status: VmHWM (peak resident set) at the end, VmRSS sampled.

    bench/media/run.py                      # 16 uploaders x 3 rounds, 10 MP JPEG
    UPLOADERS=16 ROUNDS=5 MEGAPIXELS=10 bench/media/run.py
    HOLDFAST_BIN=target/debug/holdfast bench/media/run.py

Needs Python with `requests` and `Pillow` (tests/requirements.txt). Writes
bench/media/results/summary.json and prints a summary; exits non-zero if the
peak RSS passes RSS_BOUND_MIB (default 400) or an upload never succeeded.
"""
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("HOLDFAST_BIN", os.path.join(REPO, "target", "release", "holdfast"))
UPLOADERS = int(os.environ.get("UPLOADERS", "16"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
MEGAPIXELS = float(os.environ.get("MEGAPIXELS", "10"))
RSS_BOUND_MIB = int(os.environ.get("RSS_BOUND_MIB", "400"))
UPLOAD_DEADLINE_S = float(os.environ.get("UPLOAD_DEADLINE_S", "120"))
SAMPLE_EVERY_S = 0.1

# Only what the benchmark needs changed: rate limits out of the way (one
# address, many uploads). Decode pool, admission and body caps are the defaults.
CONFIG = """
[limits]
rate_token_requests = 1000000
rate_token_burst_requests = 1000000
rate_anonymous_ip_requests = 1000000
rate_account_requests = 1000000
rate_token_lookup_ip_requests = 1000000
rate_ops_ip_requests = 1000000
rate_signup_requests = 1000000
rate_login_requests = 1000000
rate_media_requests = 1000000
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photo(megapixels):
    """A photo-like JPEG (smooth gradients plus sensor-like noise, so it
    compresses like a camera picture, not like a flat colour), 4:3."""
    w = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    h = int(w * 3 / 4)
    small = Image.new("RGB", (64, 48))
    rnd = random.Random(7)
    for y in range(48):
        for x in range(64):
            small.putpixel((x, y), (4 * x, 5 * y, (x * y + rnd.randrange(60)) % 256))
    img = small.resize((w, h), Image.BICUBIC)
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    img = Image.blend(img, noise, 0.15)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue(), (w, h)


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024  # kB -> MiB
    return 0


def sign_up(base):
    app = requests.post(f"{base}/api/v1/apps", data={
        "client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write"}, timeout=30).json()
    tok = requests.post(f"{base}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "read write"}, timeout=30).json()["access_token"]
    name = f"b{uuid.uuid4().hex[:12]}"
    r = requests.post(f"{base}/api/v1/accounts", headers={"Authorization": f"Bearer {tok}"}, json={
        "username": name, "email": f"{name}@example.com", "password": "pw-" + uuid.uuid4().hex,
        "agreement": True, "locale": "en"}, timeout=60)
    r.raise_for_status()
    return r.json()["access_token"]


def main():
    if not os.path.exists(BIN):
        sys.exit(f"no binary at {BIN}: cargo build --release (or set HOLDFAST_BIN)")
    data, (w, h) = photo(MEGAPIXELS)
    print(f"photo: {w}x{h} ({w * h / 1e6:.1f} MP), {len(data) / 1e6:.2f} MB JPEG", file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="holdfast-media-bench-")
    cfg = os.path.join(tmp, "bench.toml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "server.log"), "w")
    server = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
                               os.path.join(tmp, "data"), "--domain", "localhost", "--config", cfg],
                              stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, RUST_LOG="warn"))
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("server did not start")
        tokens = [sign_up(base) for _ in range(UPLOADERS)]
        idle_rss = proc_status(server.pid, "VmRSS")

        samples = []
        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                samples.append((time.monotonic(), proc_status(server.pid, "VmRSS")))
                time.sleep(SAMPLE_EVERY_S)

        latencies, refusals, failures = [], [0], []
        lock = threading.Lock()

        def uploader(token, barrier):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            for _ in range(ROUNDS):
                barrier.wait()
                started = time.monotonic()
                while True:
                    try:
                        r = session.post(f"{base}/api/v2/media", files={"file": ("p.jpg", data, "image/jpeg")},
                                         timeout=UPLOAD_DEADLINE_S)
                    except requests.RequestException as e:
                        with lock:
                            failures.append(f"request failed: {e}")
                        break
                    if r.status_code == 200:
                        with lock:
                            latencies.append(time.monotonic() - started)
                        break
                    if r.status_code in (429, 503) and time.monotonic() - started < UPLOAD_DEADLINE_S:
                        with lock:
                            refusals[0] += 1
                        time.sleep(float(r.headers.get("Retry-After", "1")))
                        continue
                    with lock:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                    break

        threading.Thread(target=sampler, daemon=True).start()
        barrier = threading.Barrier(UPLOADERS)
        threads = [threading.Thread(target=uploader, args=(t, barrier)) for t in tokens]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        stop.set()
        hwm = proc_status(server.pid, "VmHWM")
        peak_sampled = max((s[1] for s in samples), default=0)
        latencies.sort()
        done = len(latencies)

        def pct(p):
            return round(latencies[min(done - 1, int(p * done))], 3) if done else None

        summary = {
            "binary": BIN,
            "uploaders": UPLOADERS,
            "rounds": ROUNDS,
            "photo": {"width": w, "height": h, "megapixels": round(w * h / 1e6, 2), "jpeg_bytes": len(data)},
            "uploads_ok": done,
            "uploads_failed": len(failures),
            "failures": failures[:5],
            "retried_refusals_429_503": refusals[0],
            "elapsed_s": round(elapsed, 2),
            "uploads_per_s": round(done / elapsed, 2),
            "megapixels_per_s": round(done * w * h / 1e6 / elapsed, 1),
            "latency_s": {"p50": pct(0.5), "p90": pct(0.9), "max": latencies[-1] if done else None},
            "rss_mib": {"idle": idle_rss, "peak_sampled": peak_sampled, "vm_hwm": hwm, "bound": RSS_BOUND_MIB},
            "cores": os.cpu_count(),
        }
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print(json.dumps(summary, indent=2))
        write_plot(os.path.join(HERE, "results", "rss.svg"), samples, t0, RSS_BOUND_MIB, summary)
        ok = done == UPLOADERS * ROUNDS and hwm <= RSS_BOUND_MIB
        if hwm > RSS_BOUND_MIB:
            print(f"FAIL: peak RSS {hwm} MiB is above the bound of {RSS_BOUND_MIB} MiB", file=sys.stderr)
        if done != UPLOADERS * ROUNDS:
            print(f"FAIL: {UPLOADERS * ROUNDS - done} uploads never succeeded", file=sys.stderr)
        sys.exit(0 if ok else 1)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def write_plot(path, samples, t0, bound_mib, summary):
    """Server RSS over time as a small standalone SVG (no plotting library needed)."""
    points = [(t - t0, rss) for t, rss in samples if t >= t0]
    if not points:
        return
    width, height, pad = 640, 320, 48
    t_max = max(p[0] for p in points) or 1.0
    y_max = max(bound_mib, max(p[1] for p in points)) * 1.1
    x = lambda t: pad + (width - 2 * pad) * t / t_max
    y = lambda v: height - pad - (height - 2 * pad) * v / y_max
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    title = (f"{summary['uploaders']} concurrent uploads of {summary['photo']['megapixels']} MP, "
             f"{summary['rounds']} rounds: server RSS (MiB)")
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{pad}" y="20" font-size="13">{title}</text>
<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>
<line x1="{pad}" y1="{y(bound_mib):.1f}" x2="{width - pad}" y2="{y(bound_mib):.1f}" stroke="red" stroke-dasharray="4 3"/>
<text x="{width - pad - 90}" y="{y(bound_mib) - 4:.1f}" fill="red">bound {bound_mib} MiB</text>
<polyline points="{line}" fill="none" stroke="steelblue" stroke-width="1.5"/>
<text x="{pad - 4}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>
<text x="{pad - 4}" y="{y(y_max / 1.1) + 4:.1f}" text-anchor="end">{y_max / 1.1:.0f}</text>
<text x="{width - pad}" y="{height - pad + 16}" text-anchor="end">{t_max:.0f} s</text>
<text x="{width / 2}" y="{height - 10}" text-anchor="middle">time since the first upload (s)</text>
</svg>
"""
    with open(path, "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
