"""The authorize page in real headless Chromium (over WebDriver): log in,
consent, Deny, session reuse and force_login, the way a person's browser
does them, with the browser's own cookie, Origin and Sec-Fetch-* rules.
Skipped where Chromium and chromedriver are not installed, a failure under CI
(see tests/browser/webdriver.py, whose browser it uses)."""
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from conftest import sign_up
from browser.webdriver import browser  # noqa: F401 (the fixture: real headless Chromium)

T = 30
# Nothing listens on the discard port: the browser stops there and we read its URL.
CB = "http://127.0.0.1:9/cb"


def has(browser, css):
    return browser.find(css) is not None


def type_into(browser, css, text):
    browser.type_into(browser.find(css), text)


def click(browser, css):
    browser.click(browser.find(css))


def authorize_url(server, app, **extra):
    q = {"client_id": app["client_id"], "redirect_uri": CB, "response_type": "code",
         "scope": "read", **extra}
    return server.url("/oauth/authorize?" + urlencode(q))


def log_in(browser, user):
    type_into(browser, "#email", user.email)
    type_into(browser, "#password", user.password)
    click(browser, "#log-in")
    browser.wait_for("the consent step", lambda: has(browser, "#authorize"))


def callback_query(browser):
    browser.wait_for("the redirect to the app", lambda: browser.url().startswith(CB))
    return parse_qs(urlparse(browser.url()).query)


def test_log_in_consent_and_session_reuse_in_a_real_browser(server, browser):
    user = sign_up(server)
    app = requests.post(server.url("/api/v1/apps"), timeout=T, json={
        "client_name": "Browser app", "redirect_uris": [CB], "scopes": "read"}).json()
    browser.get(authorize_url(server, app, state="st 1"))
    assert has(browser, "#log-in") and not has(browser, "#authorize")
    log_in(browser, user)
    assert f"@{user.username}" in browser.text()
    click(browser, "#authorize")
    q = callback_query(browser)
    assert q["state"] == ["st 1"]
    tok = requests.post(server.url("/oauth/token"), timeout=T, data={
        "grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": CB,
        "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert tok.status_code == 200, tok.text
    me = requests.get(server.url("/api/v1/accounts/verify_credentials"), timeout=T,
                      headers={"Authorization": f"Bearer {tok.json()['access_token']}"})
    assert me.json()["id"] == user.id

    # The session cookie spares the password the second time; Deny goes back with the state.
    browser.get(authorize_url(server, app, state="again"))
    browser.wait_for("the consent step", lambda: has(browser, "#authorize"))
    assert not has(browser, "#password")
    click(browser, "#deny")
    q = callback_query(browser)
    assert q["error"] == ["access_denied"] and q["state"] == ["again"] and "code" not in q

    # force_login asks again even with the session.
    browser.get(authorize_url(server, app, force_login="true"))
    browser.wait_for("the log-in step", lambda: has(browser, "#log-in"))
    assert not has(browser, "#authorize")
