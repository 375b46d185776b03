"""Operator CLI (`holdfast user …`) against the data directory of a running server."""
import re
import uuid

import requests

from conftest import create_app, sign_up, unique_name
from helpers import assert_error, lookup, password_grant, tget

T = 30


def cli_create(server, name, email=None, password=None):
    password = password or f"cli-{uuid.uuid4().hex}"
    email = email or f"{name}@example.com"
    res = server.cli("user", "create", name, "--email", email, input=password + "\n")
    return res, email, password


def test_user_create_then_login(server):
    name = unique_name("cli")
    res, email, password = cli_create(server, name)
    assert res.returncode == 0, res.stderr
    r = lookup(server, name)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name
    app = create_app(server)
    tok = password_grant(server, app, email, password, "read write")
    assert tok.status_code == 200, tok.text
    me = tget(server, tok.json()["access_token"], "/api/v1/accounts/verify_credentials")
    assert me.status_code == 200 and me.json()["username"] == name
    assert password_grant(server, app, email, "not-" + password, "read").status_code == 400


def test_user_create_password_first_line_only(server):
    name = unique_name("cli")
    pw = f"first-{uuid.uuid4().hex}"
    res = server.cli("user", "create", name, "--email", f"{name}@example.com",
                     input=pw + "\nsecond-line-ignored\n")
    assert res.returncode == 0, res.stderr
    app = create_app(server)
    assert password_grant(server, app, f"{name}@example.com", pw, "read").status_code == 200


def test_user_create_duplicate_fails(server, alice):
    res, _, _ = cli_create(server, alice.username, email=f"{uuid.uuid4().hex[:8]}@example.com")
    assert res.returncode != 0
    assert res.stderr.strip()
    name = unique_name("cli")
    res, _, _ = cli_create(server, name, email=alice.email)
    assert res.returncode != 0
    assert lookup(server, name).status_code == 404


def test_user_create_invalid_name_fails(server):
    res, _, _ = cli_create(server, "bad name!", email=f"{uuid.uuid4().hex[:8]}@example.com")
    assert res.returncode != 0
    assert res.stderr.strip()


def test_user_create_empty_password_fails(server):
    name = unique_name("cli")
    res = server.cli("user", "create", name, "--email", f"{name}@example.com", input="\n")
    assert res.returncode != 0
    assert lookup(server, name).status_code == 404


def test_user_list(server):
    api_user = sign_up(server)
    name = unique_name("cli")
    res, _, _ = cli_create(server, name)
    assert res.returncode == 0, res.stderr
    res = server.cli("user", "list")
    assert res.returncode == 0, res.stderr
    for n in (name, api_user.username):
        # the name as a word of its own (not merely inside its e-mail address)
        assert re.search(rf"(?<![\w.]){re.escape(n)}(?![\w@.])", res.stdout), res.stdout
    assert api_user.password not in res.stdout  # never print secrets


def test_user_suspend(server):
    victim = sign_up(server)
    other = sign_up(server)
    s = victim.status("before suspension")
    res = server.cli("user", "suspend", victim.username)
    assert res.returncode == 0, res.stderr
    # existing tokens stop working
    assert_error(victim.get("/api/v1/accounts/verify_credentials"), 401)
    r = victim.post("/api/v1/statuses", json={"status": "after suspension"})
    assert_error(r, 401)
    # password log-in is refused
    login = password_grant(server, victim.app, victim.email, victim.password, "read")
    assert login.status_code in (400, 401, 403), login.text
    assert "access_token" not in login.json()
    # other users are unaffected
    assert other.get("/api/v1/accounts/verify_credentials").status_code == 200
    # the suspended account's content no longer shows up
    assert other.get(f"/api/v1/statuses/{s['id']}").status_code == 404


def test_user_suspend_unknown_fails(server):
    res = server.cli("user", "suspend", unique_name("nobody"))
    assert res.returncode != 0
    assert res.stderr.strip()


def test_cli_user_works_with_oauth_authorize(server):
    name = unique_name("cli")
    res, email, password = cli_create(server, name)
    assert res.returncode == 0, res.stderr
    cb = "https://app.example/cli"
    app = requests.post(server.url("/api/v1/apps"), timeout=T, data={
        "client_name": "cli-app", "redirect_uris": cb, "scopes": "read"}).json()
    params = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": cb,
              "scope": "read"}
    # The authorize page's two steps: log in (a session cookie), then consent.
    sess = requests.Session()
    r = sess.post(server.url("/oauth/authorize"), allow_redirects=False, timeout=T,
                  data=dict(params, email=email, password=password))
    assert r.status_code == 303, r.text
    consent = sess.get(server.url(r.headers["Location"]), timeout=T)
    assert 'id="authorize"' in consent.text, consent.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', consent.text).group(1)
    r = sess.post(server.url("/oauth/authorize"), allow_redirects=False, timeout=T,
                  data=dict(params, decision="authorize", csrf_token=csrf))
    assert r.status_code == 302, r.text
    assert "code=" in r.headers["Location"]
