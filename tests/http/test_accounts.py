"""Registration, profiles, relationships (follow, block, mute) and counters."""
import uuid

import pytest
import requests

from conftest import app_token, create_app, sign_up, unique_name
from helpers import (TOKEN_KEYS, account_of, anon_get, assert_account, assert_error,
                     assert_relationship, bearer, ids, is_datetime, json_of, lookup,
                     password_grant, register, tget, uniq)

T = 30


def reg_fields(username=None, **over):
    username = username or unique_name("reg")
    f = {"username": username, "email": f"{username}@example.com",
         "password": f"pw-{uuid.uuid4().hex}", "agreement": True, "locale": "en"}
    f.update(over)
    return f


@pytest.fixture
def reg_token(server):
    return app_token(server, create_app(server))


# ---------------------------------------------------------------- registration

def test_register_returns_token(server, reg_token):
    f = reg_fields()
    r = register(server, reg_token, **f)
    assert r.status_code == 200, r.text
    tok = json_of(r)
    assert TOKEN_KEYS <= set(tok), tok
    assert tok["token_type"] == "Bearer"
    me = tget(server, tok["access_token"], "/api/v1/accounts/verify_credentials")
    assert me.status_code == 200, me.text
    assert_account(me.json(), f["username"])
    assert lookup(server, f["username"]).json()["id"] == me.json()["id"]


def test_register_form_encoded(server, reg_token):
    f = reg_fields(agreement="true")
    r = requests.post(server.url("/api/v1/accounts"), headers=bearer(reg_token), data=f,
                      timeout=T)
    assert r.status_code == 200, r.text
    assert lookup(server, f["username"]).status_code == 200


def test_registered_user_can_log_in_with_password(server, reg_token):
    app = create_app(server)
    f = reg_fields()
    assert register(server, reg_token, **f).status_code == 200
    r = password_grant(server, app, f["email"], f["password"], "read")
    assert r.status_code == 200, r.text
    me = tget(server, r.json()["access_token"], "/api/v1/accounts/verify_credentials")
    assert me.json()["username"] == f["username"]


def test_register_duplicate_username(server, reg_token, alice):
    f = reg_fields(alice.username, email=f"{uniq()}@example.com")
    assert_error(register(server, reg_token, **f), 422)


def test_register_duplicate_username_case_insensitive(server, reg_token, alice):
    f = reg_fields(alice.username.upper(), email=f"{uniq()}@example.com")
    assert_error(register(server, reg_token, **f), 422)


def test_register_duplicate_email(server, reg_token, alice):
    f = reg_fields(email=alice.email)
    assert_error(register(server, reg_token, **f), 422)
    assert lookup(server, f["username"]).status_code == 404


@pytest.mark.parametrize("bad", ["has space", "dash-ed!", "", "émile", "a" * 31, "semi;colon"])
def test_register_invalid_username(server, reg_token, bad):
    f = reg_fields(email=f"{uniq()}@example.com")
    f["username"] = bad
    assert_error(register(server, reg_token, **f), 422)


def test_register_requires_agreement(server, reg_token):
    f = reg_fields()
    del f["agreement"]
    assert_error(register(server, reg_token, **f), 422)
    f2 = reg_fields(agreement=False)
    assert_error(register(server, reg_token, **f2), 422)
    assert lookup(server, f["username"]).status_code == 404
    assert lookup(server, f2["username"]).status_code == 404


def test_register_rejects_bad_email_and_short_password(server, reg_token):
    f = reg_fields(email="not-an-email")
    assert_error(register(server, reg_token, **f), 422)
    f2 = reg_fields(password="short")
    assert_error(register(server, reg_token, **f2), 422)
    f3 = reg_fields()
    del f3["password"]
    assert_error(register(server, reg_token, **f3), 422)
    for x in (f, f2, f3):
        assert lookup(server, x["username"]).status_code == 404


def test_register_requires_app_token(server):
    f = reg_fields()
    r = requests.post(server.url("/api/v1/accounts"), json=f, timeout=T)
    assert_error(r, 401)
    assert lookup(server, f["username"]).status_code == 404


def test_register_requires_write_scope(server):
    app = create_app(server, scopes="read")
    tok = app_token(server, app, scopes="read")
    f = reg_fields()
    assert_error(register(server, tok, **f), 403)
    assert lookup(server, f["username"]).status_code == 404


def test_registrations_closed(make_server):
    s = make_server("--registrations", "closed")
    tok = app_token(s, create_app(s))
    f = reg_fields()
    assert_error(register(s, tok, **f), 403, 422)
    assert lookup(s, f["username"]).status_code == 404
    v2 = anon_get(s, "/api/v2/instance").json()
    assert v2["registrations"]["enabled"] is False
    assert anon_get(s, "/api/v1/instance").json()["registrations"] is False


def test_registrations_approval_mode(make_server):
    s = make_server("--registrations", "approval")
    v2 = anon_get(s, "/api/v2/instance").json()
    assert v2["registrations"]["enabled"] is True
    assert v2["registrations"]["approval_required"] is True
    assert anon_get(s, "/api/v1/instance").json()["approval_required"] is True
    app = create_app(s)
    tok = app_token(s, app)
    f = reg_fields(reason="I would like to join")
    r = register(s, tok, **f)
    assert r.status_code == 200, r.text
    # The token handed out at registration is not usable until approval.
    reg_tok = r.json()["access_token"]
    assert tget(s, reg_tok, "/api/v1/accounts/verify_credentials").status_code != 200
    assert requests.post(s.url("/api/v1/statuses"), headers=bearer(reg_tok),
                         json={"status": "x"}, timeout=T).status_code != 200
    # Password log-in does not give a working token either.
    login = password_grant(s, app, f["email"], f["password"], "read")
    assert login.status_code != 500
    if login.status_code == 200:
        me = tget(s, login.json()["access_token"], "/api/v1/accounts/verify_credentials")
        assert me.status_code != 200, me.text
    else:
        assert login.status_code in (400, 401, 403), login.text


# ---------------------------------------------------------------- credentials

def test_verify_credentials_has_source(alice):
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert_account(me, alice.username)
    src = me["source"]
    assert src["privacy"] == "public"
    assert src["sensitive"] is False
    assert src["note"] == ""
    assert isinstance(src["fields"], list)
    assert "language" in src
    assert me["followers_count"] == me["following_count"] == me["statuses_count"] == 0
    assert me["locked"] is False and me["bot"] is False
    assert me["last_status_at"] is None


def test_update_credentials_json(alice):
    r = alice.patch("/api/v1/accounts/update_credentials",
                    json={"display_name": "Alice Liddell", "note": "Down the <b>rabbit</b> hole",
                          "locked": True})
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["display_name"] == "Alice Liddell"
    assert me["locked"] is True
    assert me["source"]["note"] == "Down the <b>rabbit</b> hole"
    assert "rabbit" in me["note"]
    assert "<b>" not in me["note"], me["note"]  # plain text is escaped, not trusted HTML
    pub = account_of(alice.server, alice.id)
    assert pub["display_name"] == "Alice Liddell"
    assert pub["locked"] is True
    assert "source" not in pub


def test_update_credentials_form(alice):
    r = alice.patch("/api/v1/accounts/update_credentials",
                    data={"display_name": "Form Name", "locked": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Form Name"
    assert r.json()["locked"] is True
    r = alice.patch("/api/v1/accounts/update_credentials", data={"locked": "false"})
    assert r.json()["locked"] is False
    assert r.json()["display_name"] == "Form Name"  # untouched fields stay


def test_update_credentials_too_long_display_name(alice):
    alice.patch("/api/v1/accounts/update_credentials", json={"display_name": "Keep"})
    r = alice.patch("/api/v1/accounts/update_credentials", json={"display_name": "x" * 31})
    assert_error(r, 422)
    r = alice.patch("/api/v1/accounts/update_credentials", json={"note": "n" * 501})
    assert_error(r, 422)
    assert account_of(alice.server, alice.id)["display_name"] == "Keep"


def test_update_credentials_requires_write_scope(alice):
    from helpers import scoped_token
    tok = scoped_token(alice.server, alice, "read")
    r = requests.patch(alice.server.url("/api/v1/accounts/update_credentials"),
                       headers=bearer(tok), json={"display_name": "Nope"}, timeout=T)
    assert_error(r, 403)
    assert account_of(alice.server, alice.id)["display_name"] != "Nope"


# ---------------------------------------------------------------- lookup / get

def test_lookup(server, alice):
    r = lookup(server, alice.username)
    assert r.status_code == 200, r.text
    assert_account(r.json(), alice.username)
    assert r.json()["id"] == alice.id


def test_lookup_unknown_is_404(server):
    assert_error(lookup(server, unique_name("ghost")), 404)


def test_get_account_anonymous(server, alice):
    r = anon_get(server, f"/api/v1/accounts/{alice.id}")
    assert r.status_code == 200, r.text
    a = r.json()
    assert_account(a, alice.username)
    assert "source" not in a
    assert alice.username in a["url"]
    assert is_datetime(a["created_at"])


def test_get_account_unknown_and_non_numeric(server):
    assert_error(anon_get(server, "/api/v1/accounts/999999999999999999"), 404)
    assert_error(anon_get(server, "/api/v1/accounts/not-a-number"), 404)


# ---------------------------------------------------------------- account statuses

def test_account_statuses_newest_first_and_only_theirs(alice, bob):
    a1 = alice.status("one")
    bob.status("bob's")
    a2 = alice.status("two")
    r = anon_get(alice.server, f"/api/v1/accounts/{alice.id}/statuses")
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [a2["id"], a1["id"]]


def test_account_statuses_exclude_replies(alice, bob):
    top = alice.status("top")
    reply = alice.status("self reply", in_reply_to_id=top["id"])
    other = bob.status("bob top")
    reply_other = alice.status(f"@{bob.username} reply", in_reply_to_id=other["id"])
    got = ids(alice.get(f"/api/v1/accounts/{alice.id}/statuses").json())
    assert set(got) == {top["id"], reply["id"], reply_other["id"]}
    got = ids(alice.get(f"/api/v1/accounts/{alice.id}/statuses",
                        params={"exclude_replies": "true"}).json())
    # Mastodon keeps self-replies (threads) and drops replies to others.
    assert top["id"] in got
    assert reply_other["id"] not in got


def test_account_statuses_exclude_reblogs(alice, bob):
    b = bob.status("boost me")
    own = alice.status("own")
    rb = alice.post(f"/api/v1/statuses/{b['id']}/reblog").json()
    got = alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert ids(got) == [rb["id"], own["id"]]
    assert got[0]["reblog"]["id"] == b["id"]
    got = alice.get(f"/api/v1/accounts/{alice.id}/statuses",
                    params={"exclude_reblogs": "true"}).json()
    assert ids(got) == [own["id"]]


def test_account_statuses_only_media_pinned_tagged(alice):
    tag = uniq("tag")
    t = alice.status(f"tagged #{tag}")
    alice.status("untagged")
    r = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"only_media": "true"})
    assert r.status_code == 200 and r.json() == []
    r = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})
    assert r.status_code == 200 and r.json() == []
    r = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"tagged": tag})
    assert r.status_code == 200 and ids(r.json()) == [t["id"]]


def test_account_statuses_unknown_account(server):
    assert_error(anon_get(server, "/api/v1/accounts/999999999999999999/statuses"), 404)


# ---------------------------------------------------------------- follow

def test_follow_and_unfollow_update_relationship_and_counts(alice, bob):
    r = alice.post(f"/api/v1/accounts/{bob.id}/follow")
    assert r.status_code == 200, r.text
    rel = r.json()
    assert_relationship(rel, bob.id)
    assert rel["following"] is True and rel["requested"] is False
    assert rel["showing_reblogs"] is True
    assert account_of(alice.server, alice.id)["following_count"] == 1
    assert account_of(alice.server, bob.id)["followers_count"] == 1
    rel_b = bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()
    assert rel_b[0]["followed_by"] is True and rel_b[0]["following"] is False

    r = alice.post(f"/api/v1/accounts/{bob.id}/unfollow")
    assert r.status_code == 200, r.text
    assert r.json()["following"] is False
    assert account_of(alice.server, alice.id)["following_count"] == 0
    assert account_of(alice.server, bob.id)["followers_count"] == 0


def test_follow_is_idempotent(alice, bob):
    for _ in range(3):
        r = alice.post(f"/api/v1/accounts/{bob.id}/follow")
        assert r.status_code == 200, r.text
        assert r.json()["following"] is True
    assert account_of(alice.server, bob.id)["followers_count"] == 1
    for _ in range(2):
        r = alice.post(f"/api/v1/accounts/{bob.id}/unfollow")
        assert r.status_code == 200 and r.json()["following"] is False
    assert account_of(alice.server, bob.id)["followers_count"] == 0


def test_follow_with_reblogs_false(alice, bob):
    r = alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": False})
    assert r.status_code == 200, r.text
    assert r.json()["following"] is True
    assert r.json()["showing_reblogs"] is False


def test_followers_and_following_lists(alice, bob, carol):
    alice.post(f"/api/v1/accounts/{carol.id}/follow")
    bob.post(f"/api/v1/accounts/{carol.id}/follow")
    r = anon_get(alice.server, f"/api/v1/accounts/{carol.id}/followers")
    assert r.status_code == 200, r.text
    for a in r.json():
        assert_account(a)
    assert set(ids(r.json())) == {alice.id, bob.id}
    assert ids(r.json())[0] == bob.id  # most recent follow first
    r = anon_get(alice.server, f"/api/v1/accounts/{alice.id}/following")
    assert ids(r.json()) == [carol.id]
    assert anon_get(alice.server, f"/api/v1/accounts/{carol.id}/following").json() == []


def test_follow_locked_account_is_a_request(alice, bob):
    bob.patch("/api/v1/accounts/update_credentials", json={"locked": True})
    r = alice.post(f"/api/v1/accounts/{bob.id}/follow")
    assert r.status_code == 200, r.text
    rel = r.json()
    assert rel["requested"] is True
    assert rel["following"] is False
    assert account_of(alice.server, bob.id)["followers_count"] == 0
    rels = alice.get("/api/v1/accounts/relationships", params={"id[]": bob.id}).json()
    assert rels[0]["requested"] is True and rels[0]["following"] is False


def test_follow_self_is_refused(alice):
    r = alice.post(f"/api/v1/accounts/{alice.id}/follow")
    assert_error(r, 403, 404, 422)
    assert account_of(alice.server, alice.id)["following_count"] == 0


def test_follow_unknown_account(alice):
    assert_error(alice.post("/api/v1/accounts/999999999999999999/follow"), 404)
    assert account_of(alice.server, alice.id)["following_count"] == 0


def test_relationships_multiple_ids(alice, bob, carol):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    r = alice.get("/api/v1/accounts/relationships",
                  params=[("id[]", bob.id), ("id[]", carol.id)])
    assert r.status_code == 200, r.text
    rels = {x["id"]: x for x in r.json()}
    assert set(rels) == {bob.id, carol.id}
    for x in rels.values():
        assert_relationship(x)
    assert rels[bob.id]["following"] is True
    assert rels[carol.id]["following"] is False
    assert rels[carol.id]["blocking"] is False


def test_relationships_requires_auth(server, alice):
    assert_error(anon_get(server, "/api/v1/accounts/relationships",
                          params={"id[]": alice.id}), 401)


# ---------------------------------------------------------------- block / mute

def test_block_removes_follows_both_ways(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    r = alice.post(f"/api/v1/accounts/{bob.id}/block")
    assert r.status_code == 200, r.text
    rel = r.json()
    assert_relationship(rel, bob.id)
    assert rel["blocking"] is True
    assert rel["following"] is False and rel["followed_by"] is False
    b = bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()[0]
    assert b["blocked_by"] is True and b["following"] is False
    assert account_of(alice.server, alice.id)["followers_count"] == 0
    assert account_of(alice.server, alice.id)["following_count"] == 0
    assert account_of(alice.server, bob.id)["followers_count"] == 0


def test_blocked_user_cannot_follow_blocker(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    r = bob.post(f"/api/v1/accounts/{alice.id}/follow")
    assert r.status_code in (403, 404, 422), r.text
    assert account_of(alice.server, alice.id)["followers_count"] == 0


def test_unblock(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    r = alice.post(f"/api/v1/accounts/{bob.id}/unblock")
    assert r.status_code == 200, r.text
    assert r.json()["blocking"] is False
    r = bob.post(f"/api/v1/accounts/{alice.id}/follow")
    assert r.status_code == 200 and r.json()["following"] is True


def test_mute_and_unmute(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    r = alice.post(f"/api/v1/accounts/{bob.id}/mute")
    assert r.status_code == 200, r.text
    rel = r.json()
    assert_relationship(rel, bob.id)
    assert rel["muting"] is True
    assert rel["muting_notifications"] is True
    assert rel["following"] is True  # muting does not unfollow
    r = alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"notifications": False})
    assert r.status_code == 200 and r.json()["muting_notifications"] is False
    r = alice.post(f"/api/v1/accounts/{bob.id}/unmute")
    assert r.status_code == 200 and r.json()["muting"] is False
    # bob's own view: he mutes nobody, and a mute is not a block
    b = bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()[0]
    assert b["muting"] is False and b["blocked_by"] is False


def test_block_unknown_account(alice):
    assert_error(alice.post("/api/v1/accounts/999999999999999999/block"), 404)
    assert_error(alice.post("/api/v1/accounts/999999999999999999/mute"), 404)


# ---------------------------------------------------------------- counters

def test_statuses_count_and_last_status_at(alice):
    s1 = alice.status("first")
    alice.status("second")
    a = account_of(alice.server, alice.id)
    assert a["statuses_count"] == 2
    assert a["last_status_at"] is not None
    assert a["last_status_at"][:10] == s1["created_at"][:10]
    r = alice.delete(f"/api/v1/statuses/{s1['id']}")
    assert r.status_code == 200
    assert account_of(alice.server, alice.id)["statuses_count"] == 1


def test_verify_credentials_counts_match_public(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    alice.status("x")
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    pub = account_of(alice.server, alice.id)
    for k in ("followers_count", "following_count", "statuses_count"):
        assert me[k] == pub[k], k
    assert me["following_count"] == 1 and me["statuses_count"] == 1


def test_followers_list_paginates(server):
    target = sign_up(server)
    fans = [sign_up(server) for _ in range(5)]
    for f in fans:
        assert f.post(f"/api/v1/accounts/{target.id}/follow").status_code == 200
    r = anon_get(server, f"/api/v1/accounts/{target.id}/followers", params={"limit": 2})
    assert r.status_code == 200
    assert ids(r.json()) == [fans[4].id, fans[3].id]
    from helpers import parse_link, path_and_query
    seen = ids(r.json())
    nxt = parse_link(r).get("next")
    while nxt:
        r = anon_get(server, path_and_query(nxt))
        assert r.status_code == 200
        if not r.json():
            break
        seen += ids(r.json())
        nxt = parse_link(r).get("next")
        assert len(seen) <= 10
    assert seen == [f.id for f in reversed(fans)]
    big = anon_get(server, f"/api/v1/accounts/{target.id}/followers", params={"limit": 1000})
    assert big.status_code == 200 and len(big.json()) == 5
