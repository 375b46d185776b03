"""A person using holdfast's web UI without a browser: a requests.Session that
keeps the cookies, reads each form's hidden fields (its CSRF token) and posts
them back, as a browser would. Shared by tests/http/test_web.py and the
browser tests (for quick setup)."""
import html
import re
import uuid

import requests

from conftest import unique_name

T = 30
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def form_fields(page_html, selector):
    """The hidden fields of the form whose opening tag contains `selector`
    (`id="log-in-form"`, `action="/statuses/1/favourite"`)."""
    for m in re.finditer(r"<form([^>]*)>(.*?)</form>", page_html, re.S):
        if selector in m.group(1):
            return {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(m.group(2))}
    raise AssertionError(f"no form with {selector} in: {page_html[:2000]}")


class WebUser:
    def __init__(self, server, username=None, password=None):
        self.server = server
        self.username = username or unique_name("web")
        self.email = f"{self.username}@example.com"
        self.password = password or f"pw-{uuid.uuid4().hex}"
        self.http = requests.Session()

    def url(self, path):
        return self.server.url(path)

    def get(self, path, **kw):
        return self.http.get(self.url(path), timeout=T, **kw)

    def post(self, path, data=None, **kw):
        return self.http.post(self.url(path), data=data, timeout=T, allow_redirects=False, **kw)

    def sign_up(self):
        page = self.get("/auth/sign_up")
        fields = form_fields(page.text, 'id="sign-up-form"')
        fields.update(username=self.username, email=self.email, password=self.password, agreement="true")
        return self.post("/auth/sign_up", fields)

    def sign_in(self, email=None, password=None, carrying_session=None):
        """Logs in through the form; `carrying_session` is a session cookie the
        browser still holds when it posts (log-in must replace it)."""
        page = self.get("/auth/sign_in")
        fields = form_fields(page.text, 'id="log-in-form"')
        fields.update(email=email or self.email, password=password or self.password)
        if carrying_session:
            host = self.server.base_url.split("//")[1].split(":")[0]
            self.http.cookies.set("holdfast_session", carrying_session, domain=host, path="/")
        return self.post("/auth/sign_in", fields)

    def csrf(self):
        page = self.get("/home")
        assert page.status_code == 200 and "/auth/sign_in" not in page.url, page.url
        return form_fields(page.text, 'id="compose"')["csrf_token"]

    def submit(self, page_path, selector, **values):
        """Posts the form matching `selector` on `page_path` with its hidden fields plus `values`."""
        page = self.get(page_path)
        m = re.search(r"<form([^>]*" + re.escape(selector) + r"[^>]*)>", page.text)
        assert m, f"no form {selector} on {page_path}: {page.text[:2000]}"
        action = html.unescape(re.search(r'action="([^"]*)"', m.group(1)).group(1))
        fields = form_fields(page.text, selector)
        fields.update(values)
        return self.post(action, fields)

    def post_status(self, text, **fields):
        data = {"csrf_token": self.csrf(), "status": text, "back": "/home", **fields}
        # multipart, as the browser sends the compose form
        return self.post("/statuses", files={k: (None, v) for k, v in data.items()})


def signed_up(server):
    u = WebUser(server)
    r = u.sign_up()
    assert r.status_code == 303, r.text
    return u
