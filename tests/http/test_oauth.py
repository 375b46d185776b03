"""OAuth 2: apps, authorization code (oob and redirect), password and
client_credentials grants, revocation, and scope enforcement."""
import base64
import hashlib
import html
import os
import re
import secrets
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from conftest import REPO, app_token, create_app, sign_up
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


def test_create_app_accepts_form_list_and_newline_separated_uris(server):
    uris = ["https://app.example/a", "myapp://oauth", "com.example.app:/cb", OOB]
    r = post_app(server, data={"client_name": "listy", "redirect_uris[]": uris})
    assert r.status_code == 200, r.text
    assert r.json()["redirect_uris"] == uris
    r = post_app(server, data={"client_name": "lines", "redirect_uris": "\n".join(uris)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["redirect_uris"] == uris
    assert body["redirect_uri"] == "\n".join(uris)
    assert body["client_secret_expires_at"] == 0


@pytest.mark.parametrize("uris, why", [
    ("https://app.example/cb#fragment", "fragment"),
    ("javascript:alert(1)", "scheme"),
    ("data:text/html,hi", "scheme"),
    ("https:///no-host", "absolute"),
    ("https:no-host", "absolute"),
    ("/relative/path", "absolute"),
    ("1app://cb", "absolute"),
    ("https://app.example/" + "a" * 2100, "too long"),
    ([f"https://app.example/{i}" for i in range(11)], "too many"),
    (["https://app.example/ok", "not-a-uri"], "absolute"),
    (["https://app.example/ok", "https://app.example/a b"], "spaces"),
    ([], "blank"),
    ("   ", "blank"),
])
def test_create_app_rejects_bad_redirect_uris(server, uris, why):
    r = post_app(server, json={"client_name": "bad uris", "redirect_uris": uris})
    body = assert_error(r, 422)
    assert "Redirect URI" in body["error"] or "redirect" in body["error"].lower(), body
    assert why in body["error"].lower(), body


def test_create_app_rejects_redirect_uris_of_the_wrong_type(server):
    for uris in [{"a": "b"}, 42, [OOB, {"x": 1}], True]:
        r = post_app(server, json={"client_name": "typed", "redirect_uris": uris})
        assert_error(r, 422)


@pytest.mark.parametrize("website", [
    "app.example", "ftp://app.example", "https://", "https://app example", "javascript:alert(1)",
    "https://app.example/" + "a" * 2100,
])
def test_create_app_rejects_bad_website(server, website):
    body = assert_error(post_app(server, data={"client_name": "site", "redirect_uris": OOB,
                                               "website": website}), 422)
    assert "Website" in body["error"], body


def test_create_app_website_may_be_empty_or_http(server):
    r = post_app(server, data={"client_name": "empty", "redirect_uris": OOB, "website": ""})
    assert r.status_code == 200 and r.json()["website"] is None
    r = post_app(server, data={"client_name": "http", "redirect_uris": OOB,
                               "website": "http://localhost:3000/app"})
    assert r.status_code == 200 and r.json()["website"] == "http://localhost:3000/app"


def test_bad_app_creates_nothing(server):
    # A refused registration leaves no app behind: its would-be client_id does not exist,
    # and a good registration right after works as usual.
    r = post_app(server, json={"client_name": "x", "redirect_uris": ["https://a.example/#f"]})
    assert_error(r, 422)
    assert "client_id" not in r.json()
    assert post_app(server, data={"client_name": "x", "redirect_uris": OOB}).status_code == 200


def test_app_verify_credentials_shape_matches_the_app(server):
    uris = ["https://app.example/one", "https://app.example/two"]
    r = post_app(server, json={"client_name": "Shape", "redirect_uris": uris,
                               "scopes": "read write:statuses", "website": "https://shape.example"})
    app = r.json()
    tok = app_token(server, app, scopes="read")
    r = tget(server, tok, "/api/v1/apps/verify_credentials")
    assert r.status_code == 200, r.text
    body = r.json()
    vapid = requests.get(server.url("/api/v2/instance"), timeout=30).json()["configuration"]["vapid"]["public_key"]
    assert body == {"id": app["id"], "name": "Shape", "website": "https://shape.example",
                    "scopes": ["read", "write:statuses"], "redirect_uri": "\n".join(uris),
                    "redirect_uris": uris, "vapid_key": vapid}
    assert "client_id" not in body and "client_secret" not in body
    # POST /api/v1/apps returned the same, plus the credentials.
    assert {k: app[k] for k in body} == body


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


# ---------------------------------------------------------------- authorize: helpers

CB = "https://app.example/callback"


def authorize_params(app, redirect_uri=OOB, scope="read write", state=None, **extra):
    p = {"response_type": "code", "client_id": app["client_id"],
         "redirect_uri": redirect_uri, "scope": scope}
    if state is not None:
        p["state"] = state
    p.update(extra)
    return p


def exchange_code(server, app, code, redirect_uri=OOB, secret=None, **extra):
    data = dict(grant_type="authorization_code", code=code, client_id=app["client_id"],
                redirect_uri=redirect_uri, **extra)
    if secret is not False:
        data["client_secret"] = secret or app["client_secret"]
    return requests.post(server.url("/oauth/token"), data=data, timeout=T)


def redirect_app(server, uris=(CB,), scopes="read write follow", name="redirector"):
    r = requests.post(server.url("/api/v1/apps"), timeout=T, json={
        "client_name": name, "redirect_uris": list(uris), "scopes": scopes})
    assert r.status_code == 200, r.text
    return r.json()


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def form_fields(page_html, form_id):
    """The hidden fields of one form on a page."""
    m = re.search(rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>', page_html, re.S)
    assert m, f"no form {form_id} in: {page_html[:1500]}"
    return {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(m.group(1))}


def is_login_page(r):
    return 'id="log-in"' in r.text and 'id="password"' in r.text and 'id="authorize"' not in r.text


def is_consent_page(r):
    return 'id="authorize"' in r.text and 'id="deny"' in r.text and 'id="password"' not in r.text


def log_in(server, sess, params, email, password):
    """The log-in step in a browser-like session; returns the consent page."""
    page = sess.get(server.url("/oauth/authorize"), params=params, timeout=T)
    assert page.status_code == 200, page.text
    assert is_login_page(page), page.text[:1500]
    form = dict(form_fields(page.text, "log-in-form"), email=email, password=password)
    r = sess.post(server.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False)
    assert r.status_code == 303, (r.status_code, r.text[:500])
    assert r.headers["Location"].startswith("/oauth/authorize?"), r.headers["Location"]
    consent = sess.get(server.url(r.headers["Location"]), timeout=T)
    assert consent.status_code == 200, consent.text
    assert is_consent_page(consent), consent.text[:1500]
    return consent


def decide(server, sess, consent_page, decision="authorize", **override):
    form = dict(form_fields(consent_page.text, "consent-form"), decision=decision, **override)
    return sess.post(server.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False)


def authorize(server, user, app, **params):
    """Log in and authorize in a fresh session; returns the final response."""
    sess = requests.Session()
    consent = log_in(server, sess, authorize_params(app, **params), user.email, user.password)
    return decide(server, sess, consent)


def code_of(r, redirect_uri=CB):
    assert r.status_code == 302, (r.status_code, r.text[:500])
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == redirect_uri
    return parse_qs(loc.query)["code"][0]


def code_from_oob_page(server, app, page_html):
    m = re.search(r'id="oauth-code"[^>]*>\s*([^<\s]+)\s*<', page_html)
    assert m, f"no oauth-code element in: {page_html[:1500]}"
    code = html.unescape(m.group(1))
    r = exchange_code(server, app, code)
    assert r.status_code == 200, r.text
    return code, r.json()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def me(server, token):
    return tget(server, token, "/api/v1/accounts/verify_credentials")


# ---------------------------------------------------------------- authorize: pages

def test_authorize_get_renders_login_form_with_escaped_app_name(server):
    r = requests.post(server.url("/api/v1/apps"), timeout=T, data={
        "client_name": "<script>alert(1)</script> & co", "redirect_uris": OOB, "scopes": "read"})
    app = r.json()
    r = requests.get(server.url("/oauth/authorize"), params=authorize_params(app, scope="read"),
                     timeout=T)
    assert r.status_code == 200, r.text
    assert "text/html" in r.headers.get("Content-Type", "")
    assert "no-store" in r.headers.get("Cache-Control", "")
    assert is_login_page(r)
    assert 'id="email"' in r.text and 'name="email"' in r.text and 'name="password"' in r.text
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in r.text
    assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", "")
    assert "Set-Cookie" not in r.headers


def test_authorize_get_unknown_client_is_rejected(server):
    r = requests.get(server.url("/oauth/authorize"), timeout=T, params={
        "response_type": "code", "client_id": "does-not-exist", "redirect_uri": OOB,
        "scope": "read"})
    assert r.status_code in (400, 401), r.status_code
    assert 'name="password"' not in r.text


def test_authorize_unregistered_redirect_uris_are_refused_without_redirect(server):
    app = redirect_app(server, uris=[CB, "https://app.example/other"])
    for uri in ["https://evil.example/cb", CB + "/extra", CB + "?x=1", CB[:-1],
                CB.upper(), "https://app.example/callback#frag", OOB]:
        r = requests.get(server.url("/oauth/authorize"), timeout=T,
                         params=authorize_params(app, redirect_uri=uri), allow_redirects=False)
        assert r.status_code == 400, (uri, r.status_code)
        assert "Location" not in r.headers, uri
        assert 'name="password"' not in r.text
    # Several registered URIs: one must be named.
    p = authorize_params(app)
    del p["redirect_uri"]
    r = requests.get(server.url("/oauth/authorize"), params=p, timeout=T, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers


def test_authorize_lang_sets_page_language_when_valid(server):
    app = create_app(server)
    r = requests.get(server.url("/oauth/authorize"), params=authorize_params(app, lang="de"),
                     timeout=T)
    assert '<html lang="de">' in r.text
    for bad in ['"><script>', "english-but-very-long", "None", "x" * 5000]:
        r = requests.get(server.url("/oauth/authorize"), params=authorize_params(app, lang=bad),
                         timeout=T)
        assert r.status_code == 200, r.status_code
        assert '<html lang="en">' in r.text, bad
        assert "<script>" not in r.text


def test_authorize_state_too_long_is_refused(server):
    app = redirect_app(server)
    r = requests.get(server.url("/oauth/authorize"), timeout=T, allow_redirects=False,
                     params=authorize_params(app, redirect_uri=CB, state="s" * 5000))
    assert r.status_code == 400 and "Location" not in r.headers


# ---------------------------------------------------------------- authorize: log-in, consent

def test_authorization_code_oob_flow(alice):
    s = alice.server
    app = create_app(s)
    r = authorize(s, alice, app)
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    code, tok = code_from_oob_page(s, app, r.text)
    assert tok["token_type"] == "Bearer"
    assert set(tok["scope"].split()) == {"read", "write"}
    m = me(s, tok["access_token"])
    assert m.status_code == 200 and m.json()["id"] == alice.id
    # An authorization code is single-use.
    assert_oauth_error(exchange_code(s, app, code), 400, "invalid_grant")


def test_consent_page_names_app_account_and_scopes_in_words(alice):
    s = alice.server
    app = redirect_app(s, name="Scope Reader")
    sess = requests.Session()
    consent = log_in(s, sess, authorize_params(app, redirect_uri=CB, scope="read write:statuses follow"),
                     alice.email, alice.password)
    assert "Scope Reader" in consent.text
    assert f"@{alice.username}" in consent.text
    assert "no-store" in consent.headers.get("Cache-Control", "")
    for words in ["read all your account", "publish posts", "who you follow"]:
        assert words in consent.text, words


def test_log_in_sets_a_safe_session_cookie(alice):
    s = alice.server
    app = create_app(s)
    page = requests.get(s.url("/oauth/authorize"), params=authorize_params(app), timeout=T)
    form = dict(form_fields(page.text, "log-in-form"), email=alice.email, password=alice.password)
    r = requests.post(s.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = r.headers["Set-Cookie"]
    name, _, rest = cookie.partition("=")
    assert name == "holdfast_session"
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert "secure" not in attrs  # the test server's base URL is http
    assert any(a.startswith("max-age=") for a in attrs)
    assert "no-store" in r.headers.get("Cache-Control", "")


def test_authorization_code_redirect_flow_with_state(alice):
    s = alice.server
    app = redirect_app(s)
    r = authorize(s, alice, app, redirect_uri=CB, scope="read", state="xyz 123&=")
    loc = urlparse(r.headers["Location"])
    assert parse_qs(loc.query)["state"] == ["xyz 123&="]
    code = code_of(r)
    # The redirect_uri must match the one used in the authorization request.
    bad = exchange_code(s, app, code, redirect_uri="https://app.example/other")
    assert_oauth_error(bad, 400, "invalid_grant")


def test_authorization_code_redirect_flow_clean(alice):
    s = alice.server
    app = redirect_app(s)
    code = code_of(authorize(s, alice, app, redirect_uri=CB, scope="read follow"))
    # A wrong client secret gets no token and leaves the code alone.
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, secret="wrong"),
                       401, "invalid_client")
    tok = exchange_code(s, app, code, redirect_uri=CB)
    assert tok.status_code == 200, tok.text
    assert "no-store" in tok.headers.get("Cache-Control", "")
    assert set(tok.json()["scope"].split()) == {"read", "follow"}
    m = me(s, tok.json()["access_token"])
    assert m.status_code == 200 and m.json()["id"] == alice.id


def test_code_exchange_must_repeat_the_redirect_uri(alice):
    # RFC 6749 4.1.3: the redirect URI of the authorization request is required
    # again at the token endpoint, and must be the same.
    s = alice.server
    app = redirect_app(s)
    code = code_of(authorize(s, alice, app, redirect_uri=CB, scope="read"))
    data = dict(grant_type="authorization_code", code=code, client_id=app["client_id"],
                client_secret=app["client_secret"])
    r = requests.post(s.url("/oauth/token"), data=data, timeout=T)
    assert_oauth_error(r, 400, "invalid_grant")
    code = code_of(authorize(s, alice, app, redirect_uri=CB, scope="read"))
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB + "/other"), 400, "invalid_grant")


def test_redirect_uri_with_query_keeps_it(alice):
    s = alice.server
    cb = "https://app.example/cb?tenant=7"
    app = redirect_app(s, uris=[cb])
    r = authorize(s, alice, app, redirect_uri=cb, state="st")
    q = parse_qs(urlparse(r.headers["Location"]).query)
    assert q["tenant"] == ["7"] and q["state"] == ["st"] and q["code"]


def test_log_in_wrong_password_gives_no_session_and_no_code(alice):
    s = alice.server
    app = redirect_app(s)
    sess = requests.Session()
    page = sess.get(s.url("/oauth/authorize"), params=authorize_params(app, redirect_uri=CB), timeout=T)
    form = dict(form_fields(page.text, "log-in-form"), email=alice.email, password="definitely-wrong")
    r = sess.post(s.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False)
    assert r.status_code == 401, r.status_code
    assert is_login_page(r)
    assert 'id="error"' in r.text
    assert "Set-Cookie" not in r.headers and "Location" not in r.headers
    # Still not logged in: the next visit shows the log-in step again.
    again = sess.get(s.url("/oauth/authorize"), params=authorize_params(app, redirect_uri=CB), timeout=T)
    assert is_login_page(again)


def test_log_in_step_with_missing_fields_or_unknown_decision(alice):
    s = alice.server
    app = redirect_app(s)
    params = authorize_params(app, redirect_uri=CB)
    r = requests.post(s.url("/oauth/authorize"), data=dict(params, step="log-in"), timeout=T,
                      allow_redirects=False)
    assert r.status_code == 401 and is_login_page(r) and "Set-Cookie" not in r.headers
    r = requests.post(s.url("/oauth/authorize"), data=params, timeout=T, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers
    sess = requests.Session()
    consent = log_in(s, sess, params, alice.email, alice.password)
    r = decide(s, sess, consent, decision="maybe")
    assert r.status_code == 400 and "Location" not in r.headers


def test_session_is_reused_without_asking_the_password_again(alice):
    s = alice.server
    app = create_app(s)
    sess = requests.Session()
    consent = log_in(s, sess, authorize_params(app, scope="read"), alice.email, alice.password)
    r = decide(s, sess, consent)
    code_from_oob_page(s, app, r.text)
    # A second authorization in the same browser goes straight to consent.
    other = redirect_app(s)
    page = sess.get(s.url("/oauth/authorize"), params=authorize_params(other, redirect_uri=CB),
                    timeout=T)
    assert page.status_code == 200 and is_consent_page(page), page.text[:1000]
    code = code_of(decide(s, sess, page))
    tok = exchange_code(s, other, code, redirect_uri=CB)
    assert tok.status_code == 200 and me(s, tok.json()["access_token"]).json()["id"] == alice.id


def test_force_login_shows_log_in_even_with_a_session(alice, bob):
    s = alice.server
    app = redirect_app(s)
    sess = requests.Session()
    log_in(s, sess, authorize_params(app, redirect_uri=CB), alice.email, alice.password)
    for flag in ["true", "True", "1"]:
        forced = sess.get(s.url("/oauth/authorize"), timeout=T,
                          params=authorize_params(app, redirect_uri=CB, force_login=flag))
        assert is_login_page(forced), flag
    # Mastodon.py sends force_login=False when it does not want it.
    page = sess.get(s.url("/oauth/authorize"), timeout=T,
                    params=authorize_params(app, redirect_uri=CB, force_login="False"))
    assert is_consent_page(page)
    # Logging in as someone else through the forced step switches the session.
    forced = sess.get(s.url("/oauth/authorize"), timeout=T,
                      params=authorize_params(app, redirect_uri=CB, force_login="true", state="q"))
    form = dict(form_fields(forced.text, "log-in-form"), email=bob.email, password=bob.password)
    assert "force_login" not in form
    r = sess.post(s.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False)
    assert r.status_code == 303
    consent = sess.get(s.url(r.headers["Location"]), timeout=T)
    assert f"@{bob.username}" in consent.text
    r = decide(s, sess, consent)
    assert parse_qs(urlparse(r.headers["Location"]).query)["state"] == ["q"]
    tok = exchange_code(s, app, code_of(r), redirect_uri=CB)
    assert me(s, tok.json()["access_token"]).json()["id"] == bob.id


def test_deny_redirects_with_access_denied_and_state(alice):
    s = alice.server
    app = redirect_app(s)
    sess = requests.Session()
    consent = log_in(s, sess, authorize_params(app, redirect_uri=CB, state="keep me"),
                     alice.email, alice.password)
    r = decide(s, sess, consent, decision="deny")
    assert r.status_code == 302, r.text
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == CB
    q = parse_qs(loc.query)
    assert q["error"] == ["access_denied"] and q["state"] == ["keep me"]
    assert "code" not in q


def test_deny_with_oob_shows_a_page_and_no_code(alice):
    s = alice.server
    app = create_app(s)
    sess = requests.Session()
    consent = log_in(s, sess, authorize_params(app), alice.email, alice.password)
    r = decide(s, sess, consent, decision="deny")
    assert r.status_code == 200 and "Location" not in r.headers
    assert 'id="denied"' in r.text and "oauth-code" not in r.text


def test_consent_without_or_with_wrong_csrf_token_is_refused(alice, bob):
    s = alice.server
    app = redirect_app(s)
    sess = requests.Session()
    consent = log_in(s, sess, authorize_params(app, redirect_uri=CB), alice.email, alice.password)
    fields = form_fields(consent.text, "consent-form")
    assert fields.get("csrf_token")
    # Missing.
    form = {k: v for k, v in fields.items() if k != "csrf_token"}
    r = sess.post(s.url("/oauth/authorize"), data=dict(form, decision="authorize"), timeout=T,
                  allow_redirects=False)
    assert r.status_code == 403 and "Location" not in r.headers
    # Wrong.
    r = decide(s, sess, consent, csrf_token="0" * 64)
    assert r.status_code == 403 and "Location" not in r.headers
    # Another session's token.
    other = requests.Session()
    other_consent = log_in(s, other, authorize_params(app, redirect_uri=CB), bob.email, bob.password)
    r = decide(s, sess, consent,
               csrf_token=form_fields(other_consent.text, "consent-form")["csrf_token"])
    assert r.status_code == 403 and "Location" not in r.headers
    # The right one still works.
    assert code_of(decide(s, sess, consent))


def test_forms_posted_from_another_site_are_refused(alice):
    s = alice.server
    app = redirect_app(s)
    params = authorize_params(app, redirect_uri=CB)
    host = urlparse(s.base_url).netloc
    login = dict(params, email=alice.email, password=alice.password)
    for headers in [{"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}]:
        sess = requests.Session()
        r = sess.post(s.url("/oauth/authorize"), data=login, headers=headers, timeout=T,
                      allow_redirects=False)
        assert r.status_code == 403, (headers, r.status_code)
        assert "Set-Cookie" not in r.headers and "Location" not in r.headers
    # The same post from our own page is fine.
    sess = requests.Session()
    r = sess.post(s.url("/oauth/authorize"), data=login, timeout=T, allow_redirects=False,
                  headers={"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303, r.text
    consent = sess.get(s.url(r.headers["Location"]), timeout=T)
    r = decide(s, sess, consent)
    assert r.status_code == 302
    # A consent post from another site is refused even with the session and token.
    consent = sess.get(s.url("/oauth/authorize"), params=params, timeout=T)
    form = dict(form_fields(consent.text, "consent-form"), decision="authorize")
    r = sess.post(s.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False,
                  headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Location" not in r.headers


def test_consent_without_session_asks_to_log_in(alice):
    s = alice.server
    app = redirect_app(s)
    sess = requests.Session()
    consent = log_in(s, sess, authorize_params(app, redirect_uri=CB), alice.email, alice.password)
    form = dict(form_fields(consent.text, "consent-form"), decision="authorize")
    r = requests.post(s.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False)
    assert r.status_code == 401 and is_login_page(r) and "Location" not in r.headers
    r = requests.post(s.url("/oauth/authorize"), data=form, timeout=T, allow_redirects=False,
                      headers={"Cookie": "holdfast_session=" + "A" * 43})
    assert r.status_code == 401 and is_login_page(r) and "Location" not in r.headers


def test_authorize_scope_beyond_app_is_refused(alice):
    s = alice.server
    app = create_app(s, scopes="read")
    r = requests.get(s.url("/oauth/authorize"), params=authorize_params(app, scope="read write"),
                     timeout=T, allow_redirects=False)
    assert r.status_code == 400 and 'name="password"' not in r.text
    app = redirect_app(s, scopes="read")
    r = requests.get(s.url("/oauth/authorize"), timeout=T, allow_redirects=False,
                     params=authorize_params(app, redirect_uri=CB, scope="read write", state="z"))
    assert r.status_code == 302
    q = parse_qs(urlparse(r.headers["Location"]).query)
    assert q["error"] == ["invalid_scope"] and q["state"] == ["z"] and "code" not in q


def test_authorize_granted_scope_is_enforced(alice):
    s = alice.server
    app = create_app(s)
    r = authorize(s, alice, app, scope="read")
    _, tok = code_from_oob_page(s, app, r.text)
    assert tok["scope"] == "read"
    before = statuses_count(s, alice.id)
    assert_error(tpost(s, tok["access_token"], "/api/v1/statuses", json={"status": "nope"}), 403)
    assert statuses_count(s, alice.id) == before


# ---------------------------------------------------------------- PKCE

@pytest.mark.parametrize("method", ["S256", "plain", None])
def test_pkce_success(alice, method):
    s = alice.server
    app = redirect_app(s)
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge if method == "S256" else verifier}
    if method:
        extra["code_challenge_method"] = method
    code = code_of(authorize(s, alice, app, redirect_uri=CB, **extra))
    tok = exchange_code(s, app, code, redirect_uri=CB, code_verifier=verifier)
    assert tok.status_code == 200, tok.text
    assert me(s, tok.json()["access_token"]).json()["id"] == alice.id


def test_pkce_wrong_verifier_is_invalid_grant_and_burns_the_code(alice):
    s = alice.server
    app = redirect_app(s)
    verifier, challenge = pkce_pair()
    code = code_of(authorize(s, alice, app, redirect_uri=CB, code_challenge=challenge,
                             code_challenge_method="S256"))
    wrong, _ = pkce_pair()
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, code_verifier=wrong),
                       400, "invalid_grant")
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, code_verifier=verifier),
                       400, "invalid_grant")


def test_pkce_missing_or_malformed_verifier_is_invalid_grant(alice):
    s = alice.server
    app = redirect_app(s)
    verifier, challenge = pkce_pair()
    for bad in [None, "", "short", verifier + " ", verifier[:42], "a" * 129]:
        code = code_of(authorize(s, alice, app, redirect_uri=CB, code_challenge=challenge,
                                 code_challenge_method="S256"))
        extra = {} if bad is None else {"code_verifier": bad}
        assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, **extra), 400,
                           "invalid_grant")
        # ...and that code is spent.
        assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, code_verifier=verifier),
                           400, "invalid_grant")


def test_verifier_for_a_code_without_challenge_is_refused(alice):
    s = alice.server
    app = redirect_app(s)
    code = code_of(authorize(s, alice, app, redirect_uri=CB))
    verifier, _ = pkce_pair()
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, code_verifier=verifier),
                       400, "invalid_grant")


def test_pkce_public_client_needs_no_secret_but_only_with_a_challenge(alice):
    s = alice.server
    app = redirect_app(s)
    verifier, challenge = pkce_pair()
    code = code_of(authorize(s, alice, app, redirect_uri=CB, code_challenge=challenge,
                             code_challenge_method="S256"))
    tok = exchange_code(s, app, code, redirect_uri=CB, secret=False, code_verifier=verifier)
    assert tok.status_code == 200, tok.text
    assert me(s, tok.json()["access_token"]).json()["id"] == alice.id
    # Without PKCE a code needs the client secret.
    code = code_of(authorize(s, alice, app, redirect_uri=CB))
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB, secret=False), 401,
                       "invalid_client")
    # Other grants always need the secret.
    r = requests.post(s.url("/oauth/token"), timeout=T, data={
        "grant_type": "client_credentials", "client_id": app["client_id"]})
    assert_oauth_error(r, 400, "invalid_request")


@pytest.mark.parametrize("params", [
    {"code_challenge_method": "S512", "code_challenge": "x" * 43},
    {"code_challenge_method": "s256", "code_challenge": "x" * 43},
    {"code_challenge_method": "S256"},
    {"code_challenge_method": "S256", "code_challenge": "too-short"},
    {"code_challenge_method": "S256", "code_challenge": "a" * 42 + "="},
    {"code_challenge": "has spaces " * 5},
    {"code_challenge": "a" * 129},
])
def test_pkce_bad_challenge_is_invalid_request(server, params):
    app = redirect_app(server)
    r = requests.get(server.url("/oauth/authorize"), timeout=T, allow_redirects=False,
                     params=authorize_params(app, redirect_uri=CB, state="st", **params))
    assert r.status_code == 302, r.status_code
    q = parse_qs(urlparse(r.headers["Location"]).query)
    assert q["error"] == ["invalid_request"] and q["state"] == ["st"] and "code" not in q
    oob = create_app(server)
    r = requests.get(server.url("/oauth/authorize"), timeout=T, allow_redirects=False,
                     params=authorize_params(oob, **params))
    assert r.status_code == 400 and "Location" not in r.headers
    assert 'name="password"' not in r.text


# ---------------------------------------------------------------- metadata

def test_authorization_server_metadata(server):
    r = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=T)
    assert r.status_code == 200, r.text
    m = json_of(r)
    base = server.base_url
    assert m["issuer"] == base + "/"
    assert m["authorization_endpoint"] == base + "/oauth/authorize"
    assert m["token_endpoint"] == base + "/oauth/token"
    assert m["revocation_endpoint"] == base + "/oauth/revoke"
    assert m["app_registration_endpoint"] == base + "/api/v1/apps"
    assert m["service_documentation"].startswith("https://")
    assert m["response_types_supported"] == ["code"]
    assert "query" in m["response_modes_supported"]
    assert "S256" in m["code_challenge_methods_supported"]
    assert "plain" in m["code_challenge_methods_supported"]
    assert {"authorization_code", "client_credentials"} <= set(m["grant_types_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(
        m["token_endpoint_auth_methods_supported"])
    scopes = set(m["scopes_supported"])
    assert {"read", "write", "follow", "push", "profile", "read:statuses", "write:media",
            "write:statuses", "read:notifications"} <= scopes
    # Every advertised scope is one an app may register.
    r = post_app(server, data={"client_name": "all", "redirect_uris": OOB,
                               "scopes": " ".join(m["scopes_supported"])})
    assert r.status_code == 200, r.text


def test_token_endpoint_accepts_http_basic_client_authentication(server):
    app = create_app(server)
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    r = requests.post(server.url("/oauth/token"), headers={"Authorization": f"Basic {basic}"},
                      data={"grant_type": "client_credentials", "scope": "read"}, timeout=T)
    assert r.status_code == 200, r.text
    wrong = base64.b64encode(f"{app['client_id']}:nope".encode()).decode()
    for hdr in [f"Basic {wrong}", "Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode()]:
        r = requests.post(server.url("/oauth/token"), headers={"Authorization": hdr},
                          data={"grant_type": "client_credentials"}, timeout=T)
        assert_oauth_error(r, 401, "invalid_client")


# ---------------------------------------------------------------- sessions and the guard's cache

@pytest.fixture
def short_session_server(make_server, tmp_path):
    cfg = tmp_path / "oauth.toml"
    base = open(os.path.join(REPO, "tests", "holdfast-test.toml")).read()
    cfg.write_text(base.replace("anon_cache_ttl_ms = 0", "anon_cache_ttl_ms = 30000")
                   + "\nsession_ttl_s = 1\n")
    return make_server("--config", str(cfg))


def test_session_expires_and_pages_are_not_cached(short_session_server):
    s = short_session_server
    user = sign_up(s)
    app = redirect_app(s)
    params = authorize_params(app, redirect_uri=CB)
    # The log-in page is never served from the anonymous cache.
    for _ in range(2):
        r = requests.get(s.url("/oauth/authorize"), params=params, timeout=T)
        assert r.status_code == 200 and "x-holdfast-cache" not in r.headers
    sess = requests.Session()
    consent = log_in(s, sess, params, user.email, user.password)
    time.sleep(1.5)
    r = decide(s, sess, consent)
    assert r.status_code == 401 and is_login_page(r) and "Location" not in r.headers
    page = sess.get(s.url("/oauth/authorize"), params=params, timeout=T)
    assert is_login_page(page)


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


def test_a_replayed_code_revokes_the_token_of_its_first_use(alice):
    # Issue 11: RFC 6749 §4.1.2, a code used twice may have been stolen; the
    # token of its first use is revoked (before: it stayed valid).
    s = alice.server
    app = redirect_app(s)
    code = code_of(authorize(s, alice, app, redirect_uri=CB, scope="read"))
    tok = exchange_code(s, app, code, redirect_uri=CB)
    assert tok.status_code == 200, tok.text
    token = tok.json()["access_token"]
    assert me(s, token).status_code == 200
    assert_oauth_error(exchange_code(s, app, code, redirect_uri=CB), 400, "invalid_grant")
    assert me(s, token).status_code == 401
    # Other tokens of the account are not touched.
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
