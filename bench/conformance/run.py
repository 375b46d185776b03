#!/usr/bin/env python3
"""How much of the Mastodon client API holdfast answers, and how much of it
conforms to the community OpenAPI description (issue 14).

Starts `holdfast serve` (SQLite, temporary data directory, free loopback
port), signs up users, makes an app token with every scope (and an admin, when
the binary's `holdfast user` can grant the role), seeds statuses, a list, a
poll, media and the rest, and then, for each of the spec's non-streaming
operations:

1. probes it once with real ids of the seeded things and a minimal valid body:
   it *answers* unless the answer is 405, or 404 from a path the router does
   not know (asked with a method no route takes: a known path answers 405);
   it *conforms* when that answer is a 2xx whose body validates against the
   spec's schema for it, and fuzzing found no shape mismatch either;
2. fuzzes it with schemathesis (`not_a_server_error`,
   `response_schema_conformance`, `content_type_conformance`), which counts
   server errors and shape mismatches per operation.

Writes `results/summary.json` and `results/table.md` beside this file. The
spec is not part of holdfast: pass its path with `--schema` or
`HOLDFAST_OPENAPI` (this machine has it at ../shared/mastodon-openapi).

    python3 -m venv bench/conformance/.venv
    bench/conformance/.venv/bin/pip install -r bench/conformance/requirements.txt
    HOLDFAST_BIN=target/release/holdfast HOLDFAST_OPENAPI=../shared/mastodon-openapi/schema.json \
        bench/conformance/.venv/bin/python bench/conformance/run.py
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
import zlib

import jsonschema_rs
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(REPO, "tests", "holdfast-test.toml")
# Terms of service, so `instance/terms_of_service` has something to answer
# (an operator writes them in the config's [instance] table).
TERMS_DATE = "2026-01-01"
INSTANCE_TEXTS = f"""
[instance]
terms_of_service = "Be kind. Post nothing unlawful."
terms_of_service_effective_date = "{TERMS_DATE}"
"""
SCOPES = ("read write follow push profile admin:read admin:write")
# What a user without a staff role may have (admin:* is for staff only).
USER_SCOPES = "read write follow push profile"
METHODS = ("get", "post", "put", "patch", "delete")
TIMEOUT_S = 30


def is_sse(path):
    """The spec's 9 Server-Sent Events operations (its health check is plain HTTP)."""
    return path.startswith("/api/v1/streaming") and path != "/api/v1/streaming/health"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_png():
    """A 2×2 opaque PNG, written by hand (no imaging library needed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Holdfast:
    def __init__(self, binary):
        self.binary = binary
        self.tmp = tempfile.mkdtemp(prefix="holdfast-conformance-")
        self.data = os.path.join(self.tmp, "data")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        self.config = os.path.join(self.tmp, "holdfast.toml")
        with open(self.config, "w") as f:
            # The push subscription points at a closed loopback port (this
            # machine resolves no outside names): allowed, never answered.
            f.write(open(CONFIG).read() + 'push_allowed_hosts = ["127.0.0.1"]\n' + INSTANCE_TEXTS)
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data,
             "--domain", "localhost", "--config", self.config],
            stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ, RUST_LOG="warn"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("holdfast exited early: " + open(self.log.name).read())
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise SystemExit("holdfast did not become healthy")

    def cli(self, *args, stdin=None):
        return subprocess.run([self.binary, *args, "--data-dir", self.data, "--config", self.config], input=stdin,
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class User:
    def __init__(self, hf, name):
        app = requests.post(hf.base + "/api/v1/apps", data={
            "client_name": "conformance", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": SCOPES, "website": "https://example.invalid"}, timeout=TIMEOUT_S)
        if app.status_code != 200:
            # Scopes this build does not know yet: the user scopes only.
            app = requests.post(hf.base + "/api/v1/apps", data={
                "client_name": "conformance", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow push"}, timeout=TIMEOUT_S)
        app.raise_for_status()
        self.app = app.json()
        scopes = " ".join(self.app.get("scopes") or SCOPES.split()) if isinstance(self.app.get("scopes"), list) else SCOPES
        grant = requests.post(hf.base + "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": self.app["client_id"],
            "client_secret": self.app["client_secret"], "scope": "read write"}, timeout=TIMEOUT_S)
        grant.raise_for_status()
        self.password = "pw-" + uuid.uuid4().hex
        r = requests.post(hf.base + "/api/v1/accounts",
                          headers={"Authorization": "Bearer " + grant.json()["access_token"]},
                          json={"username": name, "email": f"{name}@example.com", "password": self.password,
                                "agreement": True, "locale": "en"}, timeout=TIMEOUT_S)
        r.raise_for_status()
        self.name = name
        self.signup_token = r.json()["access_token"]
        self.token = self.password_token(hf, scopes) or self.password_token(hf, USER_SCOPES) or self.signup_token
        self.s = requests.Session()
        self.s.headers["Authorization"] = "Bearer " + self.token
        self.base = hf.base
        self.id = self.get("/api/v1/accounts/verify_credentials").json()["id"]

    def password_token(self, hf, scopes):
        """A password grant: a token with `scopes` (None when refused, e.g.
        admin scopes for an account without a staff role)."""
        tok = requests.post(hf.base + "/oauth/token", data={
            "grant_type": "password", "client_id": self.app["client_id"],
            "client_secret": self.app["client_secret"], "username": f"{self.name}@example.com",
            "password": self.password, "scope": scopes}, timeout=TIMEOUT_S)
        return tok.json()["access_token"] if tok.status_code == 200 else None

    def app_token(self, hf):
        """A client-credentials token of this user's app (no account): what sign-up takes."""
        grant = requests.post(hf.base + "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": self.app["client_id"],
            "client_secret": self.app["client_secret"], "scope": "read write"}, timeout=TIMEOUT_S)
        grant.raise_for_status()
        return grant.json()["access_token"]

    def get(self, path, **kw):
        return self.s.get(self.base + path, timeout=TIMEOUT_S, **kw)

    def post(self, path, **kw):
        return self.s.post(self.base + path, timeout=TIMEOUT_S, **kw)

    def first_id(self, path, key="id"):
        r = self.get(path)
        if r.status_code == 200 and isinstance(r.json(), list) and r.json():
            return str(r.json()[0][key])
        return None


def created(r, key="id"):
    """The id of what a POST made, or None when the endpoint is not there (yet)."""
    if r.status_code == 200 and isinstance(r.json(), dict) and key in r.json():
        return str(r.json()[key])
    return None


def seed(hf):
    """Users, relations and one of each thing the spec's paths point at."""
    alice, bob, carol, dave = (User(hf, n) for n in ("alice", "bob", "carol", "dave"))
    admin = User(hf, "admin")
    granted = None
    for args in (("user", "grant", "admin", "admin"),):
        res = hf.cli(*args)
        if res.returncode == 0:
            granted = " ".join(args)
            break
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    mine = alice.post("/api/v1/statuses", json={"status": "hello #conformance world"}).json()
    spare = alice.post("/api/v1/statuses", json={"status": "to be quoted, pinned and deleted"}).json()
    bobs = bob.post("/api/v1/statuses", json={"status": f"@alice hi #conformance"}).json()
    bob.post("/api/v1/statuses", json={"status": "@alice a secret", "visibility": "direct"})
    bob.post(f"/api/v1/statuses/{mine['id']}/favourite")
    # The probe (alice) votes, so the poll is bob's: nobody votes in their own poll (Mastodon).
    poll = bob.post("/api/v1/statuses", json={"status": "a poll", "poll": {"options": ["a", "b"], "expires_in": 3600}})
    poll_id = poll.json().get("poll", {}).get("id") if poll.status_code == 200 and poll.json().get("poll") else None
    media = alice.post("/api/v2/media", files={"file": ("red.png", tiny_png(), "image/png")})
    media_id = created(media)
    lst = created(alice.post("/api/v1/lists", json={"title": "friends"}))
    if lst:
        alice.post(f"/api/v1/lists/{lst}/accounts", json={"account_ids": [bob.id]})
    filter_v2 = created(alice.post("/api/v2/filters", json={
        "title": "spoilers", "context": ["home", "public"], "filter_action": "warn",
        "keywords_attributes": [{"keyword": "spoiler", "whole_word": True}]}))
    filter_kw = filter_st = None
    if filter_v2:
        filter_kw = alice.first_id(f"/api/v2/filters/{filter_v2}/keywords")
        filter_st = created(alice.post(f"/api/v2/filters/{filter_v2}/statuses", json={"status_id": bobs["id"]}))
    filter_v1 = created(alice.post("/api/v1/filters", json={"phrase": "boring", "context": ["home"]}))
    scheduled = created(alice.post("/api/v1/statuses", json={
        "status": "later", "scheduled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))}))
    # Two featured tags: `tags/:id/unfeature` takes one, DELETE the other.
    alice.post("/api/v1/featured_tags", json={"name": "conformance"})
    featured = created(alice.post("/api/v1/featured_tags", json={"name": "probed"}))
    # A follow request to a locked alice, for authorize/reject.
    alice.s.patch(alice.base + "/api/v1/accounts/update_credentials", data={"locked": "true"}, timeout=TIMEOUT_S)
    carol.post(f"/api/v1/accounts/{alice.id}/follow")
    dave.post(f"/api/v1/accounts/{alice.id}/follow")
    conversation = alice.first_id("/api/v1/conversations")
    notification = alice.first_id("/api/v1/notifications")
    group = alice.first_id("/api/v2/notifications?grouped_types[]=favourite", "group_key")
    r = alice.get("/api/v2/notifications")
    if r.status_code == 200 and isinstance(r.json(), dict) and r.json().get("notification_groups"):
        group = r.json()["notification_groups"][0]["group_key"]
    # An announcement, made by the operator (as an admin would), to dismiss and react to.
    hf.cli("announce", "create", "The conformance probe is running.")
    announcement = alice.first_id("/api/v1/announcements")
    # A notification of alice's own to dismiss, from someone nothing else
    # in the probe blocks, mutes or rejects.
    erin = User(hf, "erin")
    alice.post(f"/api/v1/accounts/{erin.id}/follow")
    erin.post(f"/api/v1/statuses/{mine['id']}/favourite")
    dismissable = alice.first_id(f"/api/v1/notifications?account_id={erin.id}&types[]=favourite")
    # Filtered notifications, so there are notification requests to show,
    # accept and dismiss (one by one and in bulk): strangers mention alice
    # while her policy filters accounts she does not follow.
    alice.s.patch(alice.base + "/api/v2/notifications/policy", json={"for_not_following": "filter"}, timeout=TIMEOUT_S)
    for name in ("frank", "gina", "hank", "ivy", "judy"):
        User(hf, name).post("/api/v1/statuses", json={"status": f"@alice hello from {name}"})
    r = alice.get("/api/v1/notifications/requests?limit=10")
    requests_ = [str(x["id"]) for x in r.json()] if r.status_code == 200 and isinstance(r.json(), list) else []
    requests_ += [None] * (5 - len(requests_))
    # A push subscription, so reading, changing and deleting it find one.
    alice.post("/api/v1/push/subscription", json=BODIES[("post", "/api/v1/push/subscription")])
    ids = {
        "account": bob.id, "status": mine["id"], "other_status": spare["id"], "poll": poll_id,
        "media": media_id, "list": lst, "filter_v2": filter_v2, "filter_keyword": filter_kw,
        "filter_status": filter_st, "filter_v1": filter_v1, "scheduled": scheduled,
        "featured_tag": featured, "requester": carol.id, "rejected": dave.id, "conversation": conversation,
        "notification": dismissable or notification, "group": group, "announcement": announcement,
        "request_show": requests_[0], "request_accept": requests_[1], "request_dismiss": requests_[2],
        "requests_accept": requests_[3], "requests_dismiss": requests_[4],
    }
    return alice, admin, granted, ids


def path_values(path, ids):
    """Real values for a path's parameters (a made-up one where nothing was seeded)."""
    made_up = "1"
    def pick(name):
        if name == "account_id" and "/follow_requests/" in path:
            return ids["rejected" if path.endswith("/reject") else "requester"]
        if name in ("account_id",) or (name == "id" and path.startswith("/api/v1/accounts/")):
            return ids["account"]
        if path.startswith("/api/v1/notifications/requests/{id}"):
            return ids[{"accept": "request_accept", "dismiss": "request_dismiss"}.get(path.rsplit("/", 1)[-1], "request_show")] or made_up
        if name == "quoting_status_id":
            return ids["other_status"]
        if name == "id" and path.startswith("/api/v1/statuses/"):
            # Deleting, editing and pinning use the spare status so the others keep theirs.
            return ids["status"]
        table = {
            "/api/v1/polls/": "poll", "/api/v1/media/": "media", "/api/v1/lists/": "list",
            "/api/v1/timelines/list/": "list", "/api/v2/filters/keywords/": "filter_keyword",
            "/api/v2/filters/statuses/": "filter_status", "/api/v2/filters/": "filter_v2",
            "/api/v1/filters/": "filter_v1", "/api/v1/scheduled_statuses/": "scheduled",
            "/api/v1/featured_tags/": "featured_tag", "/api/v1/conversations/": "conversation",
            "/api/v1/notifications/requests/": None, "/api/v1/notifications/": "notification",
            "/api/v2/notifications/": "group", "/api/v1/announcements/": "announcement",
        }
        if name in ("hashtag",) or (name in ("name", "id") and path.startswith("/api/v1/tags/")):
            return "conformance"
        if name == "name":
            return "👍"
        if name == "year":
            return "2026"
        if name == "date":
            return "2026-01-01"
        for prefix, key in table.items():
            if path.startswith(prefix):
                return (ids.get(key) if key else None) or made_up
        return made_up
    return re.sub(r"\{(\w+)\}", lambda m: str(pick(m.group(1))), path)


# Minimal valid bodies, where an empty one is not valid (by Mastodon's docs).
BODIES = {
    ("post", "/api/v1/statuses"): {"status": "probe"},
    ("put", "/api/v1/statuses/{id}"): {"status": "hello #conformance world, edited"},
    ("post", "/api/v1/lists"): {"title": "probe"},
    ("put", "/api/v1/lists/{id}"): {"title": "friends"},
    ("post", "/api/v1/lists/{id}/accounts"): {"account_ids": ["{account}"]},
    ("delete", "/api/v1/lists/{id}/accounts"): {"account_ids": ["{account}"]},
    ("post", "/api/v1/accounts/{id}/note"): {"comment": "a note"},
    ("post", "/api/v1/markers"): {"home": {"last_read_id": "{status}"}},
    ("post", "/api/v1/reports"): {"account_id": "{account}", "comment": "probe"},
    ("post", "/api/v1/domain_blocks"): {"domain": "blocked.example"},
    ("delete", "/api/v1/domain_blocks"): {"domain": "blocked.example"},
    ("post", "/api/v1/featured_tags"): {"name": "probe"},
    ("post", "/api/v1/filters"): {"phrase": "probe", "context": ["home"]},
    ("put", "/api/v1/filters/{id}"): {"phrase": "boring", "context": ["home"]},
    ("post", "/api/v2/filters"): {"title": "probe", "context": ["home"]},
    ("put", "/api/v2/filters/{id}"): {"title": "spoilers", "context": ["home"]},
    ("post", "/api/v2/filters/{filter_id}/keywords"): {"keyword": "probe"},
    ("put", "/api/v2/filters/keywords/{id}"): {"keyword": "spoiler"},
    ("post", "/api/v2/filters/{filter_id}/statuses"): {"status_id": "{status}"},
    ("post", "/api/v1/polls/{id}/votes"): {"choices": [0]},
    ("post", "/api/v1/notifications/requests/accept"): {"id": ["{requests_accept}"]},
    ("post", "/api/v1/notifications/requests/dismiss"): {"id": ["{requests_dismiss}"]},
    ("put", "/api/v1/scheduled_statuses/{id}"): {"scheduled_at": "2099-01-01T00:00:00Z"},
    ("post", "/api/v1/push/subscription"): {
        "subscription": {"endpoint": "http://127.0.0.1:9/push",
                         "keys": {"p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                                  "auth": "BTBZMqHH6r4Tts7J_aSIgg"}},
        "data": {"alerts": {"mention": True}}},
    ("put", "/api/v1/push/subscription"): {"data": {"alerts": {"follow": True}}},
    ("post", "/api/v1/apps"): {"client_name": "probe", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    ("post", "/api/v1/emails/confirmations"): {},
    ("put", "/api/v1/media/{id}"): {"description": "red"},
    ("patch", "/api/v1/accounts/update_credentials"): {"note": "probing"},
    ("patch", "/api/v2/notifications/policy"): {"for_not_following": "accept"},
    ("put", "/api/v1/statuses/{id}/interaction_policy"): {"quote_approval_policy": "public"},
    ("post", "/api/v1/statuses/{id}/translate"): {"lang": "en"},
    ("post", "/oauth/revoke"): {"client_id": "x", "client_secret": "x", "token": "not-a-token"},
}

# Query parameters an operation needs to mean anything.
QUERIES = {
    ("get", "/api/v1/accounts/lookup"): {"acct": "bob"},
    ("get", "/api/v1/accounts/search"): {"q": "bob"},
    ("get", "/api/v2/search"): {"q": "conformance"},
    ("get", "/api/v1/accounts/relationships"): {"id[]": "{account}"},
    ("get", "/api/v1/accounts/familiar_followers"): {"id[]": "{account}"},
    ("get", "/api/v1/accounts"): {"id[]": "{account}"},
    ("get", "/api/v1/statuses"): {"id[]": "{status}"},
    ("get", "/api/oembed"): {"url": "http://localhost/@alice/{status}"},
    ("get", "/api/v1/timelines/link"): {"url": "https://example.com/"},
}

# Fixed paths where Mastodon itself answers 404 (nothing there yet).
DOCUMENTED_404 = {
    ("get", "/api/v1/push/subscription"), ("put", "/api/v1/push/subscription"),
    ("delete", "/api/v1/push/subscription"), ("get", "/api/v1/instance/terms_of_service"),
    # A URL that is not a trending link (holdfast computes no link trends).
    ("get", "/api/v1/timelines/link"),
}

# Where the description contradicts the Mastodon documentation about a 2xx
# body (the documentation is the reference): counted as conforming, listed.
PROBE_QUIRKS = {
    ("get", "/api/v1/filters"): "the spec says an object; the docs (and Mastodon) answer an array of Filter",
    ("delete", "/api/v2/filters/statuses/{id}"): "the spec wants a FilterStatus; the docs' example (and Mastodon) answer {}",
    ("get", "/api/v2/notifications"): "the spec types most_recent_notification_id as an integer; the docs say String, like every id",
    ("get", "/api/v2/notifications/{group_key}"): "the spec types most_recent_notification_id as an integer; the docs say String, like every id",
}

# Destructive operations run last, so the others see the seeded things; among
# them, deeper paths (list members) before what holds them (the list).
DESTRUCTIVE = ("/unfollow", "/block", "/mute", "/remove_from_followers", "/reject", "/revoke", "/clear",
               "/dismiss", "/unblock", "/unmute")


def probe_order(op):
    method, path = op
    last = method == "delete" or path.endswith(DESTRUCTIVE)
    return (last, -path.count("/") if last else 0, path)


def fill(value, ids):
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1)) or "1"), value)
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def response_validator(spec, op, status):
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if resp is None:
        return None, f"status {status} is not documented"
    if "$ref" in resp:
        resp = spec["components"]["responses"][resp["$ref"].split("/")[-1]]
    content = resp.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    if not media or "schema" not in media:
        return None, None
    schema = {"allOf": [media["schema"]], "components": spec["components"]}
    return jsonschema_rs.validator_for(schema), None


def probe(hf, alice, spec, method, path, op, ids):
    url = hf.base + path_values(path, ids)
    if path.startswith("/api/v1/statuses/{id}") and (method == "delete" or path.endswith(("/pin", "/unpin"))):
        url = hf.base + path.replace("{id}", ids["other_status"]).replace("{quoting_status_id}", ids["status"])
    body = fill(BODIES.get((method, path), {}), ids)
    kw = {"json": body} if method in ("post", "put", "patch", "delete") and body else {}
    if path == "/api/v1/media" or path == "/api/v2/media":
        kw = {"files": {"file": ("red.png", tiny_png(), "image/png")}}
    if path == "/oauth/token":
        kw = {"data": {"grant_type": "client_credentials", "client_id": alice.app["client_id"],
                       "client_secret": alice.app["client_secret"]}}
    if path == "/oauth/revoke":
        kw = {"data": {"client_id": alice.app["client_id"], "client_secret": alice.app["client_secret"],
                       "token": "not-a-token"}}
    if path == "/oauth/authorize":
        url += f"?response_type=code&client_id={alice.app['client_id']}&redirect_uri=urn:ietf:wg:oauth:2.0:oob"
    if (method, path) in QUERIES:
        kw["params"] = fill(QUERIES[(method, path)], ids)
    session = alice.s
    if (method, path) == ("post", "/api/v1/accounts"):
        # Sign-up is done by an app for someone new: the app's own token, a fresh name.
        name = "probe" + uuid.uuid4().hex[:8]
        kw = {"json": {"username": name, "email": f"{name}@example.com", "password": "pw-" + uuid.uuid4().hex,
                       "agreement": True, "locale": "en"}}
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + alice.app_token(hf)
    r = session.request(method.upper(), url, timeout=TIMEOUT_S, allow_redirects=False, **kw)
    result = {"status": r.status_code}
    if r.status_code == 404 and "{" not in path:
        # A fixed path: 404 means no route, unless Mastodon answers 404 there too.
        result["route"] = (method, path) in DOCUMENTED_404
    elif r.status_code == 404:
        # A known path answers a method no route takes with 405; an unknown one with 404.
        other = alice.s.request("TRACE", url, timeout=TIMEOUT_S)
        result["route"] = other.status_code == 405
    if 200 <= r.status_code < 300:
        validator, problem = response_validator(spec, op, r.status_code)
        if problem:
            result["mismatch"] = problem
        elif validator is not None:
            try:
                doc = r.json()
            except ValueError:
                result["mismatch"] = f"not JSON ({r.headers.get('content-type')})"
                doc = None
            if doc is not None:
                errors = [f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"[:300]
                          for e in validator.iter_errors(doc)]
                if errors and (method, path) in PROBE_QUIRKS:
                    result["quirk"] = PROBE_QUIRKS[(method, path)]
                elif errors:
                    result["mismatch"] = "; ".join(errors[:3])
    return result


# Where the description, not holdfast, is wrong (its README lists them; the
# Mastodon documentation is the reference): not counted as mismatches.
QUIRKS = [
    (r'"details" is a required property \(status 422\)', "the spec wants `details` in every 422; Mastodon sends it only on sign-up"),
    (r'"" is not a "email"', "the spec wants an e-mail contact; an instance without one sends \"\" (as Mastodon may)"),
    (r"ST105.*text/html", "/oauth/authorize is an HTML page, the spec expects JSON"),
]


def fuzz(hf, token, schema, report_dir, max_examples, max_time_s):
    """schemathesis over every non-streaming operation; failures per operation from its JUnit report."""
    junit = os.path.join(report_dir, "junit.xml")
    cmd = [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", schema, "--url", hf.base,
           "-H", f"Authorization: Bearer {token}", "--checks",
           "not_a_server_error,response_schema_conformance,content_type_conformance",
           "--max-examples", str(max_examples), "--phases", "examples,fuzzing", "--workers", "1",
           "--exclude-path-regex", "^/api/v1/streaming/(?!health$)", "--seed", "14", "--no-shrink",
           "--request-timeout", "20", "--suppress-health-check", "all", "--max-time", str(max_time_s),
           "--report", "junit", "--report-junit-path", junit]
    # Run in the report folder, so schemathesis' own cache stays out of the checkout.
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=report_dir)
    with open(os.path.join(report_dir, "schemathesis.log"), "w") as f:
        f.write(res.stdout + res.stderr)
    if not os.path.exists(junit):
        return {}, res.stdout[-2000:] + res.stderr[-2000:]
    return read_junit(junit), None


def read_junit(junit):
    """Per operation: server errors, shape mismatches and the spec's quirks met."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        entry = {"server_error": False, "schema": False, "content_type": False, "quirks": [], "detail": ""}
        for el in case:
            if el.tag not in ("failure", "error"):
                continue
            text = (el.get("message") or "") + "\n" + (el.text or "")
            for check, first_line in re.findall(r"- (ST\d+ [^\n]+)\n\n\s+([^\n]+)", text) or [(el.get("message"), text[:200])]:
                status = re.search(r"response schema for status code (\d+)", text)
                finding = f"{check}: {first_line.strip()}" + (f" (status {status.group(1)})" if status else "")
                quirk = next((why for pattern, why in QUIRKS if re.search(pattern, finding)), None)
                if quirk:
                    entry["quirks"].append(quirk)
                elif check.startswith(("ST101", "ST102")):
                    entry["server_error"] = True
                elif "Content-Type" in check or "ST105" in check:
                    entry["content_type"] = True
                else:
                    entry["schema"] = True
                if not quirk:
                    entry["detail"] = (entry["detail"] + "; " + finding).strip("; ")[:600]
        found[case.get("name", "")] = entry
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", default=os.environ.get("HOLDFAST_OPENAPI"))
    ap.add_argument("--binary", default=os.environ.get("HOLDFAST_BIN", os.path.join(REPO, "target", "release", "holdfast")))
    ap.add_argument("--max-examples", type=int, default=int(os.environ.get("MAX_EXAMPLES", "10")))
    ap.add_argument("--max-time", type=int, default=int(os.environ.get("MAX_TIME_S", "900")))
    ap.add_argument("--no-fuzz", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    if not args.schema or not os.path.exists(args.schema):
        raise SystemExit("pass the Mastodon OpenAPI description with --schema or HOLDFAST_OPENAPI")
    spec = json.load(open(args.schema))
    ops = [(m, p, o) for p, item in spec["paths"].items() for m, o in item.items()
           if m in METHODS and not is_sse(p)]
    os.makedirs(args.out, exist_ok=True)
    hf = Holdfast(args.binary)
    try:
        alice, admin, granted, ids = seed(hf)
        probes = {}
        for method, path, op in sorted(ops, key=lambda o: probe_order(o[:2])):
            try:
                probes[(method, path)] = probe(hf, alice, spec, method, path, op, ids)
            except requests.RequestException as e:
                probes[(method, path)] = {"status": 0, "mismatch": f"request failed: {e}"}
        fuzzed, fuzz_error = ({}, "skipped") if args.no_fuzz else fuzz(
            hf, alice.token, args.schema, args.out, args.max_examples, args.max_time)
        alive = hf.proc.poll() is None
    finally:
        hf.stop()

    rows = []
    for method, path, op in ops:
        p = probes[(method, path)]
        f = fuzzed.get(f"{method.upper()} {path}", {})
        answers = p["status"] not in (0, 405) and (p["status"] != 404 or p.get("route", False))
        verified = 200 <= p["status"] < 300
        conforms = answers and verified and "mismatch" not in p and not f.get("schema") and not f.get("content_type")
        server_error = p["status"] >= 500 or bool(f.get("server_error"))
        rows.append({
            "method": method.upper(), "path": path, "status": p["status"], "answers": answers,
            "conforms": conforms, "server_error": server_error, "quirks": sorted(set(f.get("quirks", []) + ([p["quirk"]] if p.get("quirk") else []))),
            "why": p.get("mismatch") or (f.get("detail") if (f.get("schema") or f.get("content_type") or f.get("server_error")) else None)
            or (None if verified else f"probe answered {p['status']}"),
        })
    total = len(rows)
    summary = {
        "operations": total,
        "answer": sum(r["answers"] for r in rows),
        "conform": sum(r["conforms"] for r in rows),
        "server_errors": sum(r["server_error"] for r in rows),
        "admin_role": granted,
        "fuzz": fuzz_error or f"schemathesis, {args.max_examples} examples per operation",
        "server_survived": alive,
        "rows": rows,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write("| operation | probe | answers | conforms | 5xx | why not |\n|---|---|---|---|---|---|\n")
        for r in sorted(rows, key=lambda r: (r["conforms"], r["answers"], r["path"])):
            why = (r["why"] or "").replace("|", "\\|").replace("\n", " ")[:200]
            f.write(f"| `{r['method']} {r['path']}` | {r['status']} | {'yes' if r['answers'] else 'no'} | "
                    f"{'yes' if r['conforms'] else 'no'} | {'yes' if r['server_error'] else ''} | {why} |\n")
    print(f"{summary['answer']} of {total} operations answer, {summary['conform']} conform, "
          f"{summary['server_errors']} with server errors (server alive at the end: {alive})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
