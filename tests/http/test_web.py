"""The web UI at the HTTP level: sessions and their cookies, CSRF on every
form, escaping of everything people type, and the headers pages leave with.
The browser-level flows are in tests/browser/test_web_ui.py."""
import re

import requests

from conftest import sign_up
from webclient import WebUser, form_fields, signed_up

T = 30
SCRIPT = '<script>alert("x")</script>'
IMG = '<img src=x onerror=alert(1)>'


def status_ids(page_html):
    return re.findall(r'id="status-(\d+)"', page_html)


def cookie_attrs(response, name):
    for c in response.raw.headers.getlist("Set-Cookie"):
        if c.startswith(name + "="):
            return c.split("=", 1)[1].split(";")[0], [a.strip().lower() for a in c.split(";")[1:]]
    raise AssertionError(f"no {name} cookie in {response.headers}")


def test_sign_up_signs_in_with_a_safe_cookie(server):
    u = WebUser(server)
    r = u.sign_up()
    assert r.status_code == 303 and r.headers["Location"] == "/home", r.text
    value, attrs = cookie_attrs(r, "holdfast_session")
    assert len(value) == 43
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert "secure" not in attrs  # the test server is http
    home = u.get("/home")
    assert home.status_code == 200 and f"@{u.username}" in home.text
    assert "no-store" in home.headers["Cache-Control"]


def test_log_in_rotates_the_session_and_log_out_ends_it(server):
    u = signed_up(server)
    first = u.http.cookies["holdfast_session"]
    u.http.cookies.clear()
    r = u.sign_in(carrying_session=first)
    assert r.status_code == 303, r.text
    second = u.http.cookies["holdfast_session"]
    assert second != first
    # The replaced session is over on the server, not only in this browser.
    stale = requests.get(server.url("/home"), cookies={"holdfast_session": first}, timeout=T, allow_redirects=False)
    assert stale.status_code == 303 and stale.headers["Location"].startswith("/auth/sign_in")
    r = u.submit("/home", 'action="/auth/sign_out"')
    assert r.status_code == 303 and r.headers["Location"] == "/"
    gone = requests.get(server.url("/home"), cookies={"holdfast_session": second}, timeout=T, allow_redirects=False)
    assert gone.status_code == 303


def test_wrong_password_is_refused_with_the_form_again(server):
    u = signed_up(server)
    u.http.cookies.clear()
    r = u.sign_in(password="not-the-password")
    assert r.status_code == 401
    assert 'id="error"' in r.text and 'id="log-in-form"' in r.text
    assert "holdfast_session" not in u.http.cookies


def test_forms_without_their_csrf_token_are_refused_and_change_nothing(server):
    u = signed_up(server)
    assert u.post_status("first post").status_code == 303
    home = u.get("/home").text
    [sid] = status_ids(home)
    before = u.get("/home").text.count('id="status-')
    other = signed_up(server)
    for token in (None, "", "x" * 43, other.csrf()):
        data = {"status": "forged", "back": "/home"}
        if token is not None:
            data["csrf_token"] = token
        r = u.post("/statuses", data)
        assert r.status_code == 403, (token, r.status_code, r.text[:300])
        assert "text/html" in r.headers["Content-Type"]
        r = u.post(f"/statuses/{sid}/favourite", {k: v for k, v in data.items() if k != "status"})
        assert r.status_code == 403
        r = u.post(f"/statuses/{sid}/delete", {k: v for k, v in data.items() if k != "status"})
        assert r.status_code == 403
    after = u.get("/home").text
    assert after.count('id="status-') == before and "forged" not in after
    assert 'aria-pressed="true"' not in after  # not favourited
    # Log-in and sign-up forms carry a token too (bound to their own cookie).
    anon = WebUser(server)
    r = anon.post("/auth/sign_in", {"email": u.email, "password": u.password})
    assert r.status_code == 403 and "holdfast_session" not in anon.http.cookies
    r = anon.post("/auth/sign_up", {"username": anon.username, "email": anon.email,
                                    "password": anon.password, "agreement": "true"})
    assert r.status_code == 403
    assert WebUser(server, username=anon.username).sign_up().status_code == 303  # the name was not taken


def test_pages_leave_with_strict_headers(server):
    u = signed_up(server)
    for path in ["/", "/auth/sign_in", "/auth/sign_up", "/search", f"/@{u.username}"]:
        r = requests.get(server.url(path), timeout=T)
        assert r.status_code == 200, path
        csp = r.headers["Content-Security-Policy"]
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]:
            assert directive in csp, (path, csp)
        assert "unsafe-inline" not in csp
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "<style" not in r.text and "<script>" not in r.text and " style=" not in r.text
        assert r.headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in u.get("/home").headers


def test_stylesheet_and_script_are_cached_for_a_year_under_a_content_hash(server):
    page = requests.get(server.url("/"), timeout=T).text
    css = re.search(r'href="(/assets/style-[0-9a-f]{16}\.css)"', page).group(1)
    js = re.search(r'src="(/assets/enhance-[0-9a-f]{16}\.js)"', page).group(1)
    for path, kind in [(css, "text/css"), (js, "text/javascript")]:
        r = requests.get(server.url(path), timeout=T)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(kind)
        assert "max-age=31536000" in r.headers["Cache-Control"] and "immutable" in r.headers["Cache-Control"]
    assert requests.get(server.url("/assets/style-0000000000000000.css"), timeout=T).status_code == 404


def test_what_people_type_is_rendered_inert(server):
    api = sign_up(server)
    r = api.patch("/api/v1/accounts/update_credentials",
                  data={"display_name": SCRIPT, "note": IMG + " and " + SCRIPT})
    assert r.status_code == 200, r.text
    api.status(SCRIPT + " #tag" + "x", spoiler_text=IMG)
    viewer = signed_up(server)
    assert viewer.submit(f"/@{api.username}", 'action="/accounts/').status_code == 303  # follow
    pages = ["/home", f"/@{api.username}", "/", f"/search?q={api.username}"]
    sid = status_ids(viewer.get(f"/@{api.username}").text)[0]
    pages.append(f"/@{api.username}/{sid}")
    for path in pages:
        text = viewer.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;" in text, path
    # A search term comes back escaped too.
    text = viewer.get("/search", params={"q": SCRIPT}).text
    assert "<script>alert" not in text


def test_post_reply_favourite_and_delete(server):
    alice, bob = signed_up(server), signed_up(server)
    assert alice.post_status("hello from the web", visibility="public").status_code == 303
    [sid] = status_ids(alice.get("/home").text)
    # The API sees the same status, posted through the web app.
    st = requests.get(server.url(f"/api/v1/statuses/{sid}"), timeout=T).json()
    assert st["content"] == "<p>hello from the web</p>" and st["application"]["name"] == "Web"
    thread = f"/@{alice.username}/{sid}"
    r = bob.submit(thread, 'id="compose"', status="a reply")
    assert r.status_code == 303 and r.headers["Location"] == thread
    page = bob.get(thread).text
    assert "a reply" in page and 'id="replies"' in page
    r = bob.submit(thread, f'action="/statuses/{sid}/favourite"')
    assert r.status_code == 303
    page = bob.get(thread).text
    assert re.search(rf'id="status-{sid}".*?class="favourites">1<', page, re.S)
    assert requests.get(server.url(f"/api/v1/statuses/{sid}"), timeout=T).json()["favourites_count"] == 1
    # Only the author may delete; the form is not even offered to others.
    assert f'action="/statuses/{sid}/delete"' not in page
    r = bob.post(f"/statuses/{sid}/delete", {"csrf_token": bob.csrf()})
    assert r.status_code == 404
    r = alice.submit(thread, f'action="/statuses/{sid}/delete"')
    assert r.status_code == 303
    assert requests.get(server.url(f"/api/v1/statuses/{sid}"), timeout=T).status_code == 404


def test_too_long_post_is_refused_with_a_page(server):
    u = signed_up(server)
    r = u.post_status("x" * 600)
    assert r.status_code == 422 and "character limit" in r.text
    assert status_ids(u.get("/home").text) == []


def test_signed_out_pages_send_to_log_in_and_back(server):
    r = requests.get(server.url("/home?max_id=5"), timeout=T, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/auth/sign_in?back=%2Fhome%3Fmax_id%3D5"
    u = signed_up(server)
    u.http.cookies.clear()
    page = u.get("/auth/sign_in?back=/notifications")
    fields = form_fields(page.text, 'id="log-in-form"')
    assert fields["back"] == "/notifications"
    fields.update(email=u.email, password=u.password)
    assert u.post("/auth/sign_in", fields).headers["Location"] == "/notifications"
    # Never to another site.
    page = u.get("/auth/sign_in?back=//evil.example/")
    assert u.get("/auth/sign_in?back=//evil.example/").status_code == 200
    r = u.get("/auth/sign_in?back=//evil.example/", allow_redirects=False)
    assert r.headers["Location"] == "/home"


def test_registrations_closed_and_approval(make_server):
    closed = make_server("--registrations", "closed")
    u = WebUser(closed)
    page = u.get("/auth/sign_up")
    assert 'id="closed"' in page.text and 'id="sign-up-form"' not in page.text
    # A forged post is still refused by the server, not only hidden.
    fields = {"csrf_token": form_fields(WebUser(closed).get("/auth/sign_in").text, 'id="log-in-form"')["csrf_token"]}
    approval = make_server("--registrations", "approval")
    v = WebUser(approval)
    r = v.sign_up()
    assert r.status_code == 200 and 'id="pending"' in r.text
    assert "holdfast_session" not in v.http.cookies
    r = v.sign_in()
    assert r.status_code == 401 and "pending approval" in r.text
    del fields


def test_settings_change_the_profile(server):
    from imagegen import png
    u = signed_up(server)
    page = u.get("/settings")
    fields = form_fields(page.text, 'id="profile-form"')
    files = {k: (None, v) for k, v in fields.items()}
    files.update(display_name=(None, "Web Person"), note=(None, "hello\nthere"), locked=(None, "true"),
                 avatar=("a.png", png(64, 64), "image/png"))
    r = u.post("/settings/profile", files=files)
    assert r.status_code == 303, r.text
    acct = requests.get(server.url(f"/api/v1/accounts/lookup?acct={u.username}"), timeout=T).json()
    assert acct["display_name"] == "Web Person" and acct["locked"] is True
    assert "hello<br />there" in acct["note"] and "missing.png" not in acct["avatar"]
    profile = u.get(f"/@{u.username}").text
    assert "Web Person" in profile and "/system/media/" in profile


def test_password_change_ends_other_sessions(server):
    u = signed_up(server)
    other = WebUser(server, username=u.username, password=u.password)
    assert other.sign_in().status_code == 303
    r = u.submit("/settings", 'id="password-form"', current_password="wrong-password", password="a-new-password-1")
    assert r.status_code == 403
    r = u.submit("/settings", 'id="password-form"', current_password=u.password, password="a-new-password-1")
    assert r.status_code == 303
    assert u.get("/home").status_code == 200  # this browser stays in
    assert other.get("/home", allow_redirects=False).status_code == 303  # the other one is out
    fresh = WebUser(server, username=u.username, password="a-new-password-1")
    assert fresh.sign_in().status_code == 303


def test_sessions_and_apps_can_be_revoked(server):
    u = signed_up(server)
    other = WebUser(server, username=u.username, password=u.password)
    assert other.sign_in().status_code == 303
    page = u.get("/settings").text
    assert "(this browser)" in page
    revoke = re.findall(r'action="(/settings/sessions/[0-9a-f]+/revoke)"', page)
    assert len(revoke) == 1
    assert u.submit("/settings", f'action="{revoke[0]}"').status_code == 303
    assert other.get("/home", allow_redirects=False).status_code == 303
    # An app authorized with the password grant shows up and can be cut off.
    app = requests.post(server.url("/api/v1/apps"), data={"client_name": "Phone app", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                          "scopes": "read"}, timeout=T).json()
    tok = requests.post(server.url("/oauth/token"), data={"grant_type": "password", "client_id": app["client_id"],
                        "client_secret": app["client_secret"], "username": u.email, "password": u.password,
                        "scope": "read"}, timeout=T).json()["access_token"]
    auth = {"Authorization": f"Bearer {tok}"}
    assert requests.get(server.url("/api/v1/accounts/verify_credentials"), headers=auth, timeout=T).status_code == 200
    page = u.get("/settings").text
    assert "Phone app" in page
    r = u.submit("/settings", f'action="/settings/apps/{app["id"]}/revoke"')
    assert r.status_code == 303
    assert requests.get(server.url("/api/v1/accounts/verify_credentials"), headers=auth, timeout=T).status_code == 401


def test_account_deletion_needs_the_password_and_removes_everything(server):
    u = signed_up(server)
    assert u.post_status("soon gone").status_code == 303
    [sid] = status_ids(u.get("/home").text)
    assert u.submit("/settings", 'id="delete-form"', password="wrong").status_code == 403
    r = u.submit("/settings", 'id="delete-form"', password=u.password)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert requests.get(server.url(f"/api/v1/statuses/{sid}"), timeout=T).status_code == 404
    assert requests.get(server.url(f"/@{u.username}"), timeout=T).status_code == 404
    assert WebUser(server, username=u.username, password=u.password).sign_in().status_code in (401, 403)


def test_follow_requests_for_a_locked_account(server):
    owner, fan = signed_up(server), signed_up(server)
    page = owner.get("/settings")
    fields = form_fields(page.text, 'id="profile-form"')
    assert owner.post("/settings/profile", files={**{k: (None, v) for k, v in fields.items()},
                                                 "locked": (None, "true")}).status_code == 303
    r = fan.submit(f"/@{owner.username}", 'action="/accounts/')
    assert r.status_code == 303
    assert "Cancel follow request" in fan.get(f"/@{owner.username}").text
    page = owner.get("/follow_requests").text
    assert fan.username in page
    m = re.search(r'action="(/follow_requests/\d+/authorize)"', page)
    assert owner.submit("/follow_requests", f'action="{m.group(1)}"').status_code == 303
    assert "Unfollow" in fan.get(f"/@{owner.username}").text
    assert fan.username in owner.get(f"/@{owner.username}/followers").text


def test_picture_with_its_description(server):
    from imagegen import png
    u = signed_up(server)
    data = {"csrf_token": u.csrf(), "status": "", "back": "/home"}
    files = {k: (None, v) for k, v in data.items()}
    files["image"] = ("p.png", png(80, 60), "image/png")
    files["image_description"] = (None, 'a red square <b>"quoted"</b>')
    r = u.post("/statuses", files=files)
    assert r.status_code == 303, r.text
    page = u.get("/home").text
    assert 'alt="a red square &lt;b&gt;&quot;quoted&quot;&lt;/b&gt;"' in page
    [sid] = status_ids(page)
    st = requests.get(server.url(f"/api/v1/statuses/{sid}"), timeout=T).json()
    assert st["media_attachments"][0]["description"] == 'a red square <b>"quoted"</b>'


def test_boost_bookmark_block_and_mute(server):
    alice, bob = signed_up(server), signed_up(server)
    assert bob.post_status("boost me").status_code == 303
    [sid] = status_ids(bob.get("/home").text)
    thread = f"/@{bob.username}/{sid}"
    assert alice.submit(thread, f'action="/statuses/{sid}/reblog"').status_code == 303
    assert alice.submit(thread, f'action="/statuses/{sid}/bookmark"').status_code == 303
    page = alice.get(thread).text
    assert "Unboost" in page and "Remove bookmark" in page
    assert re.search(r'class="reblogs">1<', page)
    # The boost shows on Alice's profile, under "boosted".
    assert "boosted" in alice.get(f"/@{alice.username}").text
    profile = f"/@{bob.username}"
    mute = re.search(r'action="(/accounts/\d+/mute)"', alice.get(profile).text).group(1)
    assert alice.submit(profile, f'action="{mute}"').status_code == 303
    assert "Unmute" in alice.get(profile).text
    block = mute.replace("/mute", "/block")
    assert alice.submit(profile, f'action="{block}"').status_code == 303
    page = alice.get(profile).text
    assert "Unblock" in page and ">Follow<" not in page


def test_older_and_newer_pages(server):
    u = signed_up(server)
    for i in range(23):
        assert u.post_status(f"numbered {i}").status_code == 303
    first = u.get("/home").text
    assert len(status_ids(first)) == 20
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1)
    second = u.get(html_unescape(older)).text
    assert len(status_ids(second)) == 3 and "numbered 0" in second
    newer = re.search(r'rel="prev" href="([^"]+)"', second).group(1)
    back = u.get(html_unescape(newer)).text
    assert "numbered 3" in back and "numbered 0" not in back


def html_unescape(s):
    import html
    return html.unescape(s)
