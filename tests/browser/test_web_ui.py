"""holdfast's own web UI in real headless Chromium (W3C WebDriver, see
webdriver.py): the flows a person goes through, with JavaScript on, each
saving screenshots into the test output ($HOLDFAST_TEST_OUT or the test's
temporary folder). HTTP-level checks (CSRF, cookies, headers) are in
tests/http/test_web.py."""
import os
import re
import uuid

import pytest
import requests

from conftest import sign_up, unique_name
from webclient import signed_up
from webdriver import KEY_ENTER, KEY_TAB, browser, shots  # noqa: F401 (fixtures)

TAB_PRESSES_MAX = 60
PHONE = (390, 844)
DESKTOP = (1280, 900)


def fill(browser, css, text):
    el = browser.find(css)
    assert el, f"no {css} on {browser.url()}: {browser.text()[:500]}"
    browser.type_into(el, text)


def click(browser, css):
    el = browser.find(css)
    assert el, f"no {css} on {browser.url()}: {browser.text()[:500]}"
    browser.click(el)


def log_in(browser, server, user):
    browser.get(server.url("/auth/sign_in"))
    fill(browser, "#email", user.email)
    fill(browser, "#password", user.password)
    click(browser, "#log-in")
    browser.wait_for("home", lambda: browser.find("#compose"))


def test_sign_up_post_and_see_it_on_home(server, browser, shots):
    browser.get(server.url("/"))
    browser.screenshot(shots("landing"))
    click(browser, "#sign-up-link")
    name = unique_name("ui")
    fill(browser, "#username", name)
    fill(browser, "#email", f"{name}@example.com")
    fill(browser, "#password", "a-long-enough-password")
    click(browser, "#agreement")
    browser.screenshot(shots("sign-up"))
    click(browser, "#sign-up")
    browser.wait_for("home after sign-up", lambda: browser.find("#compose"))
    assert browser.url() == server.url("/home")
    text = f"my first post {uuid.uuid4().hex[:6]}"
    fill(browser, "#status-text", text)
    # The counter is live (progressive enhancement).
    browser.wait_for("the character counter", lambda: str(500 - len(text)) in browser.text("#status-counter"))
    click(browser, "#post")
    browser.wait_for("the post on home", lambda: text in browser.text("main"))
    assert "Posted." in browser.text("main")
    browser.screenshot(shots("home"))


def test_follow_reply_favourite_settings_and_log_out(server, browser, shots):
    bob = signed_up(server)
    assert bob.post_status(f"hello from bob {uuid.uuid4().hex[:6]}").status_code == 303
    alice = signed_up(server)
    log_in(browser, server, alice)
    # Alice follows Bob from his profile and sees his post on home.
    browser.get(server.url(f"/@{bob.username}"))
    click(browser, "#relationship button")
    browser.wait_for("the follow", lambda: "Unfollow" in browser.text("#relationship"))
    assert browser.text("#followers-count") == "1"
    browser.screenshot(shots("profile"))
    browser.get(server.url("/home"))
    browser.wait_for("Bob's post on home", lambda: "hello from bob" in browser.text("main"))
    # Reply: the thread shows it.
    click(browser, "article.status a.meta")
    browser.wait_for("the thread", lambda: browser.find("#compose"))
    thread = browser.url()
    fill(browser, "#status-text", "nice one")
    click(browser, "#post")
    browser.wait_for("the reply in the thread", lambda: "nice one" in browser.text("main") and browser.find("#replies"))
    assert browser.url() == thread
    # Favourite: the count goes up.
    click(browser, "article.status.focus form[action$='/favourite'] button")
    browser.wait_for("the favourite count", lambda: browser.text("article.status.focus .favourites") == "1")
    browser.screenshot(shots("thread"))
    # Settings: a new display name shows on the profile.
    browser.get(server.url("/settings"))
    browser.screenshot(shots("settings"))
    name = browser.find("#display-name")
    browser._call("POST", f"/element/{name}/clear")
    browser.type_into(name, "Alice in the Browser")
    click(browser, "#save-profile")
    browser.wait_for("saved", lambda: "Profile saved." in browser.text("main"))
    browser.get(server.url(f"/@{alice.username}"))
    assert "Alice in the Browser" in browser.text("main")
    # Log out: back to the front page, home asks to log in.
    click(browser, "nav form[action='/auth/sign_out'] button")
    browser.wait_for("the front page", lambda: browser.find("#log-in-link"))
    browser.get(server.url("/home"))
    assert browser.url().startswith(server.url("/auth/sign_in"))


PAYLOADS = [
    '<script>window.__pwned = "script"</script>',
    '<img src=x onerror="window.__pwned = \'img\'">',
    '"><svg onload="window.__pwned=\'svg\'">',
    "javascript:window.__pwned='link'",
]


def test_script_injection_in_every_field_is_inert(make_server, browser, shots):
    """Every field a person (or an admin) fills in, shown on every page that
    shows it: display name, bio, status text, content warning, alt text, poll
    options, list titles, hashtags, search query, report comment, and the
    admins' announcements and domain-block reasons. On a server of its own:
    others expect no domain blocks on the shared one."""
    from imagegen import png
    server = make_server()
    evil = sign_up(server)
    payload = " ".join(PAYLOADS)
    r = evil.patch("/api/v1/accounts/update_credentials", data={"display_name": payload[:30], "note": payload})
    assert r.status_code == 200, r.text
    st = evil.status(payload[:400], spoiler_text=PAYLOADS[1])
    evil.status(PAYLOADS[0] + " #inert", visibility="public")
    poll = evil.status("vote", visibility="public",
                       poll={"options": [p[:50] for p in PAYLOADS[:3]], "expires_in": 3600})
    media = evil.post("/api/v2/media", files={"file": ("p.png", png(40, 30), "image/png")},
                      data={"description": payload})
    assert media.status_code in (200, 202), media.text
    pictured = evil.status("a picture", visibility="public", media_ids=[media.json()["id"]])
    viewer = signed_up(server)
    assert server.cli("user", "grant", viewer.username, "admin").returncode == 0
    r = evil.post("/api/v1/reports", json={"account_id": sign_up(server).id, "comment": payload,
                                           "category": "other"})
    assert r.status_code == 200, r.text
    r = viewer.submit("/lists", 'id="new-list"', title=payload[:256])
    assert r.status_code == 303, r.text[:300]
    list_path = "/lists/" + r.headers["Location"].rsplit("-", 1)[1]
    r = viewer.submit("/admin/announcements", 'id="new-announcement"', text=payload, publish="false")
    assert r.status_code == 303, r.text[:300]
    r = viewer.submit("/admin/domain_blocks", 'id="new-domain-block"', domain=f"{evil.username.replace('_', '-')}.example",
                      severity="silence", public_comment=payload[:900], private_comment=PAYLOADS[2])
    assert r.status_code == 303, r.text[:300]

    log_in(browser, server, viewer)
    pages = ["/", f"/@{evil.username}", f"/@{evil.username}/{st['id']}", "/tags/inert",
             f"/search?q={requests.utils.quote(PAYLOADS[0])}", f"/search?q={evil.username}",
             f"/@{evil.username}/followers", f"/@{evil.username}/{poll['id']}",
             f"/@{evil.username}/{pictured['id']}", "/lists", list_path, "/admin/reports",
             "/admin/announcements", "/admin/domain_blocks", "/home"]
    for path in pages:
        browser.get(server.url(path))
        for d in browser.find_all("details"):
            browser.click(d)  # open content warnings and edit forms, so their content renders
        assert not browser.alert_open(), path
        assert browser.script("return window.__pwned === undefined"), path
        assert not browser.find("main script, main svg, main img[onerror], main [onload]"), path
    checks = {f"/@{evil.username}/{st['id']}": "<script>", f"/@{evil.username}/{poll['id']}": "<svg onload",
              "/lists": "<script>", "/admin/reports": "<script>", "/admin/announcements": "<script>"}
    for path, shown in checks.items():
        browser.get(server.url(path))
        assert shown in browser.text("main"), (path, "the payload shows as text")
    browser.get(server.url(f"/@{evil.username}/{pictured['id']}"))
    alt = browser.script("const i = document.querySelector('main .media img'); return i ? i.alt : null")
    assert alt == payload, alt
    browser.get(server.url(f"/@{evil.username}/{st['id']}"))
    browser.screenshot(shots("inert"))
    browser.get(server.url("/admin/reports"))
    browser.screenshot(shots("inert-report"))


def test_live_home_timeline_shows_new_posts_without_a_reload(server, browser, shots):
    author = sign_up(server)
    reader = signed_up(server)
    assert reader.submit(f"/@{author.username}", 'action="/accounts/').status_code == 303
    log_in(browser, server, reader)
    browser.wait_for("the live timeline", lambda: browser.find("#timeline[data-live]"))
    browser.script("window.__sameDocument = true")
    text = f"arrives by itself {uuid.uuid4().hex[:6]}"
    author.status(text, visibility="public")
    browser.wait_for("the new post", lambda: text in browser.text("#timeline"))
    assert browser.script("return window.__sameDocument === true"), "the page was reloaded"
    assert "1 new post" in browser.text("#live-status")
    # The new post's forms work like the others' (it is the server's own rendering).
    assert browser.find("#timeline article.status form[action$='/favourite'] input[name=csrf_token]")
    browser.screenshot(shots("live-update"))
    # A deleted post leaves.
    sid = browser.script("return document.querySelector('#timeline article.status').id.replace('status-', '')")
    assert author.delete(f"/api/v1/statuses/{sid}").status_code == 200
    browser.wait_for("the post to leave", lambda: text not in browser.text("#timeline"))


def test_keyboard_only_log_in_and_post(server, browser, shots):
    user = signed_up(server)
    requests.Session()  # a fresh browser session below; the user exists
    browser.get(server.url("/auth/sign_in"))

    def tab_to(element_id):
        for _ in range(TAB_PRESSES_MAX):
            if browser.active_id() == element_id:
                return
            browser.keys(KEY_TAB)
        raise AssertionError(f"Tab never reached #{element_id}; focus is on #{browser.active_id()}")

    # The first Tab lands on the skip link.
    browser.keys(KEY_TAB)
    assert browser.script("return document.activeElement.className") == "skip"
    tab_to("email")
    browser.keys(user.email)
    tab_to("password")
    browser.keys(user.password + KEY_ENTER)
    browser.wait_for("home", lambda: browser.find("#compose"))
    tab_to("status-text")
    text = f"typed without a mouse {uuid.uuid4().hex[:6]}"
    browser.keys(text)
    tab_to("post")
    # The focused button is visibly marked (a focus outline).
    outline = browser.script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline and outline != "none", outline
    browser.screenshot(shots("keyboard-focus"))
    browser.keys(KEY_ENTER)
    browser.wait_for("the post", lambda: text in browser.text("main"))


@pytest.mark.skipif(not os.environ.get("HOLDFAST_SCREENSHOTS_DIR"),
                    reason="set HOLDFAST_SCREENSHOTS_DIR=docs/screenshots to refresh the README's screenshots")
def test_readme_screenshots(server, browser):
    """Phone and desktop pictures of the main pages, for the README."""
    out = os.environ["HOLDFAST_SCREENSHOTS_DIR"]
    bob = signed_up(server)
    bob.post_status("Good morning! The harbour is calm today. #sailing")
    alice = signed_up(server)
    alice.submit(f"/@{bob.username}", 'action="/accounts/')
    alice.post_status("Trying the web UI: it works with JavaScript off, too.")
    # Alice moderates: a report to look at, an announcement, a list of her own.
    assert server.cli("user", "grant", alice.username, "admin").returncode == 0
    carol = signed_up(server)
    carol.post_status("Buy cheap followers at spam.example!")
    [spam] = re.findall(r'id="status-(\d+)"', carol.get("/home").text)[:1]
    reporter = signed_up(server)
    reporter.submit(f"/@{carol.username}/report?status={spam}", 'id="report-form"',
                    comment="Selling followers in every reply.", category="spam")
    alice.submit("/admin/announcements", 'id="new-announcement"',
                 text="The server moves to a new machine on Sunday at 10:00 UTC.", publish="false")
    alice.submit("/lists", 'id="new-list"', title="Sailing friends")
    log_in(browser, server, alice)
    pages = {"home": "/home", "profile": f"/@{bob.username}", "settings": "/settings",
             "reports": "/admin/reports", "announcements": "/admin/announcements", "lists": "/lists"}
    for label, (w, h) in {"phone": PHONE, "desktop": DESKTOP}.items():
        for name, path in pages.items():
            browser.resize(w, h)
            browser.get(server.url(path))
            browser.screenshot(os.path.join(out, f"{name}-{label}.png"))
    click(browser, "nav form[action='/auth/sign_out'] button")
    for label, (w, h) in {"phone": PHONE, "desktop": DESKTOP}.items():
        for name, path in {"landing": "/", "sign-in": "/auth/sign_in"}.items():
            browser.resize(w, h)
            browser.get(server.url(path))
            browser.screenshot(os.path.join(out, f"{name}-{label}.png"))


@pytest.mark.skipif(not os.environ.get("HOLDFAST_SCREENSHOTS_DIR"),
                    reason="set HOLDFAST_SCREENSHOTS_DIR=docs/screenshots to refresh the README's screenshots")
def test_readme_screenshots_of_the_rules_page(make_server, browser):
    """The admins' rules page, phone and desktop, on a server of its own
    (its rules must not reach the other tests)."""
    out = os.environ["HOLDFAST_SCREENSHOTS_DIR"]
    server = make_server()
    admin = signed_up(server)
    assert server.cli("user", "grant", admin.username, "admin").returncode == 0
    for text, hint in [("Be kind to each other", "No harassment, no hate speech, no dog-piling."),
                       ("No spam", "No adverts, no selling followers, no automated replies."),
                       ("Mark sensitive media", "Use a content warning for anything graphic.")]:
        assert admin.submit("/admin/rules", 'id="new-rule"', text=text, hint=hint).status_code == 303
    log_in(browser, server, admin)
    for label, (w, h) in {"phone": PHONE, "desktop": DESKTOP}.items():
        browser.resize(w, h)
        browser.get(server.url("/admin/rules"))
        browser.screenshot(os.path.join(out, f"rules-{label}.png"))


def test_status_page_refreshes_itself(server, browser, shots):
    browser.get(server.url("/status"))
    browser.wait_for("the report", lambda: browser.find("#status-report[data-refresh]"))
    browser.script("window.__sameDocument = true")
    before = browser.text("#status-report table")
    # The uptime (in seconds) changes between two refreshes (every 10 s).
    browser.wait_for("fresh figures", lambda: browser.text("#status-report table") != before, timeout_s=25)
    assert browser.script("return window.__sameDocument === true"), "the page was reloaded"
    browser.screenshot(shots("status"))
