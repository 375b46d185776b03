"""Request bodies in every encoding Mastodon takes: JSON, URL-encoded forms and
multipart/form-data, with Rails-style nested names, one body cap for all of
them (413 as soon as it is passed), and JSON errors for every refusal."""
import socket
import uuid

import requests

from conftest import create_app, app_token, unique_name
from helpers import assert_error, bearer, json_of, raw_http, statuses_count

T = 30
# tests/holdfast-test.toml keeps the default body caps.
BODY_MAX_BYTES = 256 * 1024
CREDENTIALS_BODY_MAX_BYTES = 16 * 1024


def multipart_body(parts, boundary="holdfastBoundary7MA4YWxk"):
    """Raw multipart bytes from (headers, payload) pairs; headers is a list of lines."""
    out = b""
    for headers, payload in parts:
        out += f"--{boundary}\r\n".encode()
        out += "".join(h + "\r\n" for h in headers).encode() + b"\r\n"
        out += payload + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def text_part(name, value):
    return [f'Content-Disposition: form-data; name="{name}"'], value.encode()


def raw_chunked(server, method, path, headers, chunks, timeout=20):
    """Send a chunked body (no Content-Length, so the server cannot refuse it up
    front) and return (status, body). Stops sending once an answer arrives."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                "Transfer-Encoding: chunked", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.setblocking(False)
        data = b""
        sent = 0
        for chunk in chunks:
            try:
                data += sock.recv(65536)
            except BlockingIOError:
                pass
            if data:
                break
            sock.setblocking(True)
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.setblocking(False)
        sock.setblocking(True)
        sock.settimeout(timeout)
        if not data:
            try:
                sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        while True:
            try:
                more = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not more:
                break
            data += more
    finally:
        sock.close()
    assert data, "no HTTP response at all"
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, sent


# ---- multipart works on real endpoints ----

def test_status_as_multipart(alice):
    text = f"multipart {uuid.uuid4().hex}"
    r = alice.post("/api/v1/statuses",
                   files={"status": (None, text), "visibility": (None, "unlisted")})
    assert r.status_code == 200, r.text
    s = r.json()
    assert text in s["content"] and s["visibility"] == "unlisted"


def test_update_credentials_nested_names_multipart(alice):
    name = f"Multi {uuid.uuid4().hex[:6]}"
    r = alice.patch("/api/v1/accounts/update_credentials",
                    files={"display_name": (None, name), "source[privacy]": (None, "private"),
                           "source[sensitive]": (None, "true"), "locked": (None, "true")})
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["display_name"] == name and me["locked"] is True
    assert me["source"]["privacy"] == "private" and me["source"]["sensitive"] is True
    # and it stuck
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["source"]["privacy"] == "private"


def test_update_credentials_nested_names_form(alice):
    r = alice.patch("/api/v1/accounts/update_credentials",
                    data={"source[privacy]": "unlisted", "source[language]": "de"})
    assert r.status_code == 200, r.text
    assert r.json()["source"]["privacy"] == "unlisted"
    assert r.json()["source"]["language"] == "de"


def test_sign_up_as_multipart(server):
    """masto.js sends POST /api/v1/accounts as multipart/form-data."""
    app = create_app(server)
    token = app_token(server, app)
    username = unique_name("mp")
    r = requests.post(server.url("/api/v1/accounts"), headers=bearer(token), timeout=T, files={
        "username": (None, username), "email": (None, f"{username}@example.com"),
        "password": (None, f"pw-{uuid.uuid4().hex}"), "agreement": (None, "true"),
        "locale": (None, "en")})
    assert r.status_code == 200, r.text
    me = requests.get(server.url("/api/v1/accounts/verify_credentials"), timeout=T,
                      headers=bearer(r.json()["access_token"]))
    assert me.status_code == 200 and me.json()["username"] == username


def test_list_names_in_multipart_reach_list_params(alice, bob):
    """`id[]` parts become a list, as in a form or query string."""
    body, ctype = multipart_body([text_part("id[]", bob.id), text_part("id[]", alice.id)])
    r = requests.get(alice.server.url("/api/v1/accounts/relationships"), data=body, timeout=T,
                     headers={**bearer(alice.token), "Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert sorted(x["id"] for x in r.json()) == sorted([alice.id, bob.id])


def test_file_part_on_an_endpoint_without_files_is_ignored(alice):
    text = f"with a stray file {uuid.uuid4().hex}"
    r = alice.post("/api/v1/statuses", files={
        "status": (None, text), "stray": ("x.bin", b"\x00\x01\x02", "application/octet-stream")})
    assert r.status_code == 200, r.text
    assert text in r.json()["content"]


# ---- bad multipart bodies ----

def test_oversized_multipart_is_413(alice):
    body, ctype = multipart_body([
        text_part("status", "big"),
        (['Content-Disposition: form-data; name="file"; filename="big.bin"',
          "Content-Type: application/octet-stream"], b"\x00" * (BODY_MAX_BYTES + 1024)),
    ])
    status, _, resp = raw_http(alice.server, "POST", "/api/v1/statuses",
                               {**bearer(alice.token), "Content-Type": ctype}, body)
    assert status == 413, (status, resp[:200])
    assert statuses_count(alice.server, alice.id) == 0
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_oversized_chunked_multipart_is_413_before_the_end(alice):
    """No Content-Length: the server must stop at the cap and answer, not read all
    64 MiB first. (Socket buffers on loopback hold a few MiB, hence the margin.)"""
    boundary = "chunkyBoundary"
    first = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    chunks = [first] + [b"\x00" * 65536] * 1024
    status, body, sent = raw_chunked(
        alice.server, "POST", "/api/v1/statuses",
        {**bearer(alice.token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        chunks)
    assert status == 413, (status, body[:200])
    assert sent < 32 * 1024 * 1024, f"server kept reading: {sent} bytes sent"
    assert statuses_count(alice.server, alice.id) == 0


def test_oversized_chunked_json_is_413(alice):
    chunks = [b'{"status": "'] + [b"x" * 16384] * 64
    status, body, _ = raw_chunked(alice.server, "POST", "/api/v1/statuses",
                                  {**bearer(alice.token), "Content-Type": "application/json"},
                                  chunks)
    assert status == 413, (status, body[:200])


def test_multipart_sign_up_has_the_tighter_credentials_cap(server):
    app = create_app(server)
    token = app_token(server, app)
    body, ctype = multipart_body([text_part("username", unique_name("big")),
                                  text_part("note", "n" * (CREDENTIALS_BODY_MAX_BYTES + 100))])
    status, _, _ = raw_http(server, "POST", "/api/v1/accounts",
                            {**bearer(token), "Content-Type": ctype}, body)
    assert status == 413


def test_truncated_multipart_is_400(alice):
    body, ctype = multipart_body([text_part("status", "never posted")])
    cut = body[: body.index(b"never") + 5]  # no closing boundary at all
    r = requests.post(alice.server.url("/api/v1/statuses"), data=cut, timeout=T,
                      headers={**bearer(alice.token), "Content-Type": ctype})
    assert_error(r, 400)
    assert statuses_count(alice.server, alice.id) == 0


def test_multipart_cut_off_mid_body_is_400(alice):
    """Content-Length promises the whole body; the client stops writing mid-part."""
    body, ctype = multipart_body([text_part("status", "cut off " + "z" * 2000)])
    sock = socket.create_connection(("127.0.0.1", alice.server.port), timeout=T)
    try:
        head = ["POST /api/v1/statuses HTTP/1.1", f"Host: 127.0.0.1:{alice.server.port}",
                f"Content-Length: {len(body)}", f"Content-Type: {ctype}",
                f"Authorization: Bearer {alice.token}", "Connection: close"]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:1000])
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    # hyper may also just close a connection whose body ended early; never a 2xx or 500.
    if data:
        status = int(data.split()[1])
        assert status == 400, data[:300]
    assert statuses_count(alice.server, alice.id) == 0


def test_multipart_part_without_name(alice):
    body, ctype = multipart_body([text_part("status", "nameless sibling"),
                                  (["Content-Disposition: form-data"], b"orphan")])
    r = requests.post(alice.server.url("/api/v1/statuses"), data=body, timeout=T,
                      headers={**bearer(alice.token), "Content-Type": ctype})
    body = assert_error(r, 400, 422)
    assert "name" in body["error"]
    assert statuses_count(alice.server, alice.id) == 0


def test_multipart_without_boundary(alice):
    r = requests.post(alice.server.url("/api/v1/statuses"), data=b"--x\r\n", timeout=T,
                      headers={**bearer(alice.token), "Content-Type": "multipart/form-data"})
    assert_error(r, 400)


def test_multipart_text_that_is_not_utf8(alice):
    body, ctype = multipart_body([(['Content-Disposition: form-data; name="status"'],
                                   b"\xff\xfe bad")])
    r = requests.post(alice.server.url("/api/v1/statuses"), data=body, timeout=T,
                      headers={**bearer(alice.token), "Content-Type": ctype})
    assert_error(r, 400)
    assert statuses_count(alice.server, alice.id) == 0


def test_too_many_multipart_parts(alice):
    body, ctype = multipart_body([text_part(f"p{i}", "x") for i in range(500)])
    r = requests.post(alice.server.url("/api/v1/statuses"), data=body, timeout=T,
                      headers={**bearer(alice.token), "Content-Type": ctype})
    assert_error(r, 413)


# ---- other encodings and refusals ----

def test_unknown_content_type_is_415(alice):
    r = requests.post(alice.server.url("/api/v1/statuses"), data=b"status=hello", timeout=T,
                      headers={**bearer(alice.token), "Content-Type": "text/plain"})
    body = assert_error(r, 415)
    assert "text/plain" in body["error"]
    assert statuses_count(alice.server, alice.id) == 0


def test_empty_body_with_any_content_type_is_fine(alice, bob):
    r = requests.post(alice.server.url(f"/api/v1/accounts/{bob.id}/follow"), data=b"",
                      timeout=T, headers={**bearer(alice.token), "Content-Type": "text/plain"})
    assert r.status_code == 200, r.text


def test_malformed_json_is_400(alice):
    r = requests.post(alice.server.url("/api/v1/statuses"), data=b'{"status": ', timeout=T,
                      headers={**bearer(alice.token), "Content-Type": "application/json"})
    assert_error(r, 400)


def test_conflicting_nested_names_are_400(alice):
    r = alice.patch("/api/v1/accounts/update_credentials",
                    data="source=x&source[privacy]=private",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 400)
    assert alice.get("/api/v1/accounts/verify_credentials").json()["source"]["privacy"] == "public"


def test_too_deeply_nested_name_is_400(alice):
    r = alice.post("/api/v1/statuses", data={"status": "deep", "a" + "[b]" * 50: "1"})
    assert_error(r, 400)
    assert statuses_count(alice.server, alice.id) == 0


def test_query_and_body_merge_body_wins(alice):
    text = f"from the body {uuid.uuid4().hex}"
    r = alice.post("/api/v1/statuses?status=from+the+query&visibility=private",
                   data={"status": text})
    assert r.status_code == 200, r.text
    assert text in r.json()["content"] and r.json()["visibility"] == "private"


def test_wrong_method_on_known_path_is_405_json(alice):
    for method, path, allowed in [("DELETE", "/api/v1/instance", "GET"),
                                  ("PUT", "/api/v1/timelines/home", "GET"),
                                  ("GET", "/api/v1/accounts/update_credentials", "PATCH")]:
        r = alice.session.request(method, alice.server.url(path), timeout=T)
        body = assert_error(r, 405)
        assert allowed in r.headers.get("Allow", ""), (path, r.headers)
        assert body["error"]


def test_unknown_path_is_404_json(alice):
    assert_error(alice.get("/api/v1/no_such_thing"), 404)
    assert_error(alice.post("/no/such/page"), 404)
    json_of(alice.get("/api/v9/whatever"))


def test_framework_rejections_are_json_too(alice):
    """A path segment that is not UTF-8 is refused by the router's extractor; still JSON."""
    for path in ["/api/v1/statuses/%FF", "/api/v1/accounts/%C3%28/followers",
                 "/api/v1/timelines/tag/%FF", "/api/v1/tags/%FF"]:
        r = alice.get(path)
        body = assert_error(r, 400, 404)
        assert body["error"], path
