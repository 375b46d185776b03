"""Bad input gets a clear Mastodon-shaped error, never a 500, and changes nothing."""
import json

import pytest
import requests

from conftest import create_app
from helpers import (account_of, anon_get, assert_error, bearer, raw_http, scoped_token,
                     statuses_count)

T = 30


def raw_post(client, path, body, content_type="application/json", **headers):
    return requests.post(client.server.url(path), data=body, timeout=T,
                         headers={**bearer(client.token), "Content-Type": content_type,
                                  **headers})


@pytest.mark.parametrize("body", [
    b'{"status": "unterminated',
    b'{"status": }',
    b'not json at all',
    b'[1, 2',
    b'\xff\xfe\x00garbage',
])
def test_malformed_json_body(alice, body):
    r = raw_post(alice, "/api/v1/statuses", body)
    assert_error(r, 400, 422)
    assert statuses_count(alice.server, alice.id) == 0


def test_json_array_instead_of_object(alice):
    assert_error(raw_post(alice, "/api/v1/statuses", b'["status", "x"]'), 400, 422)
    assert statuses_count(alice.server, alice.id) == 0


@pytest.mark.parametrize("fields", [
    {"status": "x", "sensitive": "banana"},
    {"status": "x", "visibility": ["public"]},
    {"status": "x", "in_reply_to_id": {"id": 1}},
    {"status": ["a", "b"]},
    {"status": {"text": "x"}},
])
def test_wrong_types(alice, fields):
    r = alice.post("/api/v1/statuses", json=fields)
    assert_error(r, 400, 422)
    assert statuses_count(alice.server, alice.id) == 0


def test_wrong_types_update_credentials(alice):
    r = alice.patch("/api/v1/accounts/update_credentials", json={"locked": "banana"})
    assert_error(r, 400, 422)
    r = alice.patch("/api/v1/accounts/update_credentials", json={"display_name": ["x"]})
    assert_error(r, 400, 422)
    a = account_of(alice.server, alice.id)
    assert a["locked"] is False and a["display_name"] != "['x']"


@pytest.mark.parametrize("path", [
    "/api/v1/statuses/999999999999999999",
    "/api/v1/statuses/999999999999999999/context",
    "/api/v1/statuses/999999999999999999/favourited_by",
    "/api/v1/statuses/999999999999999999/reblogged_by",
    "/api/v1/accounts/999999999999999999",
    "/api/v1/accounts/999999999999999999/statuses",
    "/api/v1/accounts/999999999999999999/followers",
    "/api/v1/accounts/999999999999999999/following",
    "/api/v1/notifications/999999999999999999",
])
def test_unknown_ids_are_404(alice, path):
    assert_error(alice.get(path), 404)


@pytest.mark.parametrize("path", [
    "/api/v1/statuses/abc",
    "/api/v1/statuses/-1",
    "/api/v1/statuses/1.5",
    "/api/v1/statuses/99999999999999999999999999",
    "/api/v1/statuses/%00",
    "/api/v1/accounts/abc",
    "/api/v1/accounts/abc/statuses",
    "/api/v1/notifications/abc",
])
def test_non_numeric_ids_are_404(alice, path):
    assert_error(alice.get(path), 404)


@pytest.mark.parametrize("path", [
    "/api/v1/statuses/999999999999999999/favourite",
    "/api/v1/statuses/999999999999999999/unfavourite",
    "/api/v1/statuses/999999999999999999/reblog",
    "/api/v1/statuses/999999999999999999/unreblog",
    "/api/v1/statuses/999999999999999999/bookmark",
    "/api/v1/statuses/abc/favourite",
    "/api/v1/accounts/999999999999999999/follow",
    "/api/v1/accounts/999999999999999999/unfollow",
    "/api/v1/accounts/abc/follow",
    "/api/v1/notifications/999999999999999999/dismiss",
])
def test_unknown_ids_in_actions_are_404(alice, path):
    assert_error(alice.post(path), 404)
    a = account_of(alice.server, alice.id)
    assert a["statuses_count"] == 0 and a["following_count"] == 0


def test_delete_unknown_status(alice):
    assert_error(alice.delete("/api/v1/statuses/999999999999999999"), 404)
    assert_error(alice.delete("/api/v1/statuses/abc"), 404)


def test_oversized_body_is_413(alice):
    big = json.dumps({"status": "x" * (2 * 1024 * 1024)}).encode()
    status, _, _ = raw_http(alice.server, "POST", "/api/v1/statuses",
                            {**bearer(alice.token), "Content-Type": "application/json"}, big)
    assert status == 413, status
    assert statuses_count(alice.server, alice.id) == 0
    # the server survives and keeps serving
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_oversized_form_body_is_413(alice):
    big = ("status=" + "y" * (2 * 1024 * 1024)).encode()
    status, _, _ = raw_http(alice.server, "POST", "/api/v1/statuses",
                            {**bearer(alice.token),
                             "Content-Type": "application/x-www-form-urlencoded"}, big)
    assert status == 413, status
    assert statuses_count(alice.server, alice.id) == 0


def test_oversized_app_registration_is_413(server):
    big = ("redirect_uris=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&client_name="
           + "x" * (2 * 1024 * 1024)).encode()
    status, _, _ = raw_http(server, "POST", "/api/v1/apps",
                            {"Content-Type": "application/x-www-form-urlencoded"}, big)
    assert status == 413, status


@pytest.mark.parametrize("params", [
    {"limit": "abc"}, {"max_id": "xyz"}, {"since_id": "1e9"}, {"min_id": "--"},
    {"limit": "99999999999999999999999"},
])
def test_bad_pagination_params_are_ignored(alice, params):
    # As in Mastodon: a malformed cursor is ignored, a malformed limit gives the
    # default page, an overflowing one is clamped; never a 400 or a crash.
    alice.status("something on the home timeline")
    plain = alice.get("/api/v1/timelines/home")
    r = alice.get("/api/v1/timelines/home", params=params)
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()] == [s["id"] for s in plain.json()]


@pytest.mark.parametrize("scopes", ["read bogus", "admin:everything", "read,write", "READ"])
def test_bad_scopes_at_app_creation(server, scopes):
    r = requests.post(server.url("/api/v1/apps"), timeout=T, data={
        "client_name": "bad scopes", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": scopes})
    assert_error(r, 400, 422)


def test_revoked_token_is_401(alice):
    tok = scoped_token(alice.server, alice, "read write")
    r = requests.post(alice.server.url("/oauth/revoke"), timeout=T, data={
        "token": tok, "client_id": alice.app["client_id"],
        "client_secret": alice.app["client_secret"]})
    assert r.status_code == 200
    r = requests.post(alice.server.url("/api/v1/statuses"), headers=bearer(tok), timeout=T,
                      json={"status": "after revoke"})
    assert_error(r, 401)
    assert statuses_count(alice.server, alice.id) == 0


def test_unknown_api_route_is_404(alice):
    r = alice.get("/api/v1/definitely_not_a_route")
    assert r.status_code == 404
    r = alice.get("/api/v1/statuses/1/not_an_action")
    assert r.status_code == 404


def test_wrong_method_is_404_or_405(alice):
    r = alice.delete("/api/v1/instance")
    assert r.status_code in (404, 405)
    r = alice.put("/api/v1/timelines/home")
    assert r.status_code in (404, 405)


def test_unsupported_content_type(alice):
    r = raw_post(alice, "/api/v1/statuses", b"status=hello", content_type="text/plain")
    assert r.status_code in (400, 415, 422), r.text
    assert statuses_count(alice.server, alice.id) == 0


def test_deeply_nested_json(alice):
    body = ('{"status": "x", "extra": ' + "[" * 100000 + "]" * 100000 + "}").encode()
    r = raw_post(alice, "/api/v1/statuses", body)
    assert r.status_code in (200, 400, 413, 422), r.status_code
    assert r.status_code == 200 or "error" in r.json()


def test_nul_bytes_and_odd_unicode_never_500(alice):
    for text in ["nul \u0000 byte", "rtl \u202e override", "\ud7ff\ue000 edge", "zero\u200bwidth",
                 "emoji 👩‍👩‍👧‍👦 family"]:
        r = alice.post("/api/v1/statuses", json={"status": text})
        assert r.status_code in (200, 422), (text, r.status_code, r.text)
        if r.status_code == 422:
            assert "error" in r.json()


def test_form_and_query_garbage_never_500(alice, bob):
    s = bob.status("target")
    probes = [
        ("GET", "/api/v1/accounts/relationships", {"params": {"id[]": "abc"}}),
        ("GET", "/api/v1/accounts/relationships", {"params": {"id": "1"}}),
        ("GET", "/api/v1/accounts/lookup", {"params": {}}),
        ("GET", "/api/v1/accounts/lookup", {"params": {"acct": ""}}),
        ("GET", "/api/v2/search", {"params": {"q": "x" * 5000}}),
        ("GET", "/api/v2/search", {"params": {"q": "%", "type": "statuses"}}),
        ("GET", "/api/v2/search", {"params": {"q": "x", "type": "nonsense"}}),
        ("GET", "/api/v1/timelines/tag/" + "a" * 3000, {}),
        ("GET", "/api/v1/notifications", {"params": {"types[]": "nonsense"}}),
        ("POST", f"/api/v1/statuses/{s['id']}/favourite", {"data": b"\xff\xfe"}),
        ("POST", "/api/v1/markers", {"json": {"home": {"last_read_id": {"x": 1}}}}),
        ("POST", "/api/v1/markers", {"json": {"home": "string"}}),
        ("PATCH", "/api/v1/accounts/update_credentials", {"data": "%%%"}),
    ]
    for method, path, kw in probes:
        r = alice.session.request(method, alice.server.url(path), timeout=T, **kw)
        assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
        if r.status_code >= 400 and r.headers.get("Content-Type", "").startswith(
                "application/json"):
            assert "error" in r.json(), (method, path, r.text)


def test_lookup_without_acct_is_400_or_404(server):
    r = anon_get(server, "/api/v1/accounts/lookup")
    assert_error(r, 400, 404, 422)


def test_oauth_token_malformed_requests(server):
    app = create_app(server)
    r = requests.post(server.url("/oauth/token"), data={}, timeout=T)
    assert r.status_code in (400, 401), r.text
    assert isinstance(r.json().get("error"), str)
    r = requests.post(server.url("/oauth/token"), timeout=T, data={
        "grant_type": "authorization_code", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"})
    assert r.status_code == 400, r.text  # code missing
    assert r.json()["error"] in ("invalid_request", "invalid_grant")
    r = requests.post(server.url("/oauth/token"), timeout=T, data={
        "grant_type": "authorization_code", "code": "bogus", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_errors_are_json_with_error_key(alice):
    r = alice.get("/api/v1/statuses/999999999999999999")
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"] or set(body) <= {"error", "error_description", "details"}
