"""The authorize page in real headless Chromium (over WebDriver): log in,
consent, Deny, session reuse and force_login, the way a person's browser
does them, with the browser's own cookie, Origin and Sec-Fetch-* rules.
Skipped only where Chromium and chromedriver are not installed."""
import os
import shutil
import subprocess
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from conftest import free_port, sign_up

T = 30
# Nothing listens on the discard port: the browser stops there and we read its URL.
CB = "http://127.0.0.1:9/cb"

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("chromium-browser"))),
    reason="needs Debian's chromium and chromium-driver")


class Browser:
    """A minimal W3C WebDriver client: just what these tests use."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(self.base + "/status", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        if os.geteuid() == 0:
            args.append("--no-zygote")
        r = requests.post(self.base + "/session", timeout=T, json={"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"args": args}}}})
        assert r.ok, r.text
        self.session = f"{self.base}/session/{r.json()['value']['sessionId']}"

    def _call(self, method, path, body=None):
        r = requests.request(method, self.session + path, json=body, timeout=T)
        assert r.ok, r.text
        return r.json()["value"]

    def go(self, url):
        self._call("POST", "/url", {"url": url})

    def url(self):
        return self._call("GET", "/url")

    def source(self):
        return self._call("GET", "/source")

    def element(self, css):
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def has(self, css):
        found = self._call("POST", "/elements", {"using": "css selector", "value": css})
        return bool(found)

    def type(self, css, text):
        self._call("POST", f"/element/{self.element(css)}/value", {"text": text})

    def click(self, css):
        self._call("POST", f"/element/{self.element(css)}/click", {})

    def wait_for(self, predicate, what, timeout_s=10):
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; at {self.url()}: "
                                     f"{self.source()[:1500]}")
            time.sleep(0.05)

    def close(self):
        try:
            requests.delete(self.session, timeout=T)
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def authorize_url(server, app, **extra):
    q = {"client_id": app["client_id"], "redirect_uri": CB, "response_type": "code",
         "scope": "read", **extra}
    return server.url("/oauth/authorize?" + urlencode(q))


def log_in(browser, user):
    browser.type("#email", user.email)
    browser.type("#password", user.password)
    browser.click("#log-in")
    browser.wait_for(lambda: browser.has("#authorize"), "the consent step")


def callback_query(browser):
    browser.wait_for(lambda: browser.url().startswith(CB), "the redirect to the app")
    return parse_qs(urlparse(browser.url()).query)


def test_log_in_consent_and_session_reuse_in_a_real_browser(server, browser):
    user = sign_up(server)
    app = requests.post(server.url("/api/v1/apps"), timeout=T, json={
        "client_name": "Browser app", "redirect_uris": [CB], "scopes": "read"}).json()
    browser.go(authorize_url(server, app, state="st 1"))
    assert browser.has("#log-in") and not browser.has("#authorize")
    log_in(browser, user)
    assert f"@{user.username}" in browser.source()
    browser.click("#authorize")
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
    browser.go(authorize_url(server, app, state="again"))
    browser.wait_for(lambda: browser.has("#authorize"), "the consent step")
    assert not browser.has("#password")
    browser.click("#deny")
    q = callback_query(browser)
    assert q["error"] == ["access_denied"] and q["state"] == ["again"] and "code" not in q

    # force_login asks again even with the session.
    browser.go(authorize_url(server, app, force_login="true"))
    browser.wait_for(lambda: browser.has("#log-in"), "the log-in step")
    assert not browser.has("#authorize")
