"""OAuth 2: apps, authorization code (oob and redirect), password and
client_credentials grants, revocation, and scope enforcement."""
from urllib.parse import parse_qs, urlparse

import requests

from conftest import app_token, create_app, sign_up
from helpers import (OOB, TOKEN_KEYS, assert_error, assert_oauth_error, bearer,
                     extract_code_candidates, json_of, password_grant, scoped_token,
                     statuses_count, tget, tpost, uniq)

T = 30


def post_app(server, **kw):
    return requests.post(server.url("/api/v1/apps"), timeout=T, **kw)


def token_req(server, **data):
    return requests.post(server.url("/oauth/token"), data=data, timeout=T)


# ---------------------------------------------------------------- apps

def test_create_app_form_returns_credential_application(server):
    r = post_app(server, data={"client_name": "My App", "redirect_uris": OOB,
                               "scopes": "read write", "website": "https://app.example"})
    assert r.status_code == 200, r.text
    app = json_of(r)
    for k in ("id", "name", "website", "client_id", "client_secret", "redirect_uri",
              "redirect_uris", "scopes"):
        assert k in app, (k, app)
    assert isinstance(app["id"], str) and app["id"]
    assert app["name"] == "My App"
    assert app["website"] == "https://app.example"
    assert isinstance(app["client_id"], str) and len(app["client_id"]) >= 16
    assert isinstance(app["client_secret"], str) and len(app["client_secret"]) >= 16
    assert app["client_id"] != app["client_secret"]
    assert app["redirect_uri"] == OOB
    assert app["redirect_uris"] == [OOB]
    assert app["scopes"] == ["read", "write"]


def test_create_app_json_with_multiple_redirect_uris(server):
    uris = ["https://app.example/callback", "https://app.example/register"]
    r = post_app(server, json={"client_name": "JSON App", "redirect_uris": uris,
                               "scopes": "read write push"})
    assert r.status_code == 200, r.text
    app = r.json()
    assert app["redirect_uris"] == uris
    assert app["scopes"] == ["read", "write", "push"]
    assert app["website"] is None


def test_create_app_default_scope_is_read(server):
    r = post_app(server, data={"client_name": "Defaults", "redirect_uris": OOB})
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == ["read"]


def test_two_apps_get_distinct_credentials(server):
    a, b = create_app(server), create_app(server)
    assert a["id"] != b["id"]
    assert a["client_id"] != b["client_id"]
    assert a["client_secret"] != b["client_secret"]


def test_create_app_requires_client_name(server):
    assert_error(post_app(server, data={"redirect_uris": OOB}), 422)


def test_create_app_requires_redirect_uris(server):
    assert_error(post_app(server, data={"client_name": "x"}), 422)


def test_create_app_rejects_relative_redirect_uri(server):
    assert_error(post_app(server, data={"client_name": "x", "redirect_uris": "not a uri"}), 422)


def test_create_app_rejects_unknown_scope(server):
    assert_error(post_app(server, data={"client_name": "x", "redirect_uris": OOB,
                                        "scopes": "read bogus:scope"}), 400, 422)


def test_app_verify_credentials_with_app_token(server):
    app = create_app(server)
    tok = app_token(server, app)
    r = tget(server, tok, "/api/v1/apps/verify_credentials")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "holdfast-tests"
    assert body["website"] == "https://example.invalid"
    assert "client_secret" not in body


def test_app_verify_credentials_with_user_token(alice):
    r = alice.get("/api/v1/apps/verify_credentials")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "holdfast-tests"


def test_app_verify_credentials_without_or_bad_token(server):
    assert_error(requests.get(server.url("/api/v1/apps/verify_credentials"), timeout=T), 401)
    assert_error(tget(server, "not-a-real-token", "/api/v1/apps/verify_credentials"), 401)


# ---------------------------------------------------------------- token endpoint

def test_client_credentials_token_shape(server):
    app = create_app(server)
    r = token_req(server, grant_type="client_credentials", client_id=app["client_id"],
                  client_secret=app["client_secret"], scope="read write")
    assert r.status_code == 200, r.text
    tok = json_of(r)
    assert TOKEN_KEYS <= set(tok), tok
    assert tok["token_type"] == "Bearer"
    assert set(tok["scope"].split()) == {"read", "write"}
    assert isinstance(tok["created_at"], int) and tok["created_at"] > 1_600_000_000
    assert isinstance(tok["access_token"], str) and len(tok["access_token"]) >= 16


def test_client_credentials_scope_defaults_to_read(server):
    app = create_app(server)
    r = token_req(server, grant_type="client_credentials", client_id=app["client_id"],
                  client_secret=app["client_secret"])
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "read"


def test_client_credentials_bad_secret_is_invalid_client(server):
    app = create_app(server)
    r = token_req(server, grant_type="client_credentials", client_id=app["client_id"],
                  client_secret="wrong", scope="read")
    assert_oauth_error(r, 401, "invalid_client")


def test_unknown_client_is_invalid_client(server):
    r = token_req(server, grant_type="client_credentials", client_id="nope",
                  client_secret="nope", scope="read")
    assert_oauth_error(r, 401, "invalid_client")


def test_unsupported_grant_type(server):
    app = create_app(server)
    r = token_req(server, grant_type="implicit", client_id=app["client_id"],
                  client_secret=app["client_secret"])
    assert_oauth_error(r, 400, "unsupported_grant_type")


def test_scope_beyond_app_scopes_is_invalid_scope(server):
    app = create_app(server, scopes="read")
    r = token_req(server, grant_type="client_credentials", client_id=app["client_id"],
                  client_secret=app["client_secret"], scope="read write")
    assert_oauth_error(r, 400, "invalid_scope")


def test_password_grant_gives_working_user_token(alice):
    r = password_grant(alice.server, alice.app, alice.email, alice.password, "read write")
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer"
    assert set(tok["scope"].split()) == {"read", "write"}
    me = tget(alice.server, tok["access_token"], "/api/v1/accounts/verify_credentials")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == alice.id


def test_password_grant_wrong_password_is_invalid_grant(alice):
    r = password_grant(alice.server, alice.app, alice.email, "wrong-password", "read")
    assert_oauth_error(r, 400, "invalid_grant")


def test_password_grant_unknown_user_is_invalid_grant(server):
    app = create_app(server)
    r = password_grant(server, app, f"{uniq()}@example.com", "whatever-123", "read")
    assert_oauth_error(r, 400, "invalid_grant")


def test_password_grant_bad_client_secret(alice):
    app = dict(alice.app, client_secret="wrong")
    r = password_grant(alice.server, app, alice.email, alice.password, "read")
    assert_oauth_error(r, 401, "invalid_client")


# ---------------------------------------------------------------- authorize

def authorize_params(app, redirect_uri=OOB, scope="read write", state=None):
    p = {"response_type": "code", "client_id": app["client_id"],
         "redirect_uri": redirect_uri, "scope": scope}
    if state is not None:
        p["state"] = state
    return p


def exchange_code(server, app, code, redirect_uri=OOB, secret=None):
    return token_req(server, grant_type="authorization_code", code=code,
                     client_id=app["client_id"],
                     client_secret=secret or app["client_secret"], redirect_uri=redirect_uri)


def test_authorize_get_renders_login_form(server):
    app = create_app(server)
    r = requests.get(server.url("/oauth/authorize"), params=authorize_params(app), timeout=T)
    assert r.status_code == 200, r.text
    assert "text/html" in r.headers.get("Content-Type", "")
    html = r.text.lower()
    assert "<form" in html
    assert 'name="password"' in html or "name='password'" in html
    assert 'name="email"' in html or "name='email'" in html


def test_authorize_get_unknown_client_is_rejected(server):
    r = requests.get(server.url("/oauth/authorize"), timeout=T, params={
        "response_type": "code", "client_id": "does-not-exist", "redirect_uri": OOB,
        "scope": "read"})
    assert r.status_code in (400, 401), r.status_code
    assert 'name="password"' not in r.text


def test_authorize_get_mismatched_redirect_uri_is_rejected(server):
    app = create_app(server)
    r = requests.get(server.url("/oauth/authorize"), timeout=T,
                     params=authorize_params(app, redirect_uri="https://evil.example/cb"),
                     allow_redirects=False)
    assert r.status_code == 400, r.status_code
    assert "evil.example" not in r.headers.get("Location", "")


def oob_login(server, app, email, password, scope="read write"):
    data = dict(authorize_params(app, scope=scope), email=email, password=password)
    return requests.post(server.url("/oauth/authorize"), data=data, timeout=T,
                         allow_redirects=False)


def code_from_oob_page(server, app, html):
    """The oob page shows the code; find it by trying the candidates it contains."""
    for cand in extract_code_candidates(html, exclude={app["client_id"]})[:30]:
        r = exchange_code(server, app, cand)
        if r.status_code == 200:
            return cand, r.json()
    raise AssertionError(f"no working authorization code found in page: {html[:1000]}")


def test_authorization_code_oob_flow(alice):
    s = alice.server
    app = create_app(s)
    r = oob_login(s, app, alice.email, alice.password)
    assert r.status_code == 200, r.text
    assert "text/html" in r.headers.get("Content-Type", "")
    code, tok = code_from_oob_page(s, app, r.text)
    assert tok["token_type"] == "Bearer"
    assert set(tok["scope"].split()) == {"read", "write"}
    me = tget(s, tok["access_token"], "/api/v1/accounts/verify_credentials")
    assert me.status_code == 200 and me.json()["id"] == alice.id
    # An authorization code is single-use.
    assert_oauth_error(exchange_code(s, app, code), 400, "invalid_grant")


def test_authorization_code_redirect_flow_with_state(alice):
    s = alice.server
    cb = "https://app.example/callback"
    r = requests.post(s.url("/api/v1/apps"), timeout=T, data={
        "client_name": "redirector", "redirect_uris": cb, "scopes": "read write"})
    app = r.json()
    data = dict(authorize_params(app, redirect_uri=cb, scope="read", state="xyz 123"),
                email=alice.email, password=alice.password)
    r = requests.post(s.url("/oauth/authorize"), data=data, timeout=T, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == cb
    q = parse_qs(loc.query)
    assert q["state"] == ["xyz 123"]
    code = q["code"][0]
    # The redirect_uri must match the one used in the authorization request.
    bad = exchange_code(s, app, code, redirect_uri="https://app.example/other")
    assert_oauth_error(bad, 400, "invalid_grant")
    # A wrong client secret does not get a token either.
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=cb, secret="wrong"),
                       401, "invalid_client")


def test_authorization_code_redirect_flow_clean(alice):
    s = alice.server
    cb = "https://app.example/cb2"
    app = requests.post(s.url("/api/v1/apps"), timeout=T, data={
        "client_name": "redirector2", "redirect_uris": cb, "scopes": "read write follow"}).json()
    data = dict(authorize_params(app, redirect_uri=cb, scope="read follow"),
                email=alice.email, password=alice.password)
    r = requests.post(s.url("/oauth/authorize"), data=data, timeout=T, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    tok = exchange_code(s, app, code, redirect_uri=cb)
    assert tok.status_code == 200, tok.text
    assert set(tok.json()["scope"].split()) == {"read", "follow"}
    me = tget(s, tok.json()["access_token"], "/api/v1/accounts/verify_credentials")
    assert me.status_code == 200 and me.json()["id"] == alice.id


def test_authorize_wrong_password_gives_no_code(alice):
    s = alice.server
    cb = "https://app.example/cb3"
    app = requests.post(s.url("/api/v1/apps"), timeout=T, data={
        "client_name": "r3", "redirect_uris": cb, "scopes": "read"}).json()
    data = dict(authorize_params(app, redirect_uri=cb, scope="read"),
                email=alice.email, password="definitely-wrong")
    r = requests.post(s.url("/oauth/authorize"), data=data, timeout=T, allow_redirects=False)
    assert r.status_code < 500
    assert "code=" not in r.headers.get("Location", "")
    assert r.status_code != 302 or not r.headers.get("Location", "").startswith(cb)


def test_authorize_scope_beyond_app_is_refused(alice):
    s = alice.server
    app = create_app(s, scopes="read")
    r = oob_login(s, app, alice.email, alice.password, scope="read write")
    # Either the request is rejected, or no code that yields `write` is issued.
    if r.status_code == 200:
        for cand in extract_code_candidates(r.text, exclude={app["client_id"]})[:30]:
            t = exchange_code(s, app, cand)
            assert t.status_code != 200 or "write" not in t.json()["scope"].split()
    else:
        assert r.status_code in (302, 400, 422), r.status_code
        assert "code=" not in r.headers.get("Location", "")


def test_authorize_granted_scope_is_enforced(alice):
    s = alice.server
    app = create_app(s)
    r = oob_login(s, app, alice.email, alice.password, scope="read")
    assert r.status_code == 200, r.text
    _, tok = code_from_oob_page(s, app, r.text)
    assert tok["scope"] == "read"
    before = statuses_count(s, alice.id)
    assert_error(tpost(s, tok["access_token"], "/api/v1/statuses", json={"status": "nope"}), 403)
    assert statuses_count(s, alice.id) == before


# ---------------------------------------------------------------- revoke

def test_revoke_token(alice):
    s = alice.server
    tok = scoped_token(s, alice, "read")
    assert tget(s, tok, "/api/v1/accounts/verify_credentials").status_code == 200
    r = requests.post(s.url("/oauth/revoke"), timeout=T, data={
        "token": tok, "client_id": alice.app["client_id"],
        "client_secret": alice.app["client_secret"]})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert_error(tget(s, tok, "/api/v1/accounts/verify_credentials"), 401)
    # Revoking one token leaves the account's other tokens alone.
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_revoke_with_another_apps_credentials_is_refused(alice):
    s = alice.server
    tok = scoped_token(s, alice, "read")
    other = create_app(s)
    r = requests.post(s.url("/oauth/revoke"), timeout=T, data={
        "token": tok, "client_id": other["client_id"], "client_secret": other["client_secret"]})
    assert r.status_code == 403, r.text
    assert r.json().get("error") == "unauthorized_client"
    assert tget(s, tok, "/api/v1/accounts/verify_credentials").status_code == 200


# ---------------------------------------------------------------- scopes

def test_read_only_token_cannot_post(alice):
    s = alice.server
    tok = scoped_token(s, alice, "read")
    before = statuses_count(s, alice.id)
    assert_error(tpost(s, tok, "/api/v1/statuses", json={"status": "should not exist"}), 403)
    assert statuses_count(s, alice.id) == before
    # ...but can read
    assert tget(s, tok, "/api/v1/timelines/home").status_code == 200


def test_write_statuses_subscope_can_post_but_not_favourite(alice, bob):
    s = alice.server
    tok = scoped_token(s, alice, "write:statuses")
    r = tpost(s, tok, "/api/v1/statuses", json={"status": "posted with write:statuses"})
    assert r.status_code == 200, r.text
    st = bob.status("fav me")
    assert_error(tpost(s, tok, f"/api/v1/statuses/{st['id']}/favourite"), 403)
    assert bob.get(f"/api/v1/statuses/{st['id']}").json()["favourites_count"] == 0
    # write:statuses does not grant reading the home timeline
    assert_error(tget(s, tok, "/api/v1/timelines/home"), 403)


def test_write_favourites_subscope(alice, bob):
    s = alice.server
    tok = scoped_token(s, alice, "write:favourites")
    st = bob.status("fav me please")
    r = tpost(s, tok, f"/api/v1/statuses/{st['id']}/favourite")
    assert r.status_code == 200, r.text
    assert r.json()["favourited"] is True
    assert_error(tpost(s, tok, "/api/v1/statuses", json={"status": "nope"}), 403)


def test_read_statuses_subscope_cannot_verify_credentials(alice):
    s = alice.server
    tok = scoped_token(s, alice, "read:statuses")
    assert tget(s, tok, "/api/v1/timelines/home").status_code == 200
    assert_error(tget(s, tok, "/api/v1/accounts/verify_credentials"), 403)
    tok2 = scoped_token(s, alice, "read:accounts")
    assert tget(s, tok2, "/api/v1/accounts/verify_credentials").status_code == 200


def test_follow_scope_allows_follow_but_not_post(alice, bob):
    s = alice.server
    tok = scoped_token(s, alice, "follow")
    r = tpost(s, tok, f"/api/v1/accounts/{bob.id}/follow")
    assert r.status_code == 200, r.text
    assert r.json()["following"] is True
    assert_error(tpost(s, tok, "/api/v1/statuses", json={"status": "x"}), 403)
    tok2 = scoped_token(s, alice, "write:statuses")
    assert_error(tpost(s, tok2, f"/api/v1/accounts/{bob.id}/unfollow"), 403)
    assert alice.get(f"/api/v1/accounts/relationships?id[]={bob.id}").json()[0]["following"]


def test_password_grant_scope_must_be_subset_of_app(alice):
    s = alice.server
    app = create_app(s, scopes="read")
    r = password_grant(s, app, alice.email, alice.password, "read write")
    assert_oauth_error(r, 400, "invalid_scope")


def test_unknown_scope_in_token_request(alice):
    r = password_grant(alice.server, alice.app, alice.email, alice.password, "read frobnicate")
    assert_oauth_error(r, 400, "invalid_scope")


# ---------------------------------------------------------------- missing / bad tokens

def test_endpoints_needing_auth_reject_missing_token(server):
    for method, path in [("GET", "/api/v1/accounts/verify_credentials"),
                         ("GET", "/api/v1/timelines/home"),
                         ("GET", "/api/v1/notifications"),
                         ("GET", "/api/v1/bookmarks"),
                         ("GET", "/api/v1/favourites"),
                         ("GET", "/api/v1/markers"),
                         ("POST", "/api/v1/statuses"),
                         ("PATCH", "/api/v1/accounts/update_credentials")]:
        r = requests.request(method, server.url(path), timeout=T)
        assert_error(r, 401)


def test_garbage_and_malformed_authorization_headers(server):
    for hdr in ["Bearer nonsense", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b c"]:
        r = requests.get(server.url("/api/v1/accounts/verify_credentials"),
                         headers={"Authorization": hdr}, timeout=T)
        assert_error(r, 401)


def test_app_token_cannot_use_user_endpoints(server):
    app = create_app(server)
    tok = app_token(server, app)
    assert_error(tget(server, tok, "/api/v1/accounts/verify_credentials"), 401, 403, 422)
    assert_error(tpost(server, tok, "/api/v1/statuses", json={"status": "x"}), 401, 403, 422)


def test_registration_token_works_for_everything_signup_asked(server):
    c = sign_up(server, scopes="read write")
    r = c.post("/api/v1/statuses", json={"status": "hello from a fresh account"})
    assert r.status_code == 200, r.text
    assert r.json()["account"]["id"] == c.id
    r = requests.get(server.url("/api/v1/accounts/verify_credentials"),
                     headers=bearer(c.token), timeout=T)
    assert r.status_code == 200
