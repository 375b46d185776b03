"""Who may see what: visibility levels, blocks and mutes, on every path a
status can leak through (by id, context, account statuses, timelines,
search, favourites, notifications)."""
from helpers import anon_get, assert_error, ids, uniq


def visible(client, status_id):
    r = client.get(f"/api/v1/statuses/{status_id}")
    assert r.status_code in (200, 404), r.text
    if r.status_code == 404:
        assert "error" in r.json()
    return r.status_code == 200


def public_ids_since(server, since_id):
    r = anon_get(server, "/api/v1/timelines/public", params={"since_id": since_id, "limit": 40})
    assert r.status_code == 200
    return ids(r.json())


# ---------------------------------------------------------------- levels

def test_public_visible_to_everyone(alice, bob):
    marker = bob.status("marker")
    s = alice.status("hello all")
    assert anon_get(alice.server, f"/api/v1/statuses/{s['id']}").status_code == 200
    assert visible(bob, s["id"])
    assert s["id"] in public_ids_since(alice.server, marker["id"])


def test_unlisted_visible_by_id_not_on_public(alice, bob):
    marker = bob.status("marker")
    s = alice.status("quietly", visibility="unlisted")
    assert anon_get(alice.server, f"/api/v1/statuses/{s['id']}").status_code == 200
    assert visible(bob, s["id"])
    assert s["id"] not in public_ids_since(alice.server, marker["id"])
    r = anon_get(alice.server, f"/api/v1/accounts/{alice.id}/statuses")
    assert s["id"] in ids(r.json())


def test_private_visible_to_followers_only(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    s = alice.status("followers only", visibility="private")
    assert visible(alice, s["id"])
    assert visible(bob, s["id"])
    assert not visible(carol, s["id"])
    assert_error(anon_get(alice.server, f"/api/v1/statuses/{s['id']}"), 404)
    assert s["id"] in ids(bob.get("/api/v1/timelines/home").json())


def test_private_hidden_in_account_statuses(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    pub = alice.status("public")
    priv = alice.status("private", visibility="private")
    path = f"/api/v1/accounts/{alice.id}/statuses"
    assert ids(anon_get(alice.server, path).json()) == [pub["id"]]
    assert ids(carol.get(path).json()) == [pub["id"]]
    assert ids(bob.get(path).json()) == [priv["id"], pub["id"]]
    assert ids(alice.get(path).json()) == [priv["id"], pub["id"]]


def test_private_hidden_in_context(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    priv = alice.status("private root", visibility="private")
    reply = bob.status(f"@{alice.username} public reply", in_reply_to_id=priv["id"])
    # carol can see bob's public reply but not its private parent
    assert visible(carol, reply["id"])
    ctx = carol.get(f"/api/v1/statuses/{reply['id']}/context")
    assert ctx.status_code == 200
    assert priv["id"] not in ids(ctx.json()["ancestors"])
    ctx = anon_get(alice.server, f"/api/v1/statuses/{reply['id']}/context")
    assert priv["id"] not in ids(ctx.json()["ancestors"])
    assert_error(carol.get(f"/api/v1/statuses/{priv['id']}/context"), 404)
    # bob sees the whole thread
    assert ids(bob.get(f"/api/v1/statuses/{reply['id']}/context").json()["ancestors"]) == [priv["id"]]


def test_private_replies_hidden_from_descendants(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    root = bob.status("public root")
    hidden = alice.status("private reply", visibility="private", in_reply_to_id=root["id"])
    assert ids(carol.get(f"/api/v1/statuses/{root['id']}/context").json()["descendants"]) == []
    assert ids(bob.get(f"/api/v1/statuses/{root['id']}/context").json()["descendants"]) == [hidden["id"]]


def test_private_cannot_be_favourited_or_bookmarked_by_outsiders(alice, carol):
    s = alice.status("private", visibility="private")
    assert_error(carol.post(f"/api/v1/statuses/{s['id']}/favourite"), 404)
    assert_error(carol.post(f"/api/v1/statuses/{s['id']}/bookmark"), 404)
    assert_error(carol.post(f"/api/v1/statuses/{s['id']}/reblog"), 403, 404)
    assert_error(carol.get(f"/api/v1/statuses/{s['id']}/favourited_by"), 404)
    assert_error(carol.get(f"/api/v1/statuses/{s['id']}/reblogged_by"), 404)
    got = alice.get(f"/api/v1/statuses/{s['id']}").json()
    assert got["favourites_count"] == 0 and got["reblogs_count"] == 0
    assert alice.get("/api/v1/notifications").json() == []
    assert carol.get("/api/v1/bookmarks").json() == []


def test_private_cannot_be_replied_to_by_outsiders(alice, carol):
    s = alice.status("private", visibility="private")
    r = carol.post("/api/v1/statuses", json={"status": "sneaky", "in_reply_to_id": s["id"]})
    assert_error(r, 404, 403, 422)
    assert alice.get(f"/api/v1/statuses/{s['id']}").json()["replies_count"] == 0
    assert carol.get(f"/api/v1/accounts/{carol.id}/statuses").json() == []


def test_private_visible_to_mentioned_non_follower(alice, carol):
    s = alice.status(f"@{carol.username} psst", visibility="private")
    assert visible(carol, s["id"])


def test_private_not_in_search_for_outsiders(alice, bob, carol):
    word = uniq("vis")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    s = alice.status(f"private {word}", visibility="private")
    r = carol.get("/api/v2/search", params={"q": word, "type": "statuses"})
    assert r.status_code == 200 and r.json()["statuses"] == []
    r = bob.get("/api/v2/search", params={"q": word, "type": "statuses"})
    assert ids(r.json()["statuses"]) == [s["id"]]


def test_private_tag_not_on_tag_timeline(alice, bob):
    tag = uniq("pt")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    alice.status(f"#{tag}", visibility="private")
    assert bob.get(f"/api/v1/timelines/tag/{tag}").json() == []


def test_direct_visible_to_mentioned_only(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")  # a follower, but not mentioned
    # carol follows alice, so the private mention is one she asked for (the
    # default notification policy filters private mentions from strangers).
    carol.post(f"/api/v1/accounts/{alice.id}/follow")
    s = alice.status(f"@{carol.username} just us", visibility="direct")
    assert s["visibility"] == "direct"
    assert visible(alice, s["id"])
    assert visible(carol, s["id"])
    assert not visible(bob, s["id"])
    assert_error(anon_get(alice.server, f"/api/v1/statuses/{s['id']}"), 404)
    assert s["id"] not in ids(bob.get("/api/v1/timelines/home").json())
    assert s["id"] not in ids(bob.get(f"/api/v1/accounts/{alice.id}/statuses").json())
    assert s["id"] not in ids(anon_get(alice.server,
                                       f"/api/v1/accounts/{alice.id}/statuses").json())
    assert_error(bob.get(f"/api/v1/statuses/{s['id']}/context"), 404)
    n = carol.get("/api/v1/notifications").json()
    assert [x["type"] for x in n] == ["mention"] and n[0]["status"]["id"] == s["id"]


def test_interactions_on_a_visible_status_do_not_leak_it(alice, bob, carol):
    """A private status favourited by a follower does not become visible elsewhere."""
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    s = alice.status("private", visibility="private")
    assert bob.post(f"/api/v1/statuses/{s['id']}/favourite").status_code == 200
    assert not visible(carol, s["id"])
    assert carol.get("/api/v1/favourites").json() == []


# ---------------------------------------------------------------- blocks

def test_blocked_users_statuses_hidden_from_blocker(alice, bob):
    marker = alice.status("marker")
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    s = bob.status("can you see me")
    assert s["id"] not in ids(alice.get("/api/v1/timelines/home").json())
    r = alice.get("/api/v1/timelines/public", params={"since_id": marker["id"], "limit": 40})
    assert s["id"] not in ids(r.json())
    # ...while still visible to everyone else
    assert s["id"] in public_ids_since(alice.server, marker["id"])


def test_blocked_user_gets_no_notifications_to_blocker(alice, bob):
    a = alice.status("mine")
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    bob.status(f"@{alice.username} hello?")
    bob.post(f"/api/v1/statuses/{a['id']}/favourite")
    bob.post(f"/api/v1/statuses/{a['id']}/reblog")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    assert alice.get("/api/v1/notifications").json() == []
    got = alice.get(f"/api/v1/statuses/{a['id']}").json()
    assert got["favourites_count"] == 0 and got["reblogs_count"] == 0


def test_blocked_user_cannot_see_blockers_statuses(alice, bob):
    s = alice.status("not for bob")
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    assert not visible(bob, s["id"])
    assert_error(bob.post(f"/api/v1/statuses/{s['id']}/favourite"), 404)
    assert_error(bob.post("/api/v1/statuses", json={"status": "reply",
                                                    "in_reply_to_id": s["id"]}), 404, 403, 422)


def test_blocked_users_replies_hidden_in_blockers_context(alice, bob, carol):
    root = carol.status("root")
    rep = bob.status("reply", in_reply_to_id=root["id"])
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    assert rep["id"] not in ids(alice.get(f"/api/v1/statuses/{root['id']}/context").json()["descendants"])
    assert rep["id"] in ids(carol.get(f"/api/v1/statuses/{root['id']}/context").json()["descendants"])


def test_reblogs_of_blocked_users_hidden_from_home(alice, bob, carol):
    alice.post(f"/api/v1/accounts/{carol.id}/follow")
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    b = bob.status("bob's post")
    w = carol.post(f"/api/v1/statuses/{b['id']}/reblog").json()
    assert w["id"] not in ids(alice.get("/api/v1/timelines/home").json())


# ---------------------------------------------------------------- mutes

def test_mute_hides_from_home_and_notifications(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    before = bob.status("before mute")
    alice.post(f"/api/v1/accounts/{bob.id}/mute")
    s = bob.status(f"@{alice.username} after mute")
    home = ids(alice.get("/api/v1/timelines/home").json())
    assert s["id"] not in home and before["id"] not in home
    assert [n["type"] for n in alice.get("/api/v1/notifications").json()] == []
    assert visible(alice, s["id"])  # muted, not blocked: still reachable directly
    alice.post(f"/api/v1/accounts/{bob.id}/unmute")
    home = ids(alice.get("/api/v1/timelines/home").json())
    assert s["id"] in home and before["id"] in home


def test_mute_without_notifications_keeps_notifications(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"notifications": False})
    bob.status(f"@{alice.username} ping")
    assert [n["type"] for n in alice.get("/api/v1/notifications").json()] == ["mention"]


def test_mute_hides_from_public_timeline_for_muter(alice, bob):
    marker = alice.status("marker")
    alice.post(f"/api/v1/accounts/{bob.id}/mute")
    s = bob.status("muted public")
    r = alice.get("/api/v1/timelines/public", params={"since_id": marker["id"], "limit": 40})
    assert s["id"] not in ids(r.json())
