"""Minimal streaming clients for the tests: SSE over `requests` and a
WebSocket client on the stdlib socket module (RFC 6455, client side: masked
frames out, ping answered with pong unless told not to)."""
import base64
import json
import os
import queue
import socket
import struct
import threading
import time

import requests

WAIT_S = 10


class SSE:
    """Reads `/api/v1/streaming/<path>` in a thread; events land in a queue as
    (event, data) pairs, comments as ("comment", text)."""

    def __init__(self, server, path, token=None, params=None, headers=None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.response = requests.get(server.url(path), params=params, headers=headers, stream=True,
                                     timeout=(5, 60))
        self.status = self.response.status_code
        self.events = queue.Queue()
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event, data = None, []
        try:
            for raw in self.response.iter_lines(chunk_size=65536, decode_unicode=True):
                line = raw or ""
                if line.startswith(":"):
                    self.events.put(("comment", line[1:]))
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
                elif line == "" and event is not None:
                    self.events.put((event, "\n".join(data)))
                    event, data = None, []
        except Exception:  # the server ended the stream (or the test closed it)
            pass
        finally:
            self.ended.set()

    def next(self, wanted=None, timeout=WAIT_S):
        """The next event (skipping comments, and events not in `wanted`)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {wanted or 'event'} within {timeout}s")
            try:
                kind, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if kind == "comment":
                continue
            if wanted is None or kind in wanted:
                return kind, data

    def close(self):
        # Shut the socket down first: closing the response while the reader
        # thread is blocked in recv would wait for the next heartbeat.
        try:
            sock = self.response.raw._connection.sock
            sock.shutdown(socket.SHUT_RDWR)
        except Exception:  # already closed, or not the urllib3 layout we know
            pass
        self.response.close()


class WS:
    """A WebSocket to `/api/v1/streaming`. Messages (text) land in a queue as
    parsed JSON; the close frame as ("close", code, reason)."""

    def __init__(self, server, token=None, query="", protocol=None, auto_pong=True, headers=None,
                 read=True, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT_S)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET /api/v1/streaming{query} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        text, _, _ = head.partition(b"\r\n\r\n")
        first, *rest = text.decode("latin-1").split("\r\n")
        self.status = int(first.split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in rest)}
        self.body = b""
        self.messages = queue.Queue()
        self.closed = threading.Event()
        self.close_frame = None
        self.auto_pong = auto_pong
        self.pings = 0
        self._lock = threading.Lock()
        if self.status == 101:
            self.sock.settimeout(None)
            if read:
                threading.Thread(target=self._read, daemon=True).start()
        else:
            length = int(self.headers.get("content-length", "0"))
            while len(self.body) < length:
                chunk = self.sock.recv(length - len(self.body))
                if not chunk:
                    break
                self.body += chunk
            self.sock.close()

    def json(self):
        return json.loads(self.body)

    def _recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read(self):
        try:
            while True:
                b0, b1 = self._recv_exact(2)
                opcode, length = b0 & 0x0F, b1 & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._recv_exact(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._recv_exact(8))[0]
                payload = self._recv_exact(length)
                if opcode == 1:
                    self.messages.put(json.loads(payload))
                elif opcode == 8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    self.close_frame = (code, payload[2:].decode())
                    self.messages.put(("close", code, payload[2:].decode()))
                    break
                elif opcode == 9:
                    self.pings += 1
                    if self.auto_pong:
                        self._send_frame(0xA, payload)
        except Exception:
            pass
        finally:
            self.closed.set()

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self._lock:
            self.sock.sendall(head + mask + masked)

    def send(self, obj):
        self._send_frame(1, (obj if isinstance(obj, str) else json.dumps(obj)).encode())

    def subscribe(self, stream, **params):
        self.send({"type": "subscribe", "stream": stream, **params})

    def unsubscribe(self, stream, **params):
        self.send({"type": "unsubscribe", "stream": stream, **params})

    def next(self, wanted=None, timeout=WAIT_S):
        """The next message whose `event` is in `wanted` (any message when None)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {wanted or 'message'} within {timeout}s")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if wanted is None or (isinstance(m, dict) and m.get("event") in wanted):
                return m
            if isinstance(m, tuple):
                raise AssertionError(f"socket closed while waiting for {wanted}: {m}")

    def close(self):
        try:
            self._send_frame(8, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
