"""Reports and moderation: POST /api/v1/reports, the admin API (accounts,
reports, domain and address blocks), roles granted with `holdfast user
grant`, what a suspension and a silence hide, approval-mode sign-ups,
announcements, the audit log, and e-mail confirmation's honest answer."""
import uuid

import pytest
import requests

from conftest import Client, Server, create_app, app_token, sign_up, unique_name, suite_config_with
from helpers import (anon_get, assert_error, assert_oauth_error, bearer, password_grant,
                     tget, tpost, uniq)

T = 30
ADMIN_SCOPES = "read write follow push admin:read admin:write"
RULES = '''
[instance]
rules = [
  { text = "No spam" },
  { text = "Be kind" },
]
'''


@pytest.fixture(scope="module")
def mserver():
    """A server of its own, with rules (reports name them)."""
    s = Server(["--config", suite_config_with(RULES)])
    yield s
    s.stop()


def sign_up_admin_capable(server):
    """A sign-up through an app that registered the admin scopes (its app
    token cannot hold them: only staff accounts may)."""
    app = create_app(server, ADMIN_SCOPES)
    token = app_token(server, app, "read write follow push")
    name = unique_name()
    email, password = f"{name}@example.com", f"pw-{uuid.uuid4().hex}"
    r = requests.post(server.url("/api/v1/accounts"), headers=bearer(token), timeout=T, json={
        "username": name, "email": email, "password": password, "agreement": True})
    assert r.status_code == 200, r.text
    return Client(server, r.json()["access_token"], name, password, email, app)


def staff(server, role="admin"):
    """A signed-up account granted `role` with the CLI, and a token with admin scopes."""
    c = sign_up_admin_capable(server)
    res = server.cli("user", "grant", c.username, role)
    assert res.returncode == 0, res.stderr
    r = password_grant(server, c.app, c.email, c.password, ADMIN_SCOPES)
    assert r.status_code == 200, r.text
    c.admin_token = r.json()["access_token"]
    return c


def aget(c, path, **kw):
    return tget(c.server, c.admin_token, path, **kw)


def apost(c, path, **kw):
    return tpost(c.server, c.admin_token, path, **kw)


def areq(c, method, path, **kw):
    return requests.request(method, c.server.url(path), headers=bearer(c.admin_token), timeout=T, **kw)


# ---------------------------------------------------------------- roles and scopes

def test_admin_scopes_only_for_staff_and_checked_on_every_call(mserver):
    user = sign_up_admin_capable(mserver)
    # A user asking for admin scopes is refused them, and so is an app.
    assert_oauth_error(requests.post(mserver.url("/oauth/token"), data={
        "grant_type": "client_credentials", "client_id": user.app["client_id"],
        "client_secret": user.app["client_secret"], "scope": "admin:read"}, timeout=T), 400, "invalid_scope")
    r = password_grant(mserver, user.app, user.email, user.password, "read admin:read")
    assert_oauth_error(r, 400, "invalid_scope")
    # A user token without admin scopes is refused by the admin API (403).
    assert_error(user.get("/api/v1/admin/accounts"), 403)

    admin = staff(mserver)
    me = tget(mserver, admin.admin_token, "/api/v1/accounts/verify_credentials").json()
    assert me["role"]["name"] == "Admin" and me["role"]["permissions"] == "1"
    assert me["role"]["highlighted"] is True
    assert aget(admin, "/api/v1/admin/accounts").status_code == 200
    # An admin's token without admin scopes: 403.
    assert_error(admin.get("/api/v1/admin/accounts"), 403)
    # admin:read does not allow writes.
    read_only = password_grant(mserver, admin.app, admin.email, admin.password, "read admin:read").json()
    assert_error(tpost(mserver, read_only["access_token"], f"/api/v1/admin/accounts/{user.id}/action",
                       json={"type": "silence"}), 403)
    # A token with admin scopes whose holder lost the role: refused (403).
    res = mserver.cli("user", "revoke", admin.username)
    assert res.returncode == 0, res.stderr
    assert_error(aget(admin, "/api/v1/admin/accounts"), 403)
    assert tget(mserver, admin.admin_token, "/api/v1/accounts/verify_credentials").json()["role"]["id"] == "-99"


def test_moderators_handle_accounts_but_not_blocks(mserver):
    mod = staff(mserver, "moderator")
    user = sign_up(mserver)
    r = aget(mod, f"/api/v1/admin/accounts/{user.id}")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["username"] == user.username and a["email"] == user.email
    assert a["account"]["id"] == user.id and a["ip"] == "127.0.0.1"
    assert a["confirmed"] is True and a["approved"] is True and a["suspended"] is False
    assert_error(apost(mod, "/api/v1/admin/domain_blocks", json={"domain": "spam.example"}), 403)
    assert_error(aget(mod, "/api/v1/admin/ip_blocks"), 403)
    # A moderator cannot act on an admin (a higher role) or on themselves.
    admin = staff(mserver)
    assert_error(apost(mod, f"/api/v1/admin/accounts/{admin.id}/action", json={"type": "suspend"}), 403)
    assert_error(apost(mod, f"/api/v1/admin/accounts/{mod.id}/action", json={"type": "silence"}), 403)


# ---------------------------------------------------------------- reports

def test_report_happy_path_and_bad_inputs(mserver):
    reporter, target, other = sign_up(mserver), sign_up(mserver), sign_up(mserver)
    s1 = target.status("offending " + uniq())
    mine = other.status("someone else's")
    r = reporter.post("/api/v1/reports", json={
        "account_id": target.id, "status_ids": [s1["id"]], "comment": "spam!",
        "forward": True, "rule_ids": ["1"]})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["category"] == "violation" and rep["rule_ids"] == ["1"]
    assert rep["status_ids"] == [s1["id"]] and rep["target_account"]["id"] == target.id
    assert rep["action_taken"] is False and rep["forwarded"] is False and rep["comment"] == "spam!"

    bad = [
        ({"account_id": "999999999"}, 404),
        ({"account_id": "not-an-id"}, 422),
        ({}, 422),
        ({"account_id": target.id, "status_ids": [mine["id"]]}, 422),
        ({"account_id": target.id, "status_ids": ["12345"]}, 422),
        ({"account_id": target.id, "category": "rude"}, 422),
        ({"account_id": target.id, "category": "violation"}, 422),
        ({"account_id": target.id, "rule_ids": ["3"]}, 422),
        ({"account_id": target.id, "comment": "x" * 1001}, 422),
        ({"account_id": reporter.id}, 422),
    ]
    for body, code in bad:
        assert_error(reporter.post("/api/v1/reports", json=body), code)
    # A token without write:reports is refused.
    app = create_app(mserver, "read")
    assert_error(tpost(mserver, app_token(mserver, app, "read"), "/api/v1/reports",
                       json={"account_id": target.id}), 401, 403, 422)


def test_staff_are_told_of_new_reports(mserver):
    """Each new report is an `admin.report` notification, with the report,
    to every moderator and admin (v1 and grouped v2); users are not told."""
    admin, mod = staff(mserver), staff(mserver, "moderator")
    reporter, target, bystander = sign_up(mserver), sign_up(mserver), sign_up(mserver)
    s1 = target.status("reported " + uniq())

    def told(who, report_id):
        notes = aget(who, "/api/v1/notifications", params={"types[]": "admin.report", "limit": 40}).json()
        return [n for n in notes if n["report"]["id"] == report_id]
    reports = []
    for comment in ("look at this", "and this"):
        r = reporter.post("/api/v1/reports", json={"account_id": target.id, "status_ids": [s1["id"]],
                                                   "comment": comment})
        assert r.status_code == 200, r.text
        reports.append(r.json())
    for who in (admin, mod):
        for rep in reports:
            [n] = told(who, rep["id"])
            assert n["type"] == "admin.report" and n["account"]["id"] == reporter.id
            assert n["report"]["target_account"]["id"] == target.id
            assert n["report"]["comment"] == rep["comment"] and n["report"]["status_ids"] == [s1["id"]]
            assert "status" not in n
            assert aget(who, f"/api/v1/notifications/{n['id']}").json()["report"]["id"] == rep["id"]
        grouped = aget(who, "/api/v2/notifications", params={"types[]": "admin.report"}).json()
        by_report = {g["report"]["id"]: g for g in grouped["notification_groups"] if g["type"] == "admin.report"}
        assert set(by_report) >= {rep["id"] for rep in reports}
        assert by_report[reports[0]["id"]]["notifications_count"] == 1
        assert reporter.id in {a["id"] for a in grouped["accounts"]}
    # Nobody else is told, the reporter included; the other types are unaffected.
    for who in (reporter, target, bystander):
        assert who.get("/api/v1/notifications", params={"types[]": "admin.report"}).json() == []
    assert all(n["type"] != "admin.report" for n in target.get("/api/v1/notifications").json())


def test_admin_reports_queue_assign_resolve_reopen(mserver):
    admin = staff(mserver)
    reporter, target = sign_up(mserver), sign_up(mserver)
    s1 = target.status("reported " + uniq())
    rep = reporter.post("/api/v1/reports", json={"account_id": target.id, "status_ids": [s1["id"]],
                                                 "category": "spam"}).json()
    r = aget(admin, "/api/v1/admin/reports", params={"resolved": "false", "target_account_id": target.id})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [rep["id"]]
    full = aget(admin, f"/api/v1/admin/reports/{rep['id']}").json()
    assert full["account"]["username"] == reporter.username
    assert full["target_account"]["username"] == target.username
    assert [s["id"] for s in full["statuses"]] == [s1["id"]]
    assert full["assigned_account"] is None and full["rules"] == []

    r = apost(admin, f"/api/v1/admin/reports/{rep['id']}/assign_to_self")
    assert r.json()["assigned_account"]["id"] == admin.id
    r = apost(admin, f"/api/v1/admin/reports/{rep['id']}/resolve", json={"note": "warned them"})
    assert r.json()["action_taken"] is True and r.json()["action_taken_by_account"]["id"] == admin.id
    r = aget(admin, "/api/v1/admin/reports", params={"resolved": "false", "target_account_id": target.id})
    assert r.json() == []
    r = apost(admin, f"/api/v1/admin/reports/{rep['id']}/reopen")
    assert r.json()["action_taken"] is False
    r = apost(admin, f"/api/v1/admin/reports/{rep['id']}/unassign")
    assert r.json()["assigned_account"] is None
    r = areq(admin, "PUT", f"/api/v1/admin/reports/{rep['id']}", json={"rule_ids": ["2"]})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["rules"]] == ["2"]
    assert_error(areq(admin, "PUT", f"/api/v1/admin/reports/{rep['id']}", json={"category": "bogus"}), 422)
    # Unknown reports are 404; a user cannot see anyone's reports, theirs included.
    assert_error(aget(admin, "/api/v1/admin/reports/123456789"), 404)
    assert_error(apost(admin, "/api/v1/admin/reports/123456789/resolve"), 404)
    assert_error(reporter.get(f"/api/v1/admin/reports/{rep['id']}"), 403)
    assert_error(target.get("/api/v1/admin/reports"), 403)


# ---------------------------------------------------------------- account actions and their effects

def visible_everywhere(viewer, status, tag, word):
    """Where a public status shows: (public timeline, tag timeline, search, by id)."""
    pub = [s["id"] for s in viewer.get("/api/v1/timelines/public", params={"limit": 40}).json()]
    tagged = [s["id"] for s in viewer.get(f"/api/v1/timelines/tag/{tag}").json()]
    found = [s["id"] for s in viewer.get("/api/v2/search", params={"q": word, "type": "statuses"}).json()["statuses"]]
    by_id = viewer.get(f"/api/v1/statuses/{status['id']}").status_code == 200
    return status["id"] in pub, status["id"] in tagged, status["id"] in found, by_id


def test_suspend_hides_everywhere_and_unsuspend_restores(mserver):
    admin = staff(mserver)
    victim, viewer = sign_up(mserver), sign_up(mserver)
    tag, word = uniq("tag"), uniq("word")
    s1 = victim.status(f"{word} #{tag}")
    reply = viewer.status("a reply", in_reply_to_id=s1["id"])
    assert visible_everywhere(viewer, s1, tag, word) == (True, True, True, True)
    rep = viewer.post("/api/v1/reports", json={"account_id": victim.id, "status_ids": [s1["id"]]}).json()

    r = apost(admin, f"/api/v1/admin/accounts/{victim.id}/action",
              json={"type": "suspend", "report_id": rep["id"], "text": "spam run"})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert_error(victim.get("/api/v1/accounts/verify_credentials"), 401)
    assert visible_everywhere(viewer, s1, tag, word) == (False, False, False, False)
    ctx = viewer.get(f"/api/v1/statuses/{reply['id']}/context").json()
    assert ctx["ancestors"] == []
    assert_error(viewer.get(f"/api/v1/accounts/{victim.id}"), 404)
    assert aget(admin, f"/api/v1/admin/accounts/{victim.id}").json()["suspended"] is True
    assert aget(admin, f"/api/v1/admin/reports/{rep['id']}").json()["action_taken"] is True
    listed = aget(admin, "/api/v2/admin/accounts", params={"status": "suspended", "username": victim.username})
    assert [a["id"] for a in listed.json()] == [victim.id]

    r = apost(admin, f"/api/v1/admin/accounts/{victim.id}/unsuspend")
    assert r.status_code == 200 and r.json()["suspended"] is False
    assert visible_everywhere(viewer, s1, tag, word) == (True, True, True, True)
    ctx = viewer.get(f"/api/v1/statuses/{reply['id']}/context").json()
    assert [s["id"] for s in ctx["ancestors"]] == [s1["id"]]
    # Its old tokens stay revoked; logging in again works.
    assert_error(victim.get("/api/v1/accounts/verify_credentials"), 401)
    assert password_grant(mserver, victim.app, victim.email, victim.password).status_code == 200


def test_silence_hides_from_public_timelines_only(mserver):
    admin = staff(mserver)
    quiet, stranger, fan = sign_up(mserver), sign_up(mserver), sign_up(mserver)
    assert fan.post(f"/api/v1/accounts/{quiet.id}/follow").status_code == 200
    tag, word = uniq("tag"), uniq("word")
    s1 = quiet.status(f"{word} #{tag}")
    r = apost(admin, f"/api/v1/admin/accounts/{quiet.id}/action", json={"type": "silence"})
    assert r.status_code == 200, r.text
    pub, tagged, _, by_id = visible_everywhere(stranger, s1, tag, word)
    assert (pub, tagged, by_id) == (False, False, True)
    pub, tagged, _, _ = visible_everywhere(fan, s1, tag, word)
    assert (pub, tagged) == (True, True)
    home = [s["id"] for s in fan.get("/api/v1/timelines/home").json()]
    assert s1["id"] in home
    assert quiet.get("/api/v1/accounts/verify_credentials").status_code == 200
    a = apost(admin, f"/api/v1/admin/accounts/{quiet.id}/unsilence").json()
    assert a["silenced"] is False
    assert visible_everywhere(stranger, s1, tag, word)[0] is True


def test_limited_accounts_policy_follows_silence(mserver):
    """`for_limited_accounts` (Mastodon's default: filter) applies to
    accounts moderators silenced, unless the recipient follows them."""
    admin = staff(mserver)
    quiet, target, friend = sign_up(mserver), sign_up(mserver), sign_up(mserver)
    assert apost(admin, f"/api/v1/admin/accounts/{quiet.id}/action", json={"type": "silence"}).status_code == 200

    def mentions(of):
        return [n["account"]["id"] for n in of.get("/api/v1/notifications?types[]=mention").json()]
    quiet.status(f"@{target.username} hello from a limited account")
    assert mentions(target) == [], "filtered by default"
    [req] = target.get("/api/v1/notifications/requests").json()
    assert req["account"]["id"] == quiet.id
    policy = target.get("/api/v2/notifications/policy").json()
    assert policy["for_limited_accounts"] == "filter" and policy["summary"]["pending_requests_count"] == 1
    # Followed: not limited for this recipient.
    assert friend.post(f"/api/v1/accounts/{quiet.id}/follow").status_code == 200
    quiet.status(f"@{friend.username} hi friend")
    assert mentions(friend) == [quiet.id]
    # accept lets them through, drop keeps nothing.
    assert target.patch("/api/v2/notifications/policy", json={"for_limited_accounts": "accept"}).status_code == 200
    quiet.post(f"/api/v1/accounts/{target.id}/follow")
    assert [n["type"] for n in target.get("/api/v1/notifications").json()] == ["follow"]
    other = sign_up(mserver)
    assert other.patch("/api/v2/notifications/policy", json={"for_limited_accounts": "drop"}).status_code == 200
    quiet.status(f"@{other.username} dropped")
    assert mentions(other) == [] and other.get("/api/v1/notifications/requests").json() == []
    # Once unsilenced, nothing is limited any more.
    apost(admin, f"/api/v1/admin/accounts/{quiet.id}/unsilence")
    quiet.status(f"@{other.username} back")
    assert mentions(other) == [quiet.id]


def test_disable_and_enable_log_in(mserver):
    admin = staff(mserver)
    user = sign_up(mserver)
    assert apost(admin, f"/api/v1/admin/accounts/{user.id}/action", json={"type": "disable"}).status_code == 200
    assert_error(user.get("/api/v1/accounts/verify_credentials"), 401)
    assert password_grant(mserver, user.app, user.email, user.password).status_code in (400, 401, 403)
    assert aget(admin, f"/api/v1/admin/accounts/{user.id}").json()["disabled"] is True
    assert apost(admin, f"/api/v1/admin/accounts/{user.id}/enable").json()["disabled"] is False
    assert password_grant(mserver, user.app, user.email, user.password).status_code == 200


def test_account_action_bad_inputs(mserver):
    admin = staff(mserver)
    user, other = sign_up(mserver), sign_up(mserver)
    assert_error(apost(admin, f"/api/v1/admin/accounts/{user.id}/action", json={"type": "ban"}), 422)
    assert_error(apost(admin, "/api/v1/admin/accounts/999999999/action", json={"type": "silence"}), 404)
    assert_error(aget(admin, "/api/v1/admin/accounts/999999999"), 404)
    assert_error(aget(admin, "/api/v1/admin/accounts/nope"), 404)
    rep = user.post("/api/v1/reports", json={"account_id": other.id}).json()
    # The report is about someone else.
    assert_error(apost(admin, f"/api/v1/admin/accounts/{user.id}/action",
                       json={"type": "none", "report_id": rep["id"]}), 422)
    # DELETE needs a suspended account; rejecting needs a pending one.
    assert_error(areq(admin, "DELETE", f"/api/v1/admin/accounts/{user.id}"), 403)
    assert_error(apost(admin, f"/api/v1/admin/accounts/{user.id}/reject"), 403)
    assert_error(aget(admin, "/api/v2/admin/accounts", params={"status": "weird"}), 422)
    assert aget(admin, "/api/v1/admin/accounts", params={"remote": "true"}).json() == []
    # A suspended account can be deleted, for good.
    apost(admin, f"/api/v1/admin/accounts/{user.id}/action", json={"type": "suspend"})
    r = areq(admin, "DELETE", f"/api/v1/admin/accounts/{user.id}")
    assert r.status_code == 200 and r.json()["username"] == user.username
    assert_error(aget(admin, f"/api/v1/admin/accounts/{user.id}"), 404)


def test_approval_mode_sign_ups(make_server):
    s = make_server("--registrations", "approval")
    admin = staff_without_sign_up(s)
    app = create_app(s)
    token = app_token(s, app)
    name = unique_name("pend")
    r = requests.post(s.url("/api/v1/accounts"), headers=bearer(token), timeout=T, json={
        "username": name, "email": f"{name}@example.com", "password": "pw-" + uuid.uuid4().hex,
        "agreement": True})
    assert r.status_code == 200, r.text
    pending_token = r.json()["access_token"]
    assert_error(tget(s, pending_token, "/api/v1/accounts/verify_credentials"), 401, 403)
    listed = aget(admin, "/api/v1/admin/accounts", params={"pending": "true"}).json()
    assert [a["username"] for a in listed] == [name]
    assert listed[0]["approved"] is False
    r = apost(admin, f"/api/v1/admin/accounts/{listed[0]['id']}/approve")
    assert r.status_code == 200 and r.json()["approved"] is True
    assert tget(s, pending_token, "/api/v1/accounts/verify_credentials").status_code == 200

    name2 = unique_name("rej")
    requests.post(s.url("/api/v1/accounts"), headers=bearer(token), timeout=T, json={
        "username": name2, "email": f"{name2}@example.com", "password": "pw-" + uuid.uuid4().hex,
        "agreement": True})
    pend = aget(admin, "/api/v2/admin/accounts", params={"status": "pending"}).json()
    assert [a["username"] for a in pend] == [name2]
    assert apost(admin, f"/api/v1/admin/accounts/{pend[0]['id']}/reject").status_code == 200
    assert aget(admin, "/api/v2/admin/accounts", params={"status": "pending"}).json() == []
    assert_error(aget(admin, f"/api/v1/admin/accounts/{pend[0]['id']}"), 404)


def staff_without_sign_up(server):
    """An admin made with the CLI (sign-ups may be waiting for approval)."""
    name = unique_name("adm")
    password = "pw-" + uuid.uuid4().hex
    res = server.cli("user", "create", name, "--email", f"{name}@example.com", input=password + "\n")
    assert res.returncode == 0, res.stderr
    assert server.cli("user", "grant", name, "admin").returncode == 0
    app = create_app(server, ADMIN_SCOPES)
    r = password_grant(server, app, f"{name}@example.com", password, ADMIN_SCOPES)
    assert r.status_code == 200, r.text

    class Staff:
        pass

    c = Staff()
    c.server, c.admin_token, c.username = server, r.json()["access_token"], name
    return c


# ---------------------------------------------------------------- blocks

def test_domain_blocks_crud(mserver):
    admin = staff(mserver)
    domain = f"{uniq('spam')}.example"
    r = apost(admin, "/api/v1/admin/domain_blocks", json={"domain": domain.upper(), "severity": "suspend",
                                                          "private_comment": "farm"})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["domain"] == domain and b["severity"] == "suspend" and len(b["digest"]) == 64
    assert_error(apost(admin, "/api/v1/admin/domain_blocks", json={"domain": domain}), 422)
    assert_error(apost(admin, "/api/v1/admin/domain_blocks", json={"domain": "x.example", "severity": "nuke"}), 422)
    assert_error(apost(admin, "/api/v1/admin/domain_blocks", json={"domain": "not a domain"}), 422)
    assert_error(apost(admin, "/api/v1/admin/domain_blocks", json={}), 422)
    assert aget(admin, f"/api/v1/admin/domain_blocks/{b['id']}").json()["domain"] == domain
    r = areq(admin, "PUT", f"/api/v1/admin/domain_blocks/{b['id']}", json={"severity": "silence"})
    assert r.json()["severity"] == "silence" and r.json()["private_comment"] == "farm"
    assert b["id"] in [x["id"] for x in aget(admin, "/api/v1/admin/domain_blocks").json()]
    assert areq(admin, "DELETE", f"/api/v1/admin/domain_blocks/{b['id']}").json() == {}
    assert_error(aget(admin, f"/api/v1/admin/domain_blocks/{b['id']}"), 404)
    assert_error(areq(admin, "DELETE", f"/api/v1/admin/domain_blocks/{b['id']}"), 404)


def test_ip_blocks_crud_and_sign_ups_from_blocked_addresses(make_server):
    s = make_server()
    admin = staff_without_sign_up(s)
    r = apost(admin, "/api/v1/admin/ip_blocks", json={"ip": "127.0.0.9/8", "severity": "sign_up_requires_approval",
                                                      "comment": "loopback", "expires_in": 3600})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["ip"] == "127.0.0.0/8" and b["expires_at"] is not None
    for bad in [{"ip": "nope", "severity": "no_access"}, {"ip": "10.0.0.0/33", "severity": "no_access"},
                {"ip": "10.0.0.0/8", "severity": "maybe"}, {"severity": "no_access"}]:
        assert_error(apost(admin, "/api/v1/admin/ip_blocks", json=bad), 422)
    assert_error(apost(admin, "/api/v1/admin/ip_blocks", json={"ip": "127.0.0.1/8", "severity": "no_access"}), 422)

    app = create_app(s)
    token = app_token(s, app)

    def register():
        name = unique_name("ipb")
        return requests.post(s.url("/api/v1/accounts"), headers=bearer(token), timeout=T, json={
            "username": name, "email": f"{name}@example.com", "password": "pw-" + uuid.uuid4().hex,
            "agreement": True})

    r = register()
    assert r.status_code == 200, r.text
    assert_error(tget(s, r.json()["access_token"], "/api/v1/accounts/verify_credentials"), 401, 403)
    r = areq(admin, "PUT", f"/api/v1/admin/ip_blocks/{b['id']}", json={"severity": "sign_up_block"})
    assert r.json()["severity"] == "sign_up_block"
    assert_error(register(), 403)
    assert areq(admin, "DELETE", f"/api/v1/admin/ip_blocks/{b['id']}").json() == {}
    assert aget(admin, "/api/v1/admin/ip_blocks").json() == []
    r = register()
    assert r.status_code == 200, r.text
    assert tget(s, r.json()["access_token"], "/api/v1/accounts/verify_credentials").status_code == 200


# ---------------------------------------------------------------- announcements, audit, e-mail

def test_announcements_from_the_cli(mserver):
    user = sign_up(mserver)
    text = "Maintenance tonight " + uniq()
    res = mserver.cli("announce", "create", text)
    assert res.returncode == 0, res.stderr
    anns = user.get("/api/v1/announcements").json()
    ann = next(a for a in anns if text in a["content"])
    assert ann["read"] is False and ann["reactions"] == []
    assert user.put(f"/api/v1/announcements/{ann['id']}/reactions/👍").status_code == 200
    assert_error(user.put(f"/api/v1/announcements/{ann['id']}/reactions/thumbsup"), 422)
    ann = next(a for a in user.get("/api/v1/announcements").json() if a["id"] == ann["id"])
    assert ann["reactions"] == [{"name": "👍", "count": 1, "me": True}]
    assert user.delete(f"/api/v1/announcements/{ann['id']}/reactions/👍").status_code == 200
    assert user.post(f"/api/v1/announcements/{ann['id']}/dismiss").status_code == 200
    assert ann["id"] not in [a["id"] for a in user.get("/api/v1/announcements").json()]
    again = user.get("/api/v1/announcements", params={"with_dismissed": "true"}).json()
    assert next(a for a in again if a["id"] == ann["id"])["read"] is True
    assert_error(user.post("/api/v1/announcements/123456/dismiss"), 404)
    res = mserver.cli("announce", "delete", ann["id"])
    assert res.returncode == 0, res.stderr
    assert ann["id"] not in [a["id"] for a in user.get("/api/v1/announcements",
                                                       params={"with_dismissed": "true"}).json()]
    assert mserver.cli("announce", "create", " ").returncode != 0


def test_audit_log_records_who_did_what(mserver):
    admin = staff(mserver)
    user = sign_up(mserver)
    apost(admin, f"/api/v1/admin/accounts/{user.id}/action", json={"type": "silence", "text": "noisy"})
    res = mserver.cli("audit", "--limit", "20")
    assert res.returncode == 0, res.stderr
    line = next(l for l in res.stdout.splitlines() if user.username in l and " silence " in l)
    assert admin.username in line and "noisy" in line
    assert any("(operator)" in l and "change_role" in l and admin.username in l
               for l in res.stdout.splitlines())


def test_email_confirmation_is_answered_honestly(mserver):
    user = sign_up(mserver)
    body = assert_error(user.post("/api/v1/emails/confirmations"), 403)
    assert "awaiting confirmation" in body["error"]
    assert user.get("/api/v1/emails/check_confirmation").json() is True
    assert_error(anon_get(mserver, "/api/v1/emails/check_confirmation"), 401)
