"""Client compatibility: the real `toot` CLI (from PyPI) against a running holdfast.

toot runs in this interpreter, through its own command-line entry point
(`toot.cli.cli`, what the `toot` executable calls) under Click's test runner:
the same argument parsing, commands, HTTP requests, output and exit codes as
the executable, without starting a Python process per call (about 4 s each
on a busy CI machine). Each test gets its own HOME / XDG directories, set in
the environment for the length of each call, so toot never touches a real
configuration; it logs in with `toot login_cli` against the plain-HTTP
loopback server, and every result is checked through the HTTP API as well as
through toot's own output.
"""
import json
import os
import re
import threading
import time
import traceback
import uuid

import pytest

from conftest import sign_up

RUN_TIMEOUT_S = 60
NOTIFY_WAIT_S = 5
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What every toot call sees, as the executable did in its own environment: no
# colour, a fixed terminal size, and no editor or browser to start.
FIXED_ENV = dict(
    PYTHONUTF8="1", PYTHONIOENCODING="utf-8", COLUMNS="200", LINES="50",
    NO_COLOR="1", EDITOR="false", VISUAL="false", BROWSER="false",
)
_cli = None


def toot_cli():
    """toot's entry point, imported once. Some of toot's defaults are read at
    import (the settings file, $EDITOR, whether stdout is a terminal), so the
    import runs in the environment every call gets, with toot's own switch
    for running without a settings file (each test's config directory is
    empty, as it was for the executable)."""
    global _cli
    if _cli is None:
        saved = {k: os.environ.get(k) for k in FIXED_ENV}
        os.environ.update(FIXED_ENV)
        try:
            import toot.settings
            toot.settings.DISABLE_SETTINGS = True
            from toot.cli import cli
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        _cli = cli
    return _cli


class Ran:
    """What one toot call left: its exit code and what it printed."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


class Toot:
    """One isolated toot installation (config + cache under tmp_path)."""

    def __init__(self, tmp_path):
        from click.testing import CliRunner

        home = tmp_path / "toot-home"
        self.config_dir = home / ".config"
        # Values for the length of a call; None unsets (toot reads TOOT_* as options).
        self.env = {k: None for k in os.environ if k.startswith("TOOT_")}
        self.env.update(FIXED_ENV)
        self.env.update(
            HOME=str(home), XDG_CONFIG_HOME=str(self.config_dir),
            XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local" / "share"),
        )
        self.runner = CliRunner()

    def run(self, *args, ok=True):
        # `--no-color`: the executable's default when its stdout is a pipe.
        argv = ["--no-color", *args]
        done = {}

        def invoke():
            done["result"] = self.runner.invoke(toot_cli(), argv, prog_name="toot", env=self.env)

        worker = threading.Thread(target=invoke, daemon=True)
        worker.start()
        worker.join(RUN_TIMEOUT_S)
        assert "result" in done, f"toot {' '.join(args)} did not finish in {RUN_TIMEOUT_S} s"
        result = done["result"]
        stderr = result.stderr
        # An exception toot did not handle ends the executable with a traceback
        # on stderr and exit code 1: shown the same way here.
        if result.exc_info and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(*result.exc_info))
        proc = Ran(result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", stderr))
        if ok:
            assert proc.returncode == 0, (
                f"toot {' '.join(args)} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def json(self, *args):
        out = self.run(*args, "--json").stdout
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError(f"toot {' '.join(args)} --json printed non-JSON: {out!r}")

    def config(self):
        with open(self.config_dir / "toot" / "config.json") as f:
            return json.load(f)

    def login(self, server, user):
        out = self.run("login_cli", "--instance", server.base_url,
                       "--email", user.email, "--password", user.password).stdout
        assert "Successfully logged in" in out, out
        return out


@pytest.fixture
def toot(tmp_path):
    return Toot(tmp_path)


def eventually(fetch, predicate, what, timeout_s=NOTIFY_WAIT_S):
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if predicate(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: condition never held; last result: {result!r}")
        time.sleep(0.1)


def test_toot_version_runs(toot):
    out = toot.run("--version").stdout
    assert out.startswith("toot v"), out


def test_login_whoami_post_and_timelines(server, toot):
    user = sign_up(server)
    toot.login(server, user)

    # toot keys its app by the instance's `uri` (the domain) and keeps the base URL we gave it.
    cfg = toot.config()
    uid = f"{user.username}@localhost"
    assert list(cfg["apps"]) == ["localhost"], cfg["apps"]
    assert cfg["apps"]["localhost"]["base_url"] == server.base_url
    assert cfg["active_user"] == uid
    assert cfg["users"][uid]["username"] == user.username
    assert cfg["users"][uid]["access_token"]

    auth = toot.run("auth").stdout
    assert uid in auth and "ACTIVE" in auth

    who = toot.run("whoami").stdout
    assert f"@{user.username}" in who
    assert f"ID: {user.id}" in who
    assert "Statuses: 0" in who
    me = toot.json("whoami")
    assert me["id"] == user.id and me["username"] == user.username

    # post: plain and --json
    text = f"hello from toot {uuid.uuid4().hex[:10]}"
    out = toot.run("post", text).stdout
    assert out.startswith("Toot posted: "), out
    posted_url = out.split("Toot posted: ", 1)[1].strip()
    statuses = user.get(f"/api/v1/accounts/{user.id}/statuses").json()
    assert len(statuses) == 1, statuses
    first = statuses[0]
    assert text in first["content"] and first["visibility"] == "public"
    assert first["url"] == posted_url

    text2 = f"second toot {uuid.uuid4().hex[:10]}"
    second = toot.json("post", text2)
    assert second["account"]["id"] == user.id
    r = user.get(f"/api/v1/statuses/{second['id']}")
    assert r.status_code == 200, r.text
    assert text2 in r.json()["content"]
    assert user.get("/api/v1/accounts/verify_credentials").json()["statuses_count"] == 2

    # reply to our own post
    text3 = f"a reply {uuid.uuid4().hex[:10]}"
    reply = toot.json("post", "--reply-to", first["id"], text3)
    assert reply["in_reply_to_id"] == first["id"]

    # timelines: the deprecated `timeline` command and the `timelines` group
    home = toot.run("timeline", "--once").stdout
    assert text in home and text2 in home and text3 in home
    assert f"@{user.username}" in home
    assert f"ID {second['id']}" in home

    public = toot.run("timeline", "--public", "--once").stdout
    assert text in public and text2 in public

    home2 = toot.run("timelines", "home").stdout
    assert text in home2 and text2 in home2
    home_json = toot.json("timelines", "home", "--limit", "2")
    assert [s["id"] for s in home_json] == [reply["id"], second["id"]]

    public_json = toot.json("timelines", "public", "--local", "--limit", "40")
    assert second["id"] in [s["id"] for s in public_json]

    # delete through toot, confirm through the API
    assert "Status deleted" in toot.run("delete", second["id"]).stdout
    assert user.get(f"/api/v1/statuses/{second['id']}").status_code == 404


def test_follow_interact_and_notifications(server, toot):
    alice, bob = sign_up(server), sign_up(server)
    toot.login(server, alice)

    # follow by username: toot resolves it through /api/v2/search
    out = toot.run("follow", bob.username).stdout
    assert f"You are now following {bob.username}" in out, out
    rel = bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()
    assert rel[0]["followed_by"] is True

    # bob's posts now reach alice's home timeline as toot shows it
    word = uuid.uuid4().hex[:10]
    s = bob.status(f"@{alice.username} hello alice {word}")
    home = toot.run("timeline", "--once").stdout
    assert word in home and f"@{bob.username}" in home

    # favourite, reblog and bookmark bob's post from toot
    assert "Status favourited" in toot.run("favourite", s["id"]).stdout
    assert "Status reblogged" in toot.run("reblog", s["id"]).stdout
    assert "Status bookmarked" in toot.run("bookmark", s["id"]).stdout
    seen = bob.get(f"/api/v1/statuses/{s['id']}").json()
    assert seen["favourites_count"] == 1 and seen["reblogs_count"] == 1
    assert word in toot.run("bookmarks", "--once").stdout

    # bob is notified of the follow, favourite and reblog
    types = eventually(lambda: {n["type"] for n in bob.get("/api/v1/notifications").json()},
                       lambda t: {"follow", "favourite", "reblog"} <= t, "bob's notifications")
    assert types == {"follow", "favourite", "reblog"}

    # alice sees bob's mention in toot
    notes = eventually(lambda: toot.json("notifications"),
                       lambda ns: any(n["type"] == "mention" for n in ns), "alice's mention")
    mention = next(n for n in notes if n["type"] == "mention")
    assert mention["account"]["id"] == bob.id and mention["status"]["id"] == s["id"]
    printed = toot.run("notifications").stdout
    assert f"@{bob.username} mentioned you" in printed, printed
    only = toot.json("notifications", "--type", "mention")
    assert only and all(n["type"] == "mention" for n in only)

    # undo through toot
    toot.run("unfavourite", s["id"])
    toot.run("unreblog", s["id"])
    assert "You are no longer following" in toot.run("unfollow", bob.username).stdout
    seen = bob.get(f"/api/v1/statuses/{s['id']}").json()
    assert seen["favourites_count"] == 0 and seen["reblogs_count"] == 0
    rel = bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()
    assert rel[0]["followed_by"] is False


def test_login_failures_and_multiple_accounts(server, toot):
    alice, bob = sign_up(server), sign_up(server)

    bad = toot.run("login_cli", "--instance", server.base_url, "--email", alice.email,
                   "--password", "wrong-" + alice.password, ok=False)
    assert bad.returncode != 0
    assert "Login failed" in bad.stdout + bad.stderr
    assert toot.config()["users"] == {}

    # the app registered by the failed attempt is reused by later log-ins
    toot.login(server, alice)
    toot.login(server, bob)
    cfg = toot.config()
    assert list(cfg["apps"]) == ["localhost"]
    assert set(cfg["users"]) == {f"{alice.username}@localhost", f"{bob.username}@localhost"}
    assert cfg["active_user"] == f"{bob.username}@localhost"

    assert toot.json("whoami")["id"] == bob.id
    assert toot.json("--as", f"{alice.username}@localhost", "whoami")["id"] == alice.id
    toot.run("activate", f"{alice.username}@localhost")
    assert toot.json("whoami")["id"] == alice.id

    # logging out the active account leaves toot without an active user
    toot.run("logout", f"{alice.username}@localhost")
    gone = toot.run("whoami", ok=False)
    assert gone.returncode != 0 and "logged in" in gone.stderr
    assert toot.json("--as", f"{bob.username}@localhost", "whoami")["id"] == bob.id

    # an unknown token is refused by the server with a JSON error that toot reports cleanly
    cfg = toot.config()
    cfg["users"][f"{bob.username}@localhost"]["access_token"] = "not-a-real-token"
    cfg["active_user"] = f"{bob.username}@localhost"
    with open(toot.config_dir / "toot" / "config.json", "w") as f:
        json.dump(cfg, f)
    refused = toot.run("whoami", ok=False)
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr, refused.stderr
    assert "Error" in refused.stderr, refused.stderr


def test_lists_follow_requests_polls_scheduled_and_tags(server, toot):
    """The issue's client features as toot drives them: lists (members and
    their timeline), follow requests to a locked account, polls (post, show,
    vote), scheduled posts, and followed hashtags."""
    alice, bob, carol = sign_up(server), sign_up(server), sign_up(server)
    toot.login(server, alice)
    word = uuid.uuid4().hex[:8]

    # lists: create, add a followed account, read its timeline, remove, delete
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    title = f"friends-{word}"
    made = toot.json("lists", "create", title)
    assert made["title"] == title
    toot.run("lists", "add", title, bob.username)
    members = toot.json("lists", "accounts", title)
    assert [a["id"] for a in members] == [bob.id]
    bob.status(f"for the list {word}")
    listed = toot.json("timelines", "list", title)
    assert [word in s["content"] for s in listed] == [True]
    assert [x["title"] for x in toot.json("lists", "list")] == [title]
    toot.run("lists", "remove", title, bob.username)
    assert alice.get(f"/api/v1/lists/{made['id']}/accounts").json() == []
    toot.run("lists", "delete", title)
    assert alice.get("/api/v1/lists").json() == []

    # follow requests: a locked alice accepts carol and rejects dave
    alice.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    dave = sign_up(server)
    assert carol.post(f"/api/v1/accounts/{alice.id}/follow").json()["requested"] is True
    assert dave.post(f"/api/v1/accounts/{alice.id}/follow").json()["requested"] is True
    pending = toot.json("follow-requests", "list")
    assert {a["id"] for a in pending} == {carol.id, dave.id}
    toot.run("follow-requests", "accept", carol.username)
    toot.run("follow-requests", "reject", dave.username)
    assert carol.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()[0]["following"] is True
    rel = dave.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()[0]
    assert rel["following"] is False and rel["requested"] is False
    assert alice.get("/api/v1/follow_requests").json() == []

    # polls: toot posts one; bob votes; toot shows it and refuses nothing it should not
    st = toot.json("post", "--poll-option", "tea", "--poll-option", "coffee",
                   "--poll-expires-in", "1 hour", f"which one {word}")
    poll = st["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee"] and poll["multiple"] is False
    voted = bob.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": [1]}).json()
    assert voted["own_votes"] == [1]
    shown = toot.json("polls", "show", poll["id"])
    assert [o["votes_count"] for o in shown["options"]] == [0, 1] and shown["votes_count"] == 1
    other = bob.status("pick one", poll={"options": ["yes", "no"], "expires_in": 3600})
    assert toot.json("polls", "vote", other["poll"]["id"], "0")["own_votes"] == [0]
    own = toot.run("polls", "vote", poll["id"], "0", ok=False)
    assert own.returncode != 0, "voting in one's own poll is refused"

    # scheduled posts: toot schedules one; it waits, not posted yet
    sched = toot.json("post", "--scheduled-in", "2 hours", f"later {word}")
    assert sched["params"]["text"] == f"later {word}"
    waiting = alice.get("/api/v1/scheduled_statuses").json()
    assert [s["id"] for s in waiting] == [sched["id"]]
    own_posts = alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert all(f"later {word}" not in s["content"] for s in own_posts)

    # followed tags: follow, list, and the tag's posts reach home
    tag = f"t{word}"
    followed = toot.json("tags", "follow", tag)
    assert followed["name"] == tag and followed["following"] is True
    assert [t["name"] for t in toot.json("tags", "followed")] == [tag]
    stranger = sign_up(server)
    tagged = stranger.status(f"about #{tag}")
    home = eventually(lambda: toot.json("timelines", "home"),
                      lambda ss: any(s["id"] == tagged["id"] for s in ss), "the followed tag in home")
    assert any(s["id"] == tagged["id"] for s in home)
    toot.run("tags", "unfollow", tag)
    assert alice.get("/api/v1/followed_tags").json() == []
