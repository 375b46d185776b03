"""Moderation and the forms' defences in real headless Chromium: an admin
writes a server rule, a person reports a post from its page citing it, a
moderator resolves the report with a note and suspends the account (whose
posts then disappear), the admin deletes the rule and the report still shows
it; and a form posted
without its CSRF token, or from another site, is refused. Each test saves
screenshots into the test output (see webdriver.py)."""
import uuid

import requests

from conftest import sign_up
from test_web_ui import click, fill, log_in
from webclient import signed_up
from webdriver import browser, shots  # noqa: F401 (fixtures)

T = 30


def moderator(server, role="moderator"):
    u = signed_up(server)
    res = server.cli("user", "grant", u.username, role)
    assert res.returncode == 0, res.stderr
    return u


def log_out(browser):
    click(browser, "nav form[action='/auth/sign_out'] button")
    browser.wait_for("the front page", lambda: browser.find("#log-in-link"))


def public_page(server):
    return requests.get(server.url("/"), timeout=T).text


def test_moderator_resolves_a_report_and_suspends_the_account(make_server, browser, shots):
    server = make_server()  # its own: the rule written here must not reach other tests
    spammer = sign_up(server)
    text = f"cheap followers here {uuid.uuid4().hex[:6]}"
    st = spammer.status(text, visibility="public")
    reporter, mod, admin = signed_up(server), moderator(server), moderator(server, "admin")

    # An admin writes a server rule on the rules page.
    log_in(browser, server, admin)
    browser.get(server.url("/admin/rules"))
    fill(browser, "#new-rule-text", "No commercial spam")
    fill(browser, "#new-rule-hint", "Selling followers, likes or adverts.")
    click(browser, "#add-rule")
    browser.wait_for("the rule", lambda: "No commercial spam" in browser.text("#rules"))
    rule_id = browser.script("return document.querySelector('#rules li.rule').id.replace('rule-', '')")
    browser.screenshot(shots("rule-written"))
    log_out(browser)

    # A person reports the post from its own page, citing the rule.
    log_in(browser, server, reporter)
    browser.get(server.url(f"/@{spammer.username}/{st['id']}"))
    click(browser, f"a[href='/@{spammer.username}/report?status={st['id']}']")
    browser.wait_for("the report form", lambda: browser.find("#report-form"))
    fill(browser, "#report-comment", "Selling followers, again.")
    click(browser, f"#report-rule-{rule_id}")
    browser.screenshot(shots("report-form"))
    click(browser, "#send-report")
    browser.wait_for("the thanks", lambda: browser.find("#report-sent"))
    log_out(browser)

    # The moderator finds it in the queue, with the post, and resolves it with a note.
    log_in(browser, server, mod)
    click(browser, "nav a[href='/admin/reports']")
    browser.wait_for("the queue", lambda: f"@{spammer.username}" in browser.text("main"))
    report_id = browser.script(
        "const s = document.getElementById(arguments[0]);"
        "return s ? s.closest('article.report').id.replace('report-', '') : null", f"status-{st['id']}")
    assert report_id, browser.text("main")[:1000]
    assert "Selling followers, again." in browser.text(f"#report-{report_id}")
    assert "No commercial spam" in browser.text(f"#report-{report_id}-rule-{rule_id}")
    browser.screenshot(shots("reports-queue"))
    fill(browser, f"#note-{report_id}", "Suspended: commercial spam.")
    click(browser, f"#report-{report_id} form[action$='/resolve'] button")
    browser.wait_for("the resolved list", lambda: "resolved=true" in browser.url())
    assert "Suspended: commercial spam." in browser.text(f"#report-{report_id}")

    # Then suspends the account from the accounts page (the form asks first).
    browser.get(server.url(f"/admin/accounts?username={spammer.username}"))
    click(browser, f"#suspend-{spammer.id}")
    browser.accept_alert()
    browser.wait_for("the suspension", lambda: "suspended" in browser.text(f"#account-{spammer.id}"))
    browser.screenshot(shots("account-suspended"))

    # The posts are gone: from the front page, the profile and the thread.
    browser.get(server.url("/"))
    assert text not in browser.text("main")
    assert text not in public_page(server)
    assert requests.get(server.url(f"/@{spammer.username}"), timeout=T).status_code == 404
    assert requests.get(server.url(f"/api/v1/statuses/{st['id']}"), timeout=T).status_code == 404
    browser.get(server.url("/admin/audit"))
    audit = browser.text("#audit-log")
    assert "resolve_report" in audit and "suspend" in audit and spammer.username in audit
    browser.screenshot(shots("audit-log"))
    log_out(browser)

    # The admin deletes the rule (the form asks first): it leaves the list,
    # and the report still shows which rule it cited.
    log_in(browser, server, admin)
    browser.get(server.url("/admin/rules"))
    click(browser, f"#delete-rule-{rule_id}")
    browser.accept_alert()
    browser.wait_for("the empty list", lambda: browser.find("#no-rules"))
    assert requests.get(server.url("/api/v1/instance/rules"), timeout=T).json() == []
    browser.get(server.url("/admin/reports?resolved=true"))
    cited = browser.text(f"#report-{report_id}-rule-{rule_id}")
    assert "No commercial spam" in cited and "deleted" in cited, cited
    browser.screenshot(shots("report-cites-a-deleted-rule"))


def test_forms_without_their_csrf_token_are_refused(server, browser, shots):
    user = signed_up(server)
    log_in(browser, server, user)
    # The compose form with its token taken out: 403, and nothing is posted.
    text = f"posted without a token {uuid.uuid4().hex[:6]}"
    fill(browser, "#status-text", text)
    browser.script("document.querySelector('#compose input[name=csrf_token]').remove()")
    click(browser, "#post")
    browser.wait_for("the refusal", lambda: browser.find("#error"))
    assert "did not come from this site" in browser.text("#error")
    browser.screenshot(shots("csrf-refused"))
    # With a token of another session: refused too.
    other = signed_up(server)
    browser.get(server.url("/home"))
    fill(browser, "#status-text", text)
    browser.script("document.querySelector('#compose input[name=csrf_token]').value = arguments[0]", other.csrf())
    click(browser, "#post")
    browser.wait_for("the refusal", lambda: browser.find("#error"))

    # A page on another site that posts to holdfast: the session cookie (SameSite=Lax)
    # does not go with it, and it has no token; nothing is posted. (The browser ends
    # on the log-in page, which sends a signed-in browser on to home.)
    forged = (f"<form id=f method=post action='{server.url('/statuses')}'>"
              f"<input name=status value='{text}'></form>"
              "<script>document.getElementById('f').submit()</script>")
    browser.get("data:text/html," + requests.utils.quote(forged))
    browser.wait_for("the answer", lambda: browser.url().startswith(server.url("/")))
    assert "notice=posted" not in browser.url(), browser.url()
    browser.screenshot(shots("other-site-refused"))

    browser.get(server.url("/home"))
    assert text not in browser.text("main")
    api = requests.get(server.url(f"/api/v1/accounts/lookup?acct={user.username}"), timeout=T).json()
    assert api["statuses_count"] == 0
