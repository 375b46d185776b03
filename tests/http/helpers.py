"""Shared helpers for the HTTP suite (tests/http). conftest.py is shared with
other suites, so anything specific to these tests lives here."""
import re
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import requests

TIMEOUT = 30
OOB = "urn:ietf:wg:oauth:2.0:oob"

ACCOUNT_KEYS = {
    "id", "username", "acct", "display_name", "locked", "bot", "discoverable", "group",
    "created_at", "note", "url", "avatar", "avatar_static", "header", "header_static",
    "followers_count", "following_count", "statuses_count", "last_status_at", "emojis", "fields",
}
STATUS_KEYS = {
    "id", "created_at", "in_reply_to_id", "in_reply_to_account_id", "sensitive", "spoiler_text",
    "visibility", "language", "uri", "url", "replies_count", "reblogs_count", "favourites_count",
    "favourited", "reblogged", "muted", "bookmarked", "pinned", "content", "reblog", "application",
    "account", "media_attachments", "mentions", "tags", "emojis", "card", "poll",
}
# `pinned` and the viewer-specific booleans are only rendered for an authenticated
# viewer in Mastodon, so anonymous renderings are checked against this smaller set.
STATUS_KEYS_ANON = STATUS_KEYS - {"favourited", "reblogged", "muted", "bookmarked", "pinned"}
RELATIONSHIP_KEYS = {
    "id", "following", "showing_reblogs", "notifying", "followed_by", "blocking", "blocked_by",
    "muting", "muting_notifications", "requested", "domain_blocking", "endorsed", "note",
}
NOTIFICATION_KEYS = {"id", "type", "created_at", "account"}
TOKEN_KEYS = {"access_token", "token_type", "scope", "created_at"}


def uniq(prefix="t"):
    """A unique lowercase word usable as a hashtag or search term."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def is_id(value):
    """Mastodon ids are strings (of digits for snowflakes)."""
    return isinstance(value, str) and value.isdigit()


def is_datetime(value):
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def json_of(r):
    assert "application/json" in r.headers.get("Content-Type", ""), \
        f"{r.status_code} {r.headers.get('Content-Type')}: {r.text[:300]}"
    return r.json()


def assert_error(r, *codes):
    """A Mastodon-shaped error: one of `codes` and a JSON body {"error": str}."""
    assert r.status_code in codes, f"expected {codes}, got {r.status_code}: {r.text[:500]}"
    body = json_of(r)
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    return body


def assert_oauth_error(r, code, error):
    """An OAuth error body: {"error": "<code>", "error_description": "..."}."""
    assert r.status_code == code, f"expected {code}, got {r.status_code}: {r.text[:500]}"
    body = json_of(r)
    assert body.get("error") == error, body
    assert isinstance(body.get("error_description"), str), body
    return body


def assert_account(a, username=None):
    assert isinstance(a, dict), a
    missing = ACCOUNT_KEYS - set(a)
    assert not missing, f"account lacks {missing}: {a}"
    assert is_id(a["id"]), a["id"]
    for k in ("username", "acct", "display_name", "note", "url", "avatar", "avatar_static",
              "header", "header_static"):
        assert isinstance(a[k], str), (k, a[k])
    for k in ("locked", "bot", "group"):
        assert isinstance(a[k], bool), (k, a[k])
    for k in ("followers_count", "following_count", "statuses_count"):
        assert isinstance(a[k], int) and not isinstance(a[k], bool) and a[k] >= 0, (k, a[k])
    assert a["discoverable"] is None or isinstance(a["discoverable"], bool)
    assert is_datetime(a["created_at"]), a["created_at"]
    assert a["last_status_at"] is None or isinstance(a["last_status_at"], str)
    assert isinstance(a["emojis"], list) and isinstance(a["fields"], list)
    if username is not None:
        assert a["username"] == username
        assert a["acct"] == username  # local accounts: acct is the bare username


def assert_status(s, anonymous=False):
    assert isinstance(s, dict), s
    keys = STATUS_KEYS_ANON if anonymous else STATUS_KEYS
    missing = keys - set(s)
    assert not missing, f"status lacks {missing}: {s}"
    assert is_id(s["id"]), s["id"]
    assert is_datetime(s["created_at"]), s["created_at"]
    assert s["visibility"] in ("public", "unlisted", "private", "direct")
    assert isinstance(s["sensitive"], bool)
    assert isinstance(s["spoiler_text"], str)
    assert isinstance(s["content"], str)
    assert isinstance(s["uri"], str) and s["uri"]
    for k in ("replies_count", "reblogs_count", "favourites_count"):
        assert isinstance(s[k], int) and not isinstance(s[k], bool) and s[k] >= 0, (k, s[k])
    if not anonymous:
        for k in ("favourited", "reblogged", "muted", "bookmarked"):
            assert isinstance(s[k], bool), (k, s[k])
    for k in ("media_attachments", "mentions", "tags", "emojis"):
        assert isinstance(s[k], list), (k, s[k])
    assert s["in_reply_to_id"] is None or is_id(s["in_reply_to_id"])
    assert s["in_reply_to_account_id"] is None or is_id(s["in_reply_to_account_id"])
    assert_account(s["account"])
    if s["reblog"] is not None:
        assert_status(s["reblog"], anonymous)


def assert_relationship(rel, target_id=None):
    missing = RELATIONSHIP_KEYS - set(rel)
    assert not missing, f"relationship lacks {missing}: {rel}"
    assert is_id(rel["id"])
    for k in RELATIONSHIP_KEYS - {"id", "note"}:
        assert isinstance(rel[k], bool), (k, rel[k])
    assert isinstance(rel["note"], str)
    if target_id is not None:
        assert rel["id"] == target_id


def ids(items):
    return [x["id"] for x in items]


def desc(id_list):
    """Snowflake ids compare as integers; timelines are newest first."""
    return [int(i) for i in id_list] == sorted((int(i) for i in id_list), reverse=True)


def parse_link(r):
    """Link header → {"next": url, "prev": url}."""
    out = {}
    header = r.headers.get("Link", "")
    for part in header.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;\s*rel="?([a-z]+)"?', part)
        if m:
            out[m.group(2)] = m.group(1)
    return out


def link_params(url):
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def path_and_query(url):
    """Link headers carry absolute URLs; turn one into a path for Client.get."""
    u = urlparse(url)
    return u.path + ("?" + u.query if u.query else "")


def metric(server, name, **labels):
    """A sample's value in `server`'s /metrics: `name` with `labels` (or with
    them written into `name`: 'x{reason="y"}'); fails when there is none."""
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in requests.get(server.url("/metrics"), timeout=10).text.splitlines():
        if line.startswith(want + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{want} not in /metrics")


def anon_get(server, path, **kw):
    return requests.get(server.url(path), timeout=TIMEOUT, **kw)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def tget(server, token, path, **kw):
    return requests.get(server.url(path), headers=bearer(token), timeout=TIMEOUT, **kw)


def tpost(server, token, path, **kw):
    return requests.post(server.url(path), headers=bearer(token), timeout=TIMEOUT, **kw)


def password_grant(server, app, username, password, scope="read write follow push"):
    return requests.post(server.url("/oauth/token"), data={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "username": username, "password": password,
        "scope": scope}, timeout=TIMEOUT)


def scoped_token(server, client, scope):
    """A fresh token for `client`'s account limited to `scope` (password grant)."""
    r = password_grant(server, client.app, client.email, client.password, scope)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def statuses_count(server, account_id):
    r = anon_get(server, f"/api/v1/accounts/{account_id}")
    assert r.status_code == 200, r.text
    return r.json()["statuses_count"]


def account_of(server, account_id):
    r = anon_get(server, f"/api/v1/accounts/{account_id}")
    assert r.status_code == 200, r.text
    return r.json()


def register(server, token, **fields):
    """POST /api/v1/accounts with an app token; returns the raw response."""
    return requests.post(server.url("/api/v1/accounts"), headers=bearer(token),
                         json=fields, timeout=TIMEOUT)


def lookup(server, username):
    return anon_get(server, "/api/v1/accounts/lookup", params={"acct": username})


def extract_code_candidates(html, exclude=()):
    """Pull plausible authorization codes out of an HTML page (for the OOB flow,
    where the page format is not specified by Mastodon)."""
    found = []
    for m in re.finditer(r"[A-Za-z0-9_\-]{16,}", html):
        v = m.group(0)
        if v not in exclude and v not in found:
            found.append(v)
    return found


def raw_http(server, method, path, headers, body, timeout=20):
    """Send a request over a plain socket and return (status, headers, body bytes).

    Used for oversized bodies: a server may answer 413 as soon as it sees
    Content-Length and close the connection before reading the body, which makes
    `requests` fail with a reset while it is still writing. Here the response is
    read first if it arrives early, so a correct early 413 is seen as such."""
    import socket
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        data = b""
        sock.settimeout(0.5)
        try:
            data = sock.recv(65536)  # an early answer, before any body byte was sent
        except socket.timeout:
            pass
        if not data:
            sock.settimeout(timeout)
            try:
                for i in range(0, len(body), 65536):
                    sock.sendall(body[i:i + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass
        sock.settimeout(timeout)
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    assert data, "no HTTP response at all"
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, rest


class TagAttrs:
    """All (tag, attribute) pairs in an HTML fragment."""

    def __init__(self, html):
        from html.parser import HTMLParser
        self.tags, self.attrs = [], []

        class P(HTMLParser):
            def handle_starttag(p, tag, attrs):
                self.tags.append(tag)
                self.attrs += [(tag, k, v) for k, v in attrs]
        P().feed(html)
