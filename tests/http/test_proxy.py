"""Behind a proxy: the client's address comes from X-Forwarded-For or the
PROXY protocol (v1 and v2), and only when the peer is in `trusted_proxies`.
Every test uses the anonymous per-address rate limit (or the per-address
connection cap) as the witness of which address the server believed: a
client with its own budget was told apart; one whose budget ran out was not.

On loopback, 127.0.0.2 plays the trusted proxy and 127.0.0.1 a stranger."""
import shutil
import socket
import struct
import subprocess
import time

import pytest
import requests

from conftest import BINARY, config_file
from helpers import metric

PROXY = "127.0.0.2"
STRANGER = "127.0.0.1"
BUDGET = 3
PATH = "/api/v1/timelines/public"
LIMITS = """
[limits]
rate_token_requests = 100000
rate_token_burst_requests = 100000
rate_account_requests = 100000
rate_token_lookup_ip_requests = 100000
rate_ops_ip_requests = 100000
rate_signup_requests = 100000
rate_login_requests = 100000
rate_search_requests = 100000
rate_delete_requests = 100000
anon_cache_ttl_ms = 0
"""


def proxied_server(make_server, **overrides):
    settings = {"rate_anonymous_ip_requests": BUDGET, "trusted_proxies": f'["{PROXY}"]', **overrides}
    return make_server("--config", config_file(LIMITS + "".join(f"{k} = {v}\n" for k, v in settings.items())))


def raw_get(server, source_ip, headers=(), preamble=b"", path=PATH):
    """One GET over a fresh connection from `source_ip`, optionally preceded by raw
    bytes (a PROXY header). Returns the status code, or None if the server
    closed the connection without an answer."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source_ip, 0))
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers)
        s.sendall(preamble + head.encode() + b"\r\n")
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        if not data:
            return None
        return int(data.split(b" ", 2)[1])
    finally:
        s.close()


def proxy_v1(client_ip, client_port=40000, server_port=443):
    family = "TCP6" if ":" in client_ip else "TCP4"
    dest = "::1" if family == "TCP6" else "127.0.0.1"
    return f"PROXY {family} {client_ip} {dest} {client_port} {server_port}\r\n".encode()


V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2(client_ip, client_port=40000, server_port=443, command=1):
    if command == 0:  # LOCAL: the proxy's own connection (health checks)
        return V2_SIGNATURE + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    addresses = socket.inet_aton(client_ip) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", client_port, server_port)
    return V2_SIGNATURE + bytes([0x20 | command, 0x11]) + struct.pack("!H", len(addresses)) + addresses

def spend(server, source_ip, **kw):
    return [raw_get(server, source_ip, **kw) for _ in range(BUDGET + 1)]


SPENT = [200] * BUDGET + [429]


def test_forwarded_for_from_a_stranger_is_ignored(make_server):
    server = proxied_server(make_server)
    # A different claimed address on every request changes nothing: the
    # stranger is counted as itself.
    codes = [raw_get(server, STRANGER, headers=[("X-Forwarded-For", f"198.51.100.{i}")]) for i in range(BUDGET + 1)]
    assert codes == SPENT
    # And it cannot spend someone else's budget by naming them.
    assert raw_get(server, PROXY, headers=[("X-Forwarded-For", "198.51.100.1")]) == 200


def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_server):
    server = proxied_server(make_server)
    assert spend(server, PROXY, headers=[("X-Forwarded-For", "198.51.100.1")]) == SPENT
    # Another client behind the same proxy has a budget of its own.
    assert raw_get(server, PROXY, headers=[("X-Forwarded-For", "198.51.100.2")]) == 200
    # A client that writes its own X-Forwarded-For: the proxy appends the real
    # address, and the rightmost untrusted entry is the one believed.
    spoof = [("X-Forwarded-For", "203.0.113.1, 198.51.100.1")]
    assert raw_get(server, PROXY, headers=spoof) == 429
    # Trusted hops on the right are skipped (a chain of proxies), across fields.
    chain = [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", PROXY)]
    assert raw_get(server, PROXY, headers=chain) == 429
    # An unreadable entry stops the walk at the last trusted hop: the proxy itself.
    assert spend(server, PROXY, headers=[("X-Forwarded-For", "unknown")]) == SPENT
    assert raw_get(server, PROXY) == 429, "the proxy's own budget is the one spent"


def test_proxy_protocol_v1_and_v2_from_a_trusted_proxy(make_server):
    server = proxied_server(make_server)
    assert spend(server, PROXY, preamble=proxy_v1("198.51.100.7")) == SPENT
    # The same client through v2 is still the same client ...
    assert raw_get(server, PROXY, preamble=proxy_v2("198.51.100.7")) == 429
    # ... and another one is not.
    assert raw_get(server, PROXY, preamble=proxy_v2("198.51.100.8")) == 200
    assert raw_get(server, PROXY, preamble=proxy_v1("2001:db8::8")) == 200
    # LOCAL (a health check) and UNKNOWN name nobody: the proxy itself.
    assert raw_get(server, PROXY, preamble=proxy_v2("0.0.0.0", command=0)) == 200
    assert raw_get(server, PROXY, preamble=b"PROXY UNKNOWN\r\n") == 200
    # A trusted proxy may also speak plain HTTP on another connection.
    assert raw_get(server, PROXY) == 200


def test_proxy_protocol_from_a_stranger_is_not_believed(make_server):
    server = proxied_server(make_server)
    # A stranger's PROXY line is not a header but a malformed request: it is
    # never served, let alone as the client it names.
    for header in (proxy_v1("198.51.100.9"), proxy_v2("198.51.100.9")):
        assert raw_get(server, STRANGER, preamble=header) in (None, 400)
    assert spend(server, STRANGER) == SPENT


def test_a_malformed_proxy_header_closes_the_connection(make_server):
    server = proxied_server(make_server)
    bad = [
        b"PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n",
        b"PROXY TCP4 2001:db8::1 127.0.0.1 1 2\r\n",
        b"PROXY TCP4 198.51.100.1 127.0.0.1 1\r\n",
        b"PROXY " + b"x" * 200 + b"\r\n",
        V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 4) + b"\x01\x02\x03\x04",
        V2_SIGNATURE + bytes([0x2f, 0x11]) + struct.pack("!H", 0),
    ]
    for header in bad:
        assert raw_get(server, PROXY, preamble=header) is None, header
    assert metric(server, 'holdfast_guard_connection_refusals_total{reason="proxy_header"}') >= len(bad)
    assert raw_get(server, PROXY) == 200, "the proxy is served again at once"


def test_a_proxy_header_that_never_ends_times_out(make_server):
    server = proxied_server(make_server, header_read_timeout_ms=500)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=(PROXY, 0))
    s.sendall(b"PROXY TCP4 198.51.")
    started = time.monotonic()
    try:
        assert s.recv(1024) == b""
    except ConnectionResetError:
        pass
    waited = time.monotonic() - started
    assert 0.3 < waited < 4, f"closed after {waited:.2f}s"
    s.close()
    assert metric(server, 'holdfast_guard_connection_refusals_total{reason="proxy_header"}') >= 1


def test_the_connection_cap_applies_to_the_client_behind_the_proxy(make_server):
    server = proxied_server(make_server, max_connections_per_ip=2, header_read_timeout_ms=10000,
                            rate_anonymous_ip_requests=1000)
    held = []
    try:
        # The proxy itself carries many clients: more connections than the
        # per-address cap, without a PROXY header, are all kept open.
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=(PROXY, 0))
            held.append(s)
        # Two connections for one client named by PROXY headers fill its share ...
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=(PROXY, 0))
            s.sendall(proxy_v1("198.51.100.20"))
            held.append(s)
        time.sleep(0.3)
        # ... so its third is closed unanswered, while another client gets in.
        assert raw_get(server, PROXY, preamble=proxy_v1("198.51.100.20"), path="/healthz") is None
        assert raw_get(server, PROXY, preamble=proxy_v1("198.51.100.21"), path="/healthz") == 200
        assert metric(server, 'holdfast_guard_connection_refusals_total{reason="per_ip_cap"}') >= 1
        # The held plain connections from the proxy are still served.
        for s in held[:3]:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()


def test_bad_trusted_proxies_are_refused_at_start(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[limits]\ntrusted_proxies = ["10.0.0.0/33"]\n')
    res = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                          "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert "trusted_proxies" in res.stderr


def test_proxy_protocol_comes_before_tls(tmp_path):
    """HAProxy in TCP mode passing TLS through: the PROXY header is read first,
    then the TLS handshake, and the client it names is the one counted."""
    import ssl
    import test_tls  # the suite's certificate fixture and https server
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    config = tmp_path / "c.toml"
    config.write_text(LIMITS + f'rate_anonymous_ip_requests = {BUDGET}\ntrusted_proxies = ["{PROXY}"]\n')
    cls = type("ProxyTlsServer", (test_tls.TlsServer,), {"cert": str(cert)})
    server = cls(("--config", str(config), "--tls-cert", str(cert), "--tls-key", str(key)), None)
    context = ssl.create_default_context(cafile=str(cert))

    def get_over_tls(client_ip):
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(PROXY, 0))
        raw.sendall(proxy_v1(client_ip))
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(f"GET {PATH} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return int(data.split(b" ", 2)[1])

    try:
        assert [get_over_tls("198.51.100.30") for _ in range(BUDGET + 1)] == SPENT
        assert get_over_tls("198.51.100.31") == 200
    finally:
        server.stop()
