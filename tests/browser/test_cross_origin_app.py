"""A web Mastodon client on another origin, in real headless Chromium.

holdfast runs at http://127.0.0.1:<A> (the harness); a static server at
http://localhost:<B> (another host name and port, so another origin) serves
tests/browser/app.html + app.js, a small web client. Chromium, driven over W3C
WebDriver (Debian's chromium-driver, spoken with `requests`), opens the page;
the page registers an app and goes to holdfast's /oauth/authorize with PKCE
S256; the test signs in through holdfast's own page (log-in step, then
consent); back on the client's origin, the page exchanges the code, calls the
API with the token (preflighted Authorization), uploads an image with
FormData, posts a status with it, shows the picture, sets an avatar with a
multipart PATCH, and writes what happened into the DOM.

The test fails if any step failed or the browser log mentions CORS. It is
skipped (with the reason) only when Chromium or ChromeDriver is not installed
and this is not CI; scripts/test installs both.
"""
import functools
import http.server
import json
import os
import threading

import pytest

from conftest import sign_up
from webdriver import browser  # noqa: F401 (a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
CORS_WORDS = ("CORS", "Access-Control", "cross-origin", "blocked by")


class StaticSite:
    """tests/browser served over HTTP on loopback, reached as http://localhost:<port>."""

    def __init__(self):
        handler = functools.partial(_QuietHandler, directory=HERE)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://localhost:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@pytest.fixture
def site():
    s = StaticSite()
    yield s
    s.stop()


def _unless_client_failed(browser, probe):
    """Wrap a wait probe: stop waiting at once when the page reports a failure."""
    def check():
        done = browser.script("return document.body && document.body.dataset.done")
        if done == "failed":
            result = browser.script("return document.getElementById('result').textContent")
            raise AssertionError(f"the web client failed: {result}\nbrowser log: {browser.browser_log()}")
        return probe()
    return check


def test_web_client_on_another_origin_signs_in_with_pkce_and_posts_a_picture(server, site, browser):
    user = sign_up(server)
    assert site.origin.split(":")[1] != server.base_url.split(":")[1]  # different host names

    browser.get(f"{site.origin}/app.html?server={server.base_url}")
    # The page registers an app and sends the browser to holdfast's sign-in page.
    email = browser.wait_for("holdfast's log-in form", _unless_client_failed(browser, lambda: browser.find("#email")))
    assert browser.url().startswith(server.base_url + "/oauth/authorize"), browser.url()
    browser.type_into(email, user.email)
    browser.type_into(browser.find("#password"), user.password)
    browser.click(browser.find("#log-in"))
    # Consent: the app's name is shown, then Authorize.
    authorize = browser.wait_for("the consent step's #authorize button", lambda: browser.find("#authorize"))
    assert "Cross-origin test client" in browser.script("return document.body.innerText")
    browser.click(authorize)

    browser.wait_for("the client to finish", lambda: browser.script("return document.body && document.body.dataset.done"))
    assert browser.url().startswith(site.origin + "/app.html?"), browser.url()
    result = json.loads(browser.script("return document.getElementById('result').textContent"))
    log = browser.browser_log()
    cors_lines = [e["message"] for e in log if any(w.lower() in e["message"].lower() for w in CORS_WORDS)]
    failed = [s for s in result["steps"] if not s["ok"]]
    assert not failed and result["ok"], f"failed steps: {json.dumps(failed, indent=1)}\nbrowser log: {log}"
    assert not cors_lines, f"CORS errors in the browser log: {cors_lines}"
    # The one request that fails on purpose is the page's 404 check.
    severe = [e["message"] for e in log if e.get("level") == "SEVERE"
              and "/api/v1/statuses/1 " not in e["message"] and "favicon.ico" not in e["message"]]
    assert not severe, f"errors in the browser log: {severe}"

    # What the page did is what the server has.
    assert result["username"] == user.username
    assert result["statusMedia"] == [result["mediaId"]]
    assert result["homeFirst"] == result["statusId"]
    assert result["shown"]["width"] > 0
    assert result["displayName"] == "Signed in from another origin"
    assert user.get("/api/v1/accounts/verify_credentials").json()["avatar"] == result["avatar"]
    assert result["exposed"]["link"] and result["exposed"]["rateLimitLimit"]
    assert result["notFoundType"].startswith("application/json")
    status = user.get(f"/api/v1/statuses/{result['statusId']}").json()
    assert [m["id"] for m in status["media_attachments"]] == [result["mediaId"]]
    assert status["media_attachments"][0]["description"] == "a gradient drawn on a canvas"
    assert status["application"]["name"] == "Cross-origin test client"
