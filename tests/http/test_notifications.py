"""Notifications: follow, mention, favourite, reblog; filters, dismiss, clear."""
from helpers import (NOTIFICATION_KEYS, anon_get, assert_account, assert_error, assert_status,
                     desc, ids, is_datetime, is_id)


def notifs(client, **params):
    r = client.get("/api/v1/notifications", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def assert_notification(n, type_=None):
    missing = NOTIFICATION_KEYS - set(n)
    assert not missing, f"notification lacks {missing}: {n}"
    assert is_id(n["id"])
    assert is_datetime(n["created_at"])
    assert_account(n["account"])
    if type_:
        assert n["type"] == type_, n


def test_requires_auth(server):
    assert_error(anon_get(server, "/api/v1/notifications"), 401)
    assert_error(anon_get(server, "/api/v1/notifications/1"), 401)


def test_follow_notification(alice, bob):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    ns = notifs(alice)
    assert len(ns) == 1
    assert_notification(ns[0], "follow")
    assert ns[0]["account"]["id"] == bob.id
    assert ns[0].get("status") is None
    assert notifs(bob) == []


def test_mention_notification(alice, bob):
    s = bob.status(f"hey @{alice.username}")
    ns = notifs(alice)
    assert len(ns) == 1
    assert_notification(ns[0], "mention")
    assert ns[0]["account"]["id"] == bob.id
    assert_status(ns[0]["status"])
    assert ns[0]["status"]["id"] == s["id"]


def test_favourite_and_reblog_notifications(alice, bob):
    s = alice.status("notable")
    bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    bob.post(f"/api/v1/statuses/{s['id']}/reblog")
    ns = notifs(alice)
    assert [n["type"] for n in ns] == ["reblog", "favourite"]  # newest first
    for n in ns:
        assert_notification(n)
        assert n["account"]["id"] == bob.id
        assert n["status"]["id"] == s["id"]  # the original, not the reblog wrapper
    assert desc(ids(ns))


def test_repeated_favourite_gives_one_notification(alice, bob):
    s = alice.status("fav twice")
    bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    assert [n["type"] for n in notifs(alice)] == ["favourite"]


def test_no_notifications_for_own_actions(alice):
    s = alice.status(f"talking to myself @{alice.username}")
    alice.post(f"/api/v1/statuses/{s['id']}/favourite")
    alice.post(f"/api/v1/statuses/{s['id']}/reblog")
    assert notifs(alice) == []


def test_types_and_exclude_types_filters(alice, bob):
    s = alice.status("filter me")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    bob.status(f"@{alice.username} mention")
    assert [n["type"] for n in notifs(alice, **{"types[]": "mention"})] == ["mention"]
    got = alice.get("/api/v1/notifications",
                    params=[("types[]", "follow"), ("types[]", "favourite")]).json()
    assert [n["type"] for n in got] == ["favourite", "follow"]
    got = alice.get("/api/v1/notifications",
                    params=[("exclude_types[]", "follow"), ("exclude_types[]", "mention")]).json()
    assert [n["type"] for n in got] == ["favourite"]


def test_get_single_notification(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    n = notifs(alice)[0]
    r = alice.get(f"/api/v1/notifications/{n['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == n["id"] and r.json()["type"] == "follow"
    # someone else's notification is not found
    assert_error(carol.get(f"/api/v1/notifications/{n['id']}"), 404)
    assert_error(alice.get("/api/v1/notifications/999999999999999999"), 404)


def test_dismiss(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    carol.post(f"/api/v1/accounts/{alice.id}/follow")
    ns = notifs(alice)
    assert len(ns) == 2
    target = ns[0]["id"]
    # others cannot dismiss it
    r = carol.post(f"/api/v1/notifications/{target}/dismiss")
    assert_error(r, 404)
    assert len(notifs(alice)) == 2
    r = alice.post(f"/api/v1/notifications/{target}/dismiss")
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert ids(notifs(alice)) == [ns[1]["id"]]
    assert_error(alice.get(f"/api/v1/notifications/{target}"), 404)


def test_clear(alice, bob, carol):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    carol.status(f"@{alice.username} hello")
    bob.post(f"/api/v1/accounts/{carol.id}/follow")
    assert len(notifs(alice)) == 2
    r = alice.post("/api/v1/notifications/clear")
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert notifs(alice) == []
    assert len(notifs(carol)) == 1  # other users' notifications untouched


def test_notification_requires_read_notifications_scope(alice, bob):
    from helpers import scoped_token, tget
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    tok = scoped_token(alice.server, alice, "read:statuses")
    assert_error(tget(alice.server, tok, "/api/v1/notifications"), 403)
    tok = scoped_token(alice.server, alice, "read:notifications")
    r = tget(alice.server, tok, "/api/v1/notifications")
    assert r.status_code == 200 and len(r.json()) == 1


def test_deleted_status_notification_disappears(alice, bob):
    s = bob.status(f"@{alice.username} oops")
    assert len(notifs(alice)) == 1
    bob.delete(f"/api/v1/statuses/{s['id']}")
    assert notifs(alice) == []
