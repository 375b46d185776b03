"""Built-in TLS: `holdfast serve --tls-cert --tls-key` serves https with a
certificate that verifies, HTTP/2 and HTTP/1.1 by ALPN, https links, a
bounded handshake, and a clear refusal to start with a bad certificate."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import requests

import conftest
from conftest import BINARY, Server, free_port, config_file

T = 30
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="the openssl command makes the test certificate")


@pytest.fixture(scope="module")
def pki():
    """A self-signed certificate for 127.0.0.1/localhost, plus a second key that does not match it."""
    d = tempfile.mkdtemp(prefix="holdfast-tls-")
    cert, key, other_key = (os.path.join(d, n) for n in ("cert.pem", "key.pem", "other.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-out", other_key],
                   check=True, capture_output=True, timeout=60)
    yield {"dir": d, "cert": cert, "key": key, "other_key": other_key}
    shutil.rmtree(d, ignore_errors=True)


class TlsServer(Server):
    """conftest's Server, reached over https (verified against the test certificate)."""
    cert = None

    def _wait_ready(self):
        self.base_url = f"https://127.0.0.1:{self.port}"
        deadline = time.monotonic() + conftest.STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"holdfast exited early: {open(self.log_path).read()}")
            try:
                if requests.get(self.url("/healthz"), timeout=1, verify=self.cert).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("holdfast did not become healthy over https in time")


@pytest.fixture
def tls_server(pki):
    started = []

    def start(*extra, env=None, flags=True):
        cls = type("BoundTlsServer", (TlsServer,), {"cert": pki["cert"]})
        args = ["--tls-cert", pki["cert"], "--tls-key", pki["key"]] if flags else []
        s = cls((*args, *extra), env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def config_with(**entries):
    base = dict(rate_token_requests=100000, rate_token_burst_requests=100000,
                rate_anonymous_ip_requests=100000,
                rate_account_requests=100000, rate_signup_requests=100000,
                rate_token_lookup_ip_requests=100000, rate_ops_ip_requests=100000,
                rate_login_requests=100000, anon_cache_ttl_ms=0)
    top = {k: v for k, v in entries.items() if k in ("tls_cert", "tls_key")}
    limits = {**base, **{k: v for k, v in entries.items() if k not in top}}
    return config_file("".join(f'{k} = "{v}"\n' for k, v in top.items())
                       + "[limits]\n" + "".join(f"{k} = {v}\n" for k, v in limits.items()))


def alpn(server, cafile, protocols):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(protocols)
    with socket.create_connection(("127.0.0.1", server.port), timeout=T) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.selected_alpn_protocol()


def test_https_verifies_and_links_use_https(tls_server, pki, monkeypatch):
    server = tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["cert"])
    r = requests.get(server.url("/api/v1/instance"), timeout=T)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    client = conftest.sign_up(server)
    assert client.account["url"].startswith(f"https://127.0.0.1:{server.port}/@"), client.account
    s = client.status("over tls")
    assert s["url"].startswith("https://"), s["url"]
    # Not trusted without the certificate: verification is real.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url("/healthz"), timeout=T)


def test_alpn_offers_h2_and_http11(tls_server, pki):
    server = tls_server()
    assert alpn(server, pki["cert"], ["h2", "http/1.1"]) == "h2"
    assert alpn(server, pki["cert"], ["http/1.1"]) == "http/1.1"


def test_http2_request_with_curl(tls_server, pki):
    curl = shutil.which("curl")
    if curl is None or "HTTP2" not in subprocess.run([curl, "--version"], capture_output=True,
                                                       text=True).stdout:
        pytest.skip("curl with HTTP/2 is not installed")
    server = tls_server()
    out = subprocess.run([curl, "--http2", "-sS", "--cacert", pki["cert"], "-o", "/dev/null",
                          "-w", "%{http_version} %{http_code}",
                          server.url("/api/v1/instance")],
                         capture_output=True, text=True, timeout=T)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "2 200", out.stdout
    # a POST with a body over HTTP/2 reaches the body parser too
    out = subprocess.run([curl, "--http2", "-sS", "--cacert", pki["cert"], "-o", "/dev/null",
                          "-w", "%{http_version} %{http_code}", "-F", "client_name=h2",
                          "-F", "redirect_uris=urn:ietf:wg:oauth:2.0:oob",
                          server.url("/api/v1/apps")],
                         capture_output=True, text=True, timeout=T)
    assert out.stdout == "2 200", (out.stdout, out.stderr)


def test_plain_http_to_tls_port_is_not_served(tls_server, pki):
    server = tls_server()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}/api/v1/instance", timeout=T)
    metrics = requests.get(server.url("/metrics"), timeout=T, verify=pki["cert"]).text
    line = [l for l in metrics.splitlines()
            if l.startswith('holdfast_guard_connection_refusals_total{reason="tls_handshake"}')]
    assert line and float(line[0].rsplit(" ", 1)[1]) >= 1, line


def test_silent_client_is_dropped_after_the_handshake_timeout(tls_server, pki):
    server = tls_server("--config", config_with(tls_handshake_timeout_ms=500))
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        try:
            data = s.recv(1024)  # we never send a ClientHello
        except ConnectionResetError:
            data = b""
    assert data == b""
    assert time.monotonic() - started < 3


def test_tls_from_config_file_and_environment(tls_server, pki):
    server = tls_server("--config", config_with(tls_cert=pki["cert"], tls_key=pki["key"]),
                        flags=False)
    assert requests.get(server.url("/healthz"), timeout=T, verify=pki["cert"]).status_code == 200
    server = tls_server(env={"HOLDFAST_TLS_CERT": pki["cert"], "HOLDFAST_TLS_KEY": pki["key"]},
                        flags=False)
    assert requests.get(server.url("/healthz"), timeout=T, verify=pki["cert"]).status_code == 200


def run_serve(*args):
    d = tempfile.mkdtemp(prefix="holdfast-tls-bad-")
    try:
        return subprocess.run([BINARY, "serve", "--listen", f"127.0.0.1:{free_port()}",
                               "--data-dir", os.path.join(d, "data"), *args],
                              capture_output=True, text=True, timeout=30)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_bad_certificate_stops_the_start_with_a_clear_message(pki):
    missing = os.path.join(pki["dir"], "nope.pem")
    res = run_serve("--tls-cert", missing, "--tls-key", pki["key"])
    assert res.returncode != 0
    assert "certificate" in res.stderr and missing in res.stderr, res.stderr

    res = run_serve("--tls-cert", pki["cert"], "--tls-key", missing)
    assert res.returncode != 0
    assert "key" in res.stderr and missing in res.stderr, res.stderr

    garbage = os.path.join(pki["dir"], "garbage.pem")
    with open(garbage, "w") as f:
        f.write("this is not a certificate\n")
    res = run_serve("--tls-cert", garbage, "--tls-key", pki["key"])
    assert res.returncode != 0 and garbage in res.stderr, res.stderr

    res = run_serve("--tls-cert", pki["cert"], "--tls-key", pki["cert"])
    assert res.returncode != 0 and "no PEM PRIVATE KEY" in res.stderr, res.stderr

    res = run_serve("--tls-cert", pki["cert"], "--tls-key", pki["other_key"])
    assert res.returncode != 0 and "do not work together" in res.stderr, res.stderr

    res = run_serve("--tls-cert", pki["cert"])
    assert res.returncode != 0 and "--tls-key" in res.stderr, res.stderr


def link_of(client, headers=None):
    for i in range(3):
        client.status(f"paged {i}")
    r = client.get(f"/api/v1/accounts/{client.id}/statuses?limit=1", headers=headers or {})
    assert r.status_code == 200, r.text
    return r.headers["Link"]


def test_links_use_https_under_tls_whatever_the_client_claims(tls_server, pki, monkeypatch):
    server = tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["cert"])
    client = conftest.sign_up(server)
    link = link_of(client, {"X-Forwarded-Proto": "http"})
    assert link.startswith(f"<https://127.0.0.1:{server.port}/api/v1/accounts/"), link


def test_links_over_http2_name_the_host(tls_server, pki, monkeypatch):
    curl = shutil.which("curl")
    if curl is None or "HTTP2" not in subprocess.run([curl, "--version"], capture_output=True,
                                                       text=True).stdout:
        pytest.skip("curl with HTTP/2 is not installed")
    server = tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["cert"])
    client = conftest.sign_up(server)
    for i in range(3):
        client.status(f"h2 paged {i}")
    out = subprocess.run([curl, "--http2", "-sS", "--cacert", pki["cert"], "-D", "-", "-o", "/dev/null",
                          "-H", f"Authorization: Bearer {client.token}",
                          server.url(f"/api/v1/accounts/{client.id}/statuses?limit=1")],
                         capture_output=True, text=True, timeout=T)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HTTP/2 200"), out.stdout
    link = [l for l in out.stdout.splitlines() if l.lower().startswith("link:")]
    assert link and f"<https://127.0.0.1:{server.port}/" in link[0], out.stdout


def test_forwarded_proto_only_from_trusted_proxies(make_server):
    plain = make_server()
    client = conftest.sign_up(plain)
    link = link_of(client, {"X-Forwarded-Proto": "https"})
    assert link.startswith("<http://"), f"an untrusted client chose the scheme: {link}"

    proxied = make_server("--config", config_with(trusted_proxies='["127.0.0.1/32"]'))
    client = conftest.sign_up(proxied)
    assert link_of(client, {"X-Forwarded-Proto": "https"}).startswith("<https://")
    assert link_of(client).startswith("<http://")


def test_bad_trusted_proxy_stops_the_start():
    res = run_serve("--config", config_file('[limits]\ntrusted_proxies = ["10.0.0.0/99"]\n'))
    assert res.returncode != 0 and "trusted_proxies" in res.stderr, res.stderr


def test_anonymous_cache_keeps_http_and_https_links_apart(make_server):
    server = make_server("--config", config_with(trusted_proxies='["127.0.0.1/32"]',
                                                 anon_cache_ttl_ms=60000))
    client = conftest.sign_up(server)
    for i in range(3):
        client.status(f"cached {i}")
    path = server.url(f"/api/v1/accounts/{client.id}/statuses?limit=1")
    https = requests.get(path, headers={"X-Forwarded-Proto": "https"}, timeout=T)
    http = requests.get(path, timeout=T)
    assert https.headers["Link"].startswith("<https://"), https.headers["Link"]
    assert http.headers["Link"].startswith("<http://"), http.headers["Link"]
