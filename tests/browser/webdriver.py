"""Just enough W3C WebDriver, spoken with `requests` to Debian's chromedriver,
for the browser tests: start and stop headless Chromium, navigate, find,
type, click, press keys, run a script, take screenshots.

Test modules import the fixtures: `browser` (a fresh browser per test; skipped,
or in CI failed, when Chromium or ChromeDriver is missing) and `shots` (where
a test saves its screenshots)."""
import base64
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import free_port

CHROMIUM = os.environ.get("HOLDFAST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOLDFAST_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
DRIVER_START_TIMEOUT_S = 20
STEP_TIMEOUT_S = 30
HTTP_TIMEOUT_S = 60
CHROMIUM_ARGS = [
    "--headless=new", "--disable-gpu", "--no-first-run", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--window-size=1000,800",
]
if os.geteuid() == 0:
    CHROMIUM_ARGS.append("--no-sandbox")  # Chromium's sandbox refuses to run as root


def require_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (p and os.access(p, os.X_OK))]
    if missing:
        message = (f"not installed: {', '.join(missing)} (Debian: apt-get install chromium chromium-driver; "
                   "scripts/test installs them)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class WebDriver:
    """Just enough W3C WebDriver over HTTP for this test."""

    def __init__(self, tmp):
        self.port = free_port()
        self.log = open(os.path.join(tmp, "chromedriver.log"), "w")
        # Chromium's own scratch directories go under `tmp` too (left in /tmp
        # by every run otherwise).
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "TMPDIR": tmp})
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

    def find_all(self, css):
        r = self._call("POST", "/elements", {"using": "css selector", "value": css})
        return [next(iter(e.values())) for e in r]

    def text(self, css="body"):
        """The visible text of the first element matching `css` ("" when none)."""
        return self.script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css)

    def active_id(self):
        """The `id` of the element that has the keyboard focus."""
        return self.script("return document.activeElement ? document.activeElement.id : null")

    def keys(self, text):
        """Presses keys on the keyboard (W3C actions), wherever the focus is
        (KEY_TAB, KEY_ENTER are keys too)."""
        steps = []
        for ch in text:
            steps += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self._call("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": steps}]})

    def cdp(self, command, params):
        """A Chrome DevTools command through ChromeDriver."""
        return self._call("POST", "/goog/cdp/execute", {"cmd": command, "params": params})

    def resize(self, width, height):
        """The viewport of a device this wide (a phone below 600 px), as the
        page's media queries see it; headless windows cannot be narrower than 500 px."""
        self.width = width
        self.cdp("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def screenshot(self, path):
        """Saves a PNG of the whole page (up to a bounded height)."""
        width = getattr(self, "width", None) or self.script("return window.innerWidth")
        height = self.script("return Math.min(document.documentElement.scrollHeight, 3000)")
        self.cdp("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        data = self._call("GET", "/screenshot")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def accept_alert(self):
        """Answers OK to the dialog the page opened (`confirm`), once it is open."""
        self.wait_for("a dialog", self.alert_open)
        self._call("POST", "/alert/accept")

    def alert_open(self):
        r = requests.get(f"{self.base}/session/{self.session}/alert/text", timeout=HTTP_TIMEOUT_S)
        return r.status_code == 200

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


KEY_TAB = "\ue004"
KEY_ENTER = "\ue007"


@pytest.fixture
def browser():
    require_browser()
    tmp = tempfile.mkdtemp(prefix="holdfast-browser-")
    driver = WebDriver(tmp)
    try:
        yield driver
    finally:
        driver.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def shots(request, tmp_path):
    """Where a test saves its screenshots: $HOLDFAST_TEST_OUT/<test name>/ when
    set (CI keeps that folder), else the test's own temporary folder."""
    root = os.environ.get("HOLDFAST_TEST_OUT")
    folder = os.path.join(root, request.node.name) if root else str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    return lambda name: os.path.join(folder, f"{name}.png")
