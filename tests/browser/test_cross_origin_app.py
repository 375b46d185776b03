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
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import free_port, sign_up

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("HOLDFAST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOLDFAST_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
DRIVER_START_TIMEOUT_S = 20
STEP_TIMEOUT_S = 30
HTTP_TIMEOUT_S = 60
CORS_WORDS = ("CORS", "Access-Control", "cross-origin", "blocked by")
CHROMIUM_ARGS = [
    "--headless=new", "--disable-gpu", "--no-first-run", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--window-size=1000,800",
]
if os.geteuid() == 0:
    CHROMIUM_ARGS.append("--no-sandbox")  # Chromium's sandbox refuses to run as root


def _require_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (p and os.access(p, os.X_OK))]
    if missing:
        message = (f"not installed: {', '.join(missing)} (Debian: apt-get install chromium chromium-driver; "
                   "scripts/test installs them)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


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


class WebDriver:
    """Just enough W3C WebDriver over HTTP for this test."""

    def __init__(self, tmp):
        self.port = free_port()
        self.log = open(os.path.join(tmp, "chromedriver.log"), "w")
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = None
        deadline = time.monotonic() + DRIVER_START_TIMEOUT_S
        while True:
            try:
                if requests.get(self.base + "/status", timeout=2).json()["value"]["ready"]:
                    break
            except (requests.ConnectionError, ValueError, KeyError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": CHROMIUM_ARGS + [f"--user-data-dir={os.path.join(tmp, 'profile')}"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"pageLoad": STEP_TIMEOUT_S * 1000, "script": STEP_TIMEOUT_S * 1000},
        }}}
        value = self._call("POST", "/session", caps, session=False)
        self.session = value["sessionId"]

    def _call(self, method, path, body=None, session=True):
        url = self.base + (f"/session/{self.session}" if session else "") + path
        r = requests.request(method, url, json=body if body is not None else ({} if method == "POST" else None),
                             timeout=HTTP_TIMEOUT_S)
        data = r.json()
        if r.status_code != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {r.status_code} {data}")
        return data["value"]

    def get(self, url):
        self._call("POST", "/url", {"url": url})

    def url(self):
        return self._call("GET", "/url")

    def script(self, source, *args):
        return self._call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def find(self, css):
        """The element matching `css`, or None."""
        r = requests.post(f"{self.base}/session/{self.session}/element",
                          json={"using": "css selector", "value": css}, timeout=HTTP_TIMEOUT_S)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise RuntimeError(f"WebDriver find {css}: {r.status_code} {r.text}")
        return next(iter(r.json()["value"].values()))

    def wait_for(self, what, probe, timeout_s=STEP_TIMEOUT_S):
        deadline = time.monotonic() + timeout_s
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; at {self.url()}: "
                                     f"{self.script('return document.body ? document.body.innerText : null')!r}")
            time.sleep(0.1)

    def type_into(self, element, text):
        self._call("POST", f"/element/{element}/value", {"text": text})

    def click(self, element):
        self._call("POST", f"/element/{element}/click")

    def browser_log(self):
        """Console and network messages since the last call (ChromeDriver's log endpoint)."""
        return self._call("POST", "/se/log", {"type": "browser"})

    def stop(self):
        if self.session:
            try:
                self._call("DELETE", "")
            except (requests.RequestException, RuntimeError):
                pass  # the browser is going away either way
            self.session = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def browser():
    _require_browser()
    tmp = tempfile.mkdtemp(prefix="holdfast-browser-")
    driver = WebDriver(tmp)
    try:
        yield driver
    finally:
        driver.stop()
        shutil.rmtree(tmp, ignore_errors=True)


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
