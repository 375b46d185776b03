"""Lingering close: an answer given before the request body was read (404 on an
unknown route, 413 on a body over the cap) reaches the client instead of a
connection reset, and a client that never stops sending is still cut off
within the linger bounds (tests/holdfast-test.toml keeps the defaults:
linger_time_ms 2000, linger_idle_ms 2000)."""
import json
import shutil
import socket
import subprocess
import time

import pytest

T = 30
LINGER_TIME_S = 2.0


def read_reply(sock):
    """Reads until the server closes; returns (status, json body)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, body = data.split(b"\r\n\r\n", 1)
            length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split(b" ")[1]), json.loads(body)


def head_lines(server, path, length, ctype, token=None):
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Content-Type: {ctype}", f"Content-Length: {length}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart_6k():
    boundary = "lingerBoundary42"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"x" * 6000 + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_unknown_route_with_multipart_body_gets_404_json(server):
    body, ctype = multipart_6k()
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=T)
        try:
            sock.sendall(head_lines(server, "/api/v1/nonexistent", len(body), ctype) + body)
            status, answer = read_reply(sock)
        finally:
            sock.close()
        assert status == 404
        assert "error" in answer


def test_60mb_media_upload_gets_413_json_not_reset(server, alice):
    """The body is sent in chunks while the reply is awaited, as a browser does."""
    total = 60 * 1024 * 1024
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=T)
    sock.setblocking(True)
    try:
        sock.sendall(head_lines(server, "/api/v2/media", total,
                                "multipart/form-data; boundary=b", alice.token))
        chunk = b"y" * 65536
        sent, reply = 0, b""
        sock.settimeout(0.05)
        deadline = time.monotonic() + T
        while time.monotonic() < deadline:
            if sent < total:
                try:
                    sent += sock.send(chunk)
                except socket.timeout:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    sent = total  # the server stopped reading: now just read
            try:
                got = sock.recv(65536)
            except socket.timeout:
                continue
            if not got:
                break
            reply += got
        assert reply, "no answer before the connection ended"
        head, body = reply.split(b"\r\n\r\n", 1)
        assert int(head.split(b" ")[1]) == 413
        assert "error" in json.loads(body)
    finally:
        sock.close()


def test_endless_sender_is_cut_off_within_linger_bounds(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=T)
    try:
        sock.sendall(head_lines(server, "/api/v1/nonexistent", 10 ** 12, "application/octet-stream"))
        sock.settimeout(0.05)
        start = time.monotonic()
        got_answer, cut_off = False, False
        while time.monotonic() - start < 20:
            try:
                sock.send(b"z" * 4096)
            except socket.timeout:
                pass
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
            try:
                data = sock.recv(65536)
                if data.startswith(b"HTTP/1.1 404"):
                    got_answer = True
            except socket.timeout:
                pass
            except ConnectionResetError:
                cut_off = True
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        assert got_answer
        assert cut_off, "the server kept reading past the linger bounds"
        assert elapsed < LINGER_TIME_S + 3, elapsed
    finally:
        sock.close()


NODE_SCRIPT = r"""
const base = process.argv[1], token = process.argv[2];
(async () => {
  const out = {};
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(6000)]), 'a.bin');
  let r = await fetch(base + '/api/v1/nonexistent', {method: 'POST', body: fd});
  out.notfound = [r.status, await r.json()];
  const big = new FormData();
  big.append('file', new Blob([new Uint8Array(60 * 1024 * 1024)]), 'big.bin');
  r = await fetch(base + '/api/v2/media', {method: 'POST', body: big,
                  headers: {Authorization: 'Bearer ' + token}});
  out.toolarge = [r.status, await r.json()];
  console.log(JSON.stringify(out));
})().catch(e => { console.log(JSON.stringify({failed: String(e) + ' ' + String(e.cause)})); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_fetch_gets_404_and_413(server, alice):
    done = subprocess.run(["node", "-e", NODE_SCRIPT, server.base_url, alice.token],
                          capture_output=True, text=True, timeout=60)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "failed" not in out, out
    assert out["notfound"][0] == 404 and "error" in out["notfound"][1]
    assert out["toolarge"][0] == 413 and "error" in out["toolarge"][1]
