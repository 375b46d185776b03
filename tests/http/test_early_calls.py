"""What Mastodon clients call early (issue 7): grouped notifications (v2) and
unread counts, fetching many statuses and accounts, Tag ids, sign-up errors
with per-field details, self-follow/block/mute, instance contact and streaming
URLs, control characters in search."""
import subprocess

import pytest
import requests

from conftest import BINARY, app_token, create_app, sign_up
from helpers import (anon_get, assert_account, assert_error, assert_status,
                     bearer, ids, is_datetime, is_id, link_params, parse_link,
                     path_and_query, register, scoped_token, uniq)

GROUP_KEYS = {"group_key", "notifications_count", "type", "most_recent_notification_id",
              "sample_account_ids"}
PAGE_KEYS = {"page_min_id", "page_max_id", "latest_page_notification_at"}


def v2(client, **params):
    r = client.get("/api/v2/notifications", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"accounts", "statuses", "notification_groups"}, body
    return body, r


def assert_group(g, paged=True):
    missing = GROUP_KEYS - set(g)
    assert not missing, f"group lacks {missing}: {g}"
    assert isinstance(g["group_key"], str) and g["group_key"]
    assert isinstance(g["notifications_count"], int) and g["notifications_count"] >= 1
    assert is_id(g["most_recent_notification_id"])
    assert g["sample_account_ids"] and all(is_id(i) for i in g["sample_account_ids"])
    if paged:
        assert PAGE_KEYS <= set(g), g
        assert is_id(g["page_min_id"]) and is_id(g["page_max_id"])
        assert int(g["page_min_id"]) <= int(g["page_max_id"])
        assert is_datetime(g["latest_page_notification_at"])
    else:
        assert not (PAGE_KEYS & set(g)), g
    if g["type"] in ("favourite", "reblog", "mention"):
        assert is_id(g["status_id"])
    else:
        assert "status_id" not in g


@pytest.fixture
def busy(server):
    """alice's status favourited by three, reblogged by one; two follows and a mention."""
    alice, bob, carol, dave = (sign_up(server) for _ in range(4))
    s = alice.status("grouped notifications")
    for c in (bob, carol, dave):
        assert c.post(f"/api/v1/statuses/{s['id']}/favourite").status_code == 200
    assert bob.post(f"/api/v1/statuses/{s['id']}/reblog").status_code == 200
    for c in (bob, carol):
        assert c.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    m = dave.status(f"hello @{alice.username}")
    return alice, bob, carol, dave, s, m


# ---- GET /api/v2/notifications ----

def test_groups_favourites_reblogs_and_follows(busy):
    alice, bob, carol, dave, s, m = busy
    body, r = v2(alice)
    groups = body["notification_groups"]
    for g in groups:
        assert_group(g)
    # Newest first: the mention, the follows, the reblog, the favourites.
    assert [g["type"] for g in groups] == ["mention", "follow", "reblog", "favourite"]
    by_type = {g["type"]: g for g in groups}
    fav = by_type["favourite"]
    assert fav["notifications_count"] == 3
    assert fav["sample_account_ids"] == [dave.id, carol.id, bob.id]  # newest first
    assert fav["status_id"] == s["id"]
    assert fav["group_key"].startswith(f"favourite-{s['id']}-")
    assert int(fav["page_min_id"]) < int(fav["page_max_id"]) == int(fav["most_recent_notification_id"])
    assert by_type["follow"]["notifications_count"] == 2
    assert by_type["follow"]["sample_account_ids"] == [carol.id, bob.id]
    assert by_type["follow"]["group_key"].startswith("follow-")
    assert by_type["reblog"]["notifications_count"] == 1
    assert by_type["reblog"]["status_id"] == s["id"]
    men = by_type["mention"]
    assert men["group_key"] == f"ungrouped-{men['most_recent_notification_id']}"
    assert men["status_id"] == m["id"]
    # Every account and status once, referenced by id.
    assert sorted(ids(body["accounts"])) == sorted({bob.id, carol.id, dave.id})
    for a in body["accounts"]:
        assert_account(a)
    assert sorted(ids(body["statuses"])) == sorted({s["id"], m["id"]})
    for st in body["statuses"]:
        assert_status(st)
    assert "partial_accounts" not in body
    # The v1 list shows the same group keys.
    v1 = alice.get("/api/v1/notifications").json()
    assert {n["group_key"] for n in v1} == {g["group_key"] for g in groups}
    links = parse_link(r)
    assert link_params(links["next"])["max_id"] == groups[-1]["most_recent_notification_id"]
    assert link_params(links["prev"])["min_id"] == groups[0]["most_recent_notification_id"]


def test_grouped_types_limits_grouping(busy):
    alice, bob, carol, dave, s, m = busy
    body, _ = v2(alice, **{"grouped_types[]": "favourite"})
    types = [g["type"] for g in body["notification_groups"]]
    assert types == ["mention", "follow", "follow", "reblog", "favourite"]
    for g in body["notification_groups"]:
        assert_group(g)
        if g["type"] == "follow":
            assert g["group_key"] == f"ungrouped-{g['most_recent_notification_id']}"
            assert g["notifications_count"] == 1
    # An unknown type in grouped_types[] groups nothing.
    body, _ = v2(alice, **{"grouped_types[]": "nonsense"})
    assert len(body["notification_groups"]) == 7


def test_types_and_exclude_types(busy):
    alice, *_ = busy
    body, _ = v2(alice, **{"types[]": ["favourite", "follow"]})
    assert [g["type"] for g in body["notification_groups"]] == ["follow", "favourite"]
    body, _ = v2(alice, **{"exclude_types[]": ["favourite", "mention", "bogus"]})
    assert [g["type"] for g in body["notification_groups"]] == ["follow", "reblog"]
    body, r = v2(alice, **{"types[]": "bogus"})
    assert body == {"accounts": [], "statuses": [], "notification_groups": []}
    assert "Link" not in r.headers


def test_account_id_keeps_one_sender(busy):
    alice, bob, carol, dave, s, m = busy
    body, _ = v2(alice, account_id=dave.id)
    assert [g["type"] for g in body["notification_groups"]] == ["mention", "favourite"]
    # The groups themselves stay whole (Mastodon sums a group up by its key).
    assert body["notification_groups"][1]["notifications_count"] == 3
    assert dave.id in ids(body["accounts"])
    v1 = alice.get("/api/v1/notifications", params={"account_id": bob.id}).json()
    assert [n["type"] for n in v1] == ["follow", "reblog", "favourite"]
    assert alice.get("/api/v1/notifications/unread_count",
                     params={"account_id": carol.id}).json() == {"count": 2}
    assert alice.get("/api/v2/notifications/unread_count",
                     params={"account_id": carol.id}).json() == {"count": 2}
    # Blank means no filter, as in Mastodon; a non-id names nobody.
    assert len(alice.get("/api/v1/notifications", params={"account_id": ""}).json()) == 7
    for bad in ("abc", "-1", "99999999999999999999"):
        assert alice.get("/api/v1/notifications", params={"account_id": bad}).json() == []
        assert v2(alice, account_id=bad)[0]["notification_groups"] == []


def test_expand_accounts_partial_avatars(busy):
    alice, bob, carol, dave, s, m = busy
    body, _ = v2(alice, expand_accounts="partial_avatars")
    full = set(ids(body["accounts"]))
    partial = set(ids(body["partial_accounts"]))
    # The newest account of each group in full, the others in part, none twice.
    for g in body["notification_groups"]:
        assert g["sample_account_ids"][0] in full
        for other in g["sample_account_ids"][1:]:
            assert other in full or other in partial
    assert not (full & partial)
    firsts = {g["sample_account_ids"][0] for g in body["notification_groups"]}
    assert full == firsts
    body, _ = v2(alice, expand_accounts="partial_avatars", **{"types[]": "favourite"})
    assert ids(body["accounts"]) == [dave.id]
    assert set(ids(body["partial_accounts"])) == {carol.id, bob.id}
    for a in body["partial_accounts"]:
        assert set(a) == {"id", "acct", "locked", "bot", "url", "avatar", "avatar_static",
                          "avatar_description"}
    body, _ = v2(alice, expand_accounts="full")
    assert "partial_accounts" not in body
    r = alice.get("/api/v2/notifications", params={"expand_accounts": "everything"})
    assert "expand_accounts" in assert_error(r, 400)["error"]


def test_group_paging_walks_every_notification(busy):
    alice, *_ = busy
    _, everything = v2(alice)
    all_v1 = {int(n["id"]) for n in alice.get("/api/v1/notifications").json()}
    seen, path, pages = set(), "/api/v2/notifications?limit=2", 0
    while path and pages < 20:
        r = alice.get(path)
        assert r.status_code == 200, r.text
        groups = r.json()["notification_groups"]
        if not groups:
            assert "Link" not in r.headers
            break
        assert len(groups) <= 2
        maxes = [int(g["page_max_id"]) for g in groups]
        assert maxes == sorted(maxes, reverse=True)
        for g in groups:
            assert_group(g)
            seen |= {i for i in all_v1 if int(g["page_min_id"]) <= i <= int(g["page_max_id"])}
        path = path_and_query(parse_link(r)["next"]) if "next" in parse_link(r) else None
        pages += 1
    assert pages < 20
    assert seen == all_v1
    # min_id paging goes the other way: the oldest groups above the cursor, newest first.
    oldest = min(all_v1)
    body, _ = v2(alice, min_id=oldest, limit=1)
    (g,) = body["notification_groups"]
    assert g["type"] == "favourite"
    assert int(g["page_max_id"]) > oldest


def test_group_paging_cut_short_by_the_scan_bound_still_walks_everything(make_server, tmp_path):
    # With notification_groups_scan_max = 3, a page looks at no more than 3
    # notifications (or `limit`, if larger); a page cut short links on from
    # where the scan stopped, so walking `next` still ends and sees everything.
    from conftest import TEST_CONFIG
    conf = tmp_path / "scan.toml"
    conf.write_text(open(TEST_CONFIG).read() + "notification_groups_scan_max = 3\n")
    srv = make_server("--config", str(conf))
    me = sign_up(srv)
    st = me.status("popular")
    fans = [sign_up(srv) for _ in range(7)]
    for f in fans:
        assert f.post(f"/api/v1/statuses/{st['id']}/favourite").status_code == 200
    assert fans[0].post(f"/api/v1/accounts/{me.id}/follow").status_code == 200
    every = {int(n["id"]) for n in me.get("/api/v1/notifications").json()}
    assert len(every) == 8
    seen, path, pages = set(), "/api/v2/notifications?limit=3", 0
    while path and pages < 10:
        r = me.get(path)
        assert r.status_code == 200, r.text
        groups = r.json()["notification_groups"]
        if not groups:
            break
        for g in groups:
            assert_group(g)
            seen |= {i for i in every if int(g["page_min_id"]) <= i <= int(g["page_max_id"])}
        links = parse_link(r)
        path = path_and_query(links["next"]) if "next" in links else None
        pages += 1
    assert pages < 10 and seen == every
    first = v2(me, limit=3)[0]["notification_groups"]
    assert [g["type"] for g in first] == ["follow", "favourite"]
    assert first[1]["notifications_count"] == 7  # counted over the whole group, not the scan


def test_group_paging_bad_parameters_are_lenient(busy):
    alice, *_ = busy
    body, _ = v2(alice, limit="lots", max_id="abc")
    assert len(body["notification_groups"]) == 4  # the default page
    body, r = v2(alice, limit=0)
    assert body["notification_groups"] == [] and "Link" not in r.headers
    body, _ = v2(alice, limit=-1)
    assert len(body["notification_groups"]) == 1


def test_v2_requires_a_user_and_the_scope(server, busy):
    alice, *_ = busy
    for path in ("/api/v2/notifications", "/api/v2/notifications/unread_count",
                 "/api/v1/notifications/unread_count", "/api/v2/notifications/follow-1",
                 "/api/v2/notifications/follow-1/accounts"):
        assert_error(anon_get(server, path), 401)
    assert_error(requests.post(server.url("/api/v2/notifications/follow-1/dismiss"),
                               timeout=30), 401)
    token = scoped_token(server, alice, "read:statuses")
    assert_error(requests.get(server.url("/api/v2/notifications"), headers=bearer(token),
                              timeout=30), 403)
    app = create_app(server)
    assert_error(requests.get(server.url("/api/v2/notifications"),
                              headers=bearer(app_token(server, app)), timeout=30), 422)


# ---- one group: show, accounts, dismiss ----

def test_show_one_group(server, busy):
    alice, bob, carol, dave, s, m = busy
    groups = {g["type"]: g for g in v2(alice)[0]["notification_groups"]}
    fav = groups["favourite"]
    r = alice.get(f"/api/v2/notifications/{fav['group_key']}")
    assert r.status_code == 200, r.text
    body = r.json()
    (g,) = body["notification_groups"]
    assert_group(g, paged=False)
    assert g["group_key"] == fav["group_key"] and g["notifications_count"] == 3
    assert g["sample_account_ids"] == [dave.id, carol.id, bob.id]
    assert ids(body["statuses"]) == [s["id"]]
    men = groups["mention"]
    r = alice.get(f"/api/v2/notifications/{men['group_key']}")
    assert r.status_code == 200 and r.json()["notification_groups"][0]["type"] == "mention"
    # Someone else's group, an unknown key, odd keys: 404.
    other = sign_up(server)
    assert_error(other.get(f"/api/v2/notifications/{fav['group_key']}"), 404)
    assert_error(other.get(f"/api/v2/notifications/{men['group_key']}"), 404)
    for bad in ("favourite-1-1", "ungrouped-", "ungrouped-abc", "ungrouped-99999999999999999999",
                "%00", "x" * 300):
        assert_error(alice.get(f"/api/v2/notifications/{bad}"), 404)


def test_group_accounts(busy):
    alice, bob, carol, dave, s, m = busy
    groups = {g["type"]: g for g in v2(alice)[0]["notification_groups"]}
    key = groups["favourite"]["group_key"]
    r = alice.get(f"/api/v2/notifications/{key}/accounts")
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [dave.id, carol.id, bob.id]
    for a in r.json():
        assert_account(a)
    r = alice.get(f"/api/v2/notifications/{key}/accounts", params={"limit": 2})
    assert ids(r.json()) == [dave.id, carol.id]
    nxt = parse_link(r)["next"]
    assert ids(alice.get(path_and_query(nxt)).json()) == [bob.id]
    men = groups["mention"]["group_key"]
    assert ids(alice.get(f"/api/v2/notifications/{men}/accounts").json()) == [dave.id]
    for unknown in ("favourite-1-1", "ungrouped-1"):
        r = alice.get(f"/api/v2/notifications/{unknown}/accounts")
        assert r.status_code == 200 and r.json() == []


def test_dismiss_group(server, busy):
    alice, *_ = busy
    groups = {g["type"]: g for g in v2(alice)[0]["notification_groups"]}
    other = sign_up(server)
    # Someone else cannot dismiss alice's group.
    r = other.post(f"/api/v2/notifications/{groups['favourite']['group_key']}/dismiss")
    assert r.status_code == 200 and r.json() == {}
    assert len(v2(alice)[0]["notification_groups"]) == 4
    for t in ("favourite", "mention"):
        r = alice.post(f"/api/v2/notifications/{groups[t]['group_key']}/dismiss")
        assert r.status_code == 200 and r.json() == {}
    left = v2(alice)[0]["notification_groups"]
    assert [g["type"] for g in left] == ["follow", "reblog"]
    assert {n["type"] for n in alice.get("/api/v1/notifications").json()} == {"follow", "reblog"}
    # Unknown keys: nothing to do, still 200.
    for key in ("favourite-1-1", "ungrouped-1", "junk"):
        r = alice.post(f"/api/v2/notifications/{key}/dismiss")
        assert r.status_code == 200 and r.json() == {}
    token = scoped_token(server, alice, "read")
    assert_error(requests.post(server.url(f"/api/v2/notifications/{groups['follow']['group_key']}/dismiss"),
                               headers=bearer(token), timeout=30), 403)


# ---- unread counts ----

def test_unread_counts_follow_the_marker(busy):
    alice, *_ = busy
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 7}
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 4}
    assert alice.get("/api/v2/notifications/unread_count",
                     params={"grouped_types[]": "follow"}).json() == {"count": 6}
    assert alice.get("/api/v1/notifications/unread_count",
                     params={"types[]": "favourite"}).json() == {"count": 3}
    assert alice.get("/api/v1/notifications/unread_count",
                     params={"exclude_types[]": "favourite"}).json() == {"count": 4}
    # `limit` caps the count; bad values are lenient as elsewhere.
    assert alice.get("/api/v1/notifications/unread_count", params={"limit": 2}).json() == {"count": 2}
    assert alice.get("/api/v1/notifications/unread_count", params={"limit": -3}).json() == {"count": 3}
    assert alice.get("/api/v1/notifications/unread_count", params={"limit": "x"}).json() == {"count": 7}
    assert alice.get("/api/v1/notifications/unread_count", params={"limit": 0}).json() == {"count": 0}
    assert alice.get("/api/v1/notifications/unread_count",
                     params={"limit": 10**12}).json() == {"count": 7}
    ns = alice.get("/api/v1/notifications").json()
    # Read up to the fourth newest: three remain unread (mention, follow, follow).
    r = alice.post("/api/v1/markers", json={"notifications": {"last_read_id": ns[3]["id"]}})
    assert r.status_code == 200, r.text
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 3}
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 2}
    r = alice.post("/api/v1/markers", json={"notifications": {"last_read_id": ns[0]["id"]}})
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 0}
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 0}


def test_blocked_and_muted_senders_are_not_counted(busy):
    alice, bob, carol, dave, s, m = busy
    assert alice.post(f"/api/v1/accounts/{dave.id}/block").status_code == 200
    # dave's favourite and mention disappear everywhere.
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 5}
    groups = {g["type"]: g for g in v2(alice)[0]["notification_groups"]}
    assert "mention" not in groups
    assert groups["favourite"]["notifications_count"] == 2
    assert dave.id not in groups["favourite"]["sample_account_ids"]


# ---- fetch many ----

def test_statuses_by_ids(server, alice, bob):
    a = alice.status("first")
    b = alice.status("second")
    secret = bob.status("followers only", visibility="private")
    r = alice.get("/api/v1/statuses", params={"id[]": [b["id"], "999", a["id"], "abc", b["id"],
                                                      secret["id"], "-1"]})
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [b["id"], a["id"]]  # asked order; unknown, invisible, repeated skipped
    for st in r.json():
        assert_status(st)
    assert ids(bob.get("/api/v1/statuses", params={"id[]": [secret["id"]]}).json()) == [secret["id"]]
    r = anon_get(server, "/api/v1/statuses", params={"id[]": [a["id"], secret["id"]]})
    assert r.status_code == 200 and ids(r.json()) == [a["id"]]
    assert alice.get("/api/v1/statuses").json() == []
    assert alice.get("/api/v1/statuses", params={"id": a["id"]}).json()[0]["id"] == a["id"]
    # Mastodon's bound: 20 distinct ids; more is a 422.
    assert alice.get("/api/v1/statuses", params={"id[]": [a["id"]] * 50}).status_code == 200
    too_many = [str(10**6 + i) for i in range(21)]
    assert_error(alice.get("/api/v1/statuses", params={"id[]": too_many}), 422)


def test_accounts_by_ids(server, alice, bob):
    gone = sign_up(server)
    assert server.cli("user", "suspend", gone.username).returncode == 0
    r = anon_get(server, "/api/v1/accounts",
                 params={"id[]": [bob.id, "12345", alice.id, "x", gone.id, bob.id]})
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [bob.id, alice.id]
    for a in r.json():
        assert_account(a)
    assert_error(alice.get("/api/v1/accounts", params={"id[]": [str(i) for i in range(41)]}), 422)
    assert alice.get("/api/v1/accounts", params={"id[]": [str(i) for i in range(40)]}).status_code == 200


# ---- Tag.id ----

def test_tags_have_ids(server, alice):
    tag = uniq("tag")
    s = alice.status(f"about #{tag}")
    (t,) = s["tags"]
    assert t["name"] == tag and is_id(t["id"])
    info = anon_get(server, f"/api/v1/tags/{tag}").json()
    assert info["id"] == t["id"]
    # A name nobody used has no id yet; Mastodon renders it as "".
    assert anon_get(server, f"/api/v1/tags/{uniq('unused')}").json()["id"] == ""
    found = alice.get("/api/v2/search", params={"q": f"#{tag}", "type": "hashtags"}).json()
    assert [h["id"] for h in found["hashtags"]] == [t["id"]]


# ---- sign-up errors ----

def test_sign_up_reports_every_field(server):
    token = app_token(server, create_app(server))
    r = register(server, token, username="bad name!", email="nope", password="short",
                 agreement=False, locale="English")
    body = assert_error(r, 422)
    assert body["error"].startswith("Validation failed: ")
    d = body["details"]
    assert {k: [e["error"] for e in v] for k, v in d.items()} == {
        "username": ["ERR_INVALID"], "email": ["ERR_INVALID"], "password": ["ERR_TOO_SHORT"],
        "agreement": ["ERR_ACCEPTED"], "locale": ["ERR_INCLUSION"]}
    for errs in d.values():
        assert all(isinstance(e["description"], str) and e["description"] for e in errs)
    assert "Agreement must be accepted" in body["error"]
    r = register(server, token)
    d = assert_error(r, 422)["details"]
    assert {k: [e["error"] for e in v] for k, v in d.items()} == {
        "username": ["ERR_BLANK"], "email": ["ERR_BLANK"], "password": ["ERR_BLANK"],
        "agreement": ["ERR_ACCEPTED"]}
    r = register(server, token, username="a" * 31, email="x@example.com", password="p" * 73,
                 agreement=True)
    d = assert_error(r, 422)["details"]
    assert [e["error"] for e in d["username"]] == ["ERR_TOO_LONG"]
    assert [e["error"] for e in d["password"]] == ["ERR_TOO_LONG"]
    assert set(d) == {"username", "password"}
    assert anon_get(server, "/api/v1/accounts/lookup", params={"acct": "a" * 31}).status_code == 404


def test_sign_up_taken_username_and_email(server, alice):
    token = app_token(server, create_app(server))
    r = register(server, token, username=alice.username.upper(), email=alice.email.upper(),
                 password="long enough password", agreement=True)
    body = assert_error(r, 422)
    assert body["details"]["username"][0]["error"] == "ERR_TAKEN"
    assert body["details"]["email"][0]["error"] == "ERR_TAKEN"
    assert body["details"]["username"][0]["description"] == "has already been taken"
    assert set(body["details"]) == {"username", "email"}
    # Other errors do not write anything either.
    name = uniq("u")
    r = register(server, token, username=name, email=alice.email, password="long enough password",
                 agreement=True)
    assert assert_error(r, 422)["details"].keys() == {"email"}
    assert anon_get(server, "/api/v1/accounts/lookup", params={"acct": name}).status_code == 404


# ---- self-follow, self-block, self-mute ----

def test_follow_self_is_refused_as_mastodon_does(alice):
    r = alice.post(f"/api/v1/accounts/{alice.id}/follow")
    assert assert_error(r, 403)["error"] == "Following your own account is not allowed"
    rel = alice.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()[0]
    assert rel["following"] is False and rel["requested"] is False


@pytest.mark.parametrize("action", ["block", "mute", "unfollow", "unblock", "unmute"])
def test_other_self_actions_change_nothing(alice, action):
    r = alice.post(f"/api/v1/accounts/{alice.id}/{action}")
    assert r.status_code == 200, r.text
    rel = r.json()
    assert rel["id"] == alice.id
    assert not any(rel[k] for k in ("following", "blocking", "muting", "blocked_by",
                                   "followed_by", "requested"))
    # Still visible to self and others; own statuses still in the home timeline.
    s = alice.status("still here")
    assert s["id"] in ids(alice.get("/api/v1/timelines/home").json())


# ---- instance ----

def test_instance_contact_email_and_streaming_url(server, make_server, tmp_path):
    v1 = anon_get(server, "/api/v1/instance").json()
    v2i = anon_get(server, "/api/v2/instance").json()
    assert v1["email"] == "" and v2i["contact"]["email"] == ""
    # Both entities say where streaming lives: the base URL as ws://, no path.
    expected = server.url("").rstrip("/").replace("http://", "ws://", 1)
    assert v1["urls"]["streaming_api"] == expected
    assert v2i["configuration"]["urls"]["streaming"] == expected
    s = make_server("--contact-email", "ops@example.org")
    assert anon_get(s, "/api/v1/instance").json()["email"] == "ops@example.org"
    assert anon_get(s, "/api/v2/instance").json()["contact"]["email"] == "ops@example.org"
    s = make_server(env={"HOLDFAST_CONTACT_EMAIL": "env@example.org"})
    assert anon_get(s, "/api/v2/instance").json()["contact"]["email"] == "env@example.org"
    conf = tmp_path / "holdfast.toml"
    conf.write_text('contact_email = "file@example.org"\n')
    s = make_server("--config", str(conf))
    assert anon_get(s, "/api/v1/instance").json()["email"] == "file@example.org"


def test_instance_contact_email_must_look_like_one(tmp_path):
    r = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:1", "--data-dir", str(tmp_path),
                        "--contact-email", "not an address"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "contact" in (r.stderr + r.stdout)


# ---- control characters in search and posted text ----

@pytest.mark.parametrize("q", ["a\x00b", "\x00hello", "tab\there", "bell\x07", "x\x1b[0m"])
def test_search_strips_control_characters(alice, q):
    r = alice.get("/api/v2/search", params={"q": q})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"accounts", "statuses", "hashtags"}


def test_search_of_only_control_characters_is_a_400(alice):
    assert_error(alice.get("/api/v2/search", params={"q": "\x00\x01"}), 400)


def test_status_with_a_nul_posts_and_is_found(alice):
    word = uniq("nul")
    s = alice.status(f"{word}\x00after and {word}")
    assert_status(s)
    found = alice.get("/api/v2/search", params={"q": word, "type": "statuses"})
    assert found.status_code == 200, found.text
    assert ids(found.json()["statuses"]) == [s["id"]]
    found = alice.get("/api/v2/search", params={"q": f"{word}\x00", "type": "statuses"})
    assert found.status_code == 200 and ids(found.json()["statuses"]) == [s["id"]]


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/v1/timelines/tag/a%00b", None),
    ("GET", "/api/v1/tags/a%00b", None),
    ("GET", "/api/v1/accounts/lookup?acct=a%00b", None),
    ("GET", "/api/v2/search?q=%40a%00b&type=accounts", None),
    ("GET", "/api/v2/search?q=%23a%00b&type=hashtags", None),
    ("POST", "/api/v1/statuses", {"status": "x\x00y #t\x00ag", "spoiler_text": "s\x00p"}),
    ("PATCH", "/api/v1/accounts/update_credentials", {"display_name": "n\x00m", "note": "n\x00te"}),
    ("GET", "/api/v2/notifications/a%00b/accounts", None),
    ("POST", "/api/v2/notifications/a%00b/dismiss", None),
    ("GET", "/api/v2/notifications?grouped_types[]=%00&types[]=a%00b", None),
    ("GET", "/api/v1/notifications/unread_count?types[]=a%00b", None),
])
def test_nul_in_free_text_is_never_a_500(alice, method, path, body):
    r = alice.session.request(method, alice.server.url(path), json=body, timeout=30)
    assert r.status_code in (200, 404, 422), r.text
    if r.status_code != 200:
        assert_error(r, r.status_code)
