"""Timeline markers and the bookmarks list."""
from helpers import (anon_get, assert_error, assert_status, ids, is_datetime, scoped_token,
                     tget, tpost)


def get_markers(client, *timelines):
    r = client.get("/api/v1/markers", params=[("timeline[]", t) for t in timelines])
    assert r.status_code == 200, r.text
    return r.json()


def assert_marker(m, last_read_id):
    assert m["last_read_id"] == last_read_id
    assert isinstance(m["version"], int)
    assert is_datetime(m["updated_at"])


# ---------------------------------------------------------------- markers

def test_markers_empty(alice):
    assert get_markers(alice, "home", "notifications") == {}
    assert get_markers(alice) == {}


def test_markers_requires_auth(server):
    assert_error(anon_get(server, "/api/v1/markers"), 401)


def test_set_home_marker_form(alice):
    s = alice.status("read up to here")
    r = alice.post("/api/v1/markers", data={"home[last_read_id]": s["id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"home"}
    assert_marker(body["home"], s["id"])
    got = get_markers(alice, "home", "notifications")
    assert set(got) == {"home"}
    assert_marker(got["home"], s["id"])


def test_set_markers_json_and_filter(alice, bob):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    n = alice.get("/api/v1/notifications").json()[0]
    s = alice.status("x")
    r = alice.post("/api/v1/markers", json={"home": {"last_read_id": s["id"]},
                                            "notifications": {"last_read_id": n["id"]}})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"home", "notifications"}
    got = get_markers(alice, "home", "notifications")
    assert_marker(got["home"], s["id"])
    assert_marker(got["notifications"], n["id"])
    only = get_markers(alice, "notifications")
    assert set(only) == {"notifications"}


def test_marker_version_increments(alice):
    a = alice.status("a")
    b = alice.status("b")
    v1 = alice.post("/api/v1/markers", json={"home": {"last_read_id": a["id"]}}).json()
    v2 = alice.post("/api/v1/markers", json={"home": {"last_read_id": b["id"]}}).json()
    assert v2["home"]["version"] > v1["home"]["version"]
    assert get_markers(alice, "home")["home"]["last_read_id"] == b["id"]


def test_markers_are_per_user(alice, bob):
    s = alice.status("x")
    alice.post("/api/v1/markers", json={"home": {"last_read_id": s["id"]}})
    assert get_markers(bob, "home", "notifications") == {}


def test_markers_scopes(alice):
    s = alice.status("x")
    ro = scoped_token(alice.server, alice, "read")
    r = tpost(alice.server, ro, "/api/v1/markers", json={"home": {"last_read_id": s["id"]}})
    assert_error(r, 403)
    assert get_markers(alice, "home") == {}
    assert tget(alice.server, ro, "/api/v1/markers", params={"timeline[]": "home"}).status_code \
        == 200


# ---------------------------------------------------------------- bookmarks

def test_bookmarks_list(alice, bob):
    s1 = bob.status("one")
    s2 = bob.status("two")
    s3 = bob.status("three")
    alice.post(f"/api/v1/statuses/{s1['id']}/bookmark")
    alice.post(f"/api/v1/statuses/{s3['id']}/bookmark")
    r = alice.get("/api/v1/bookmarks")
    assert r.status_code == 200, r.text
    bm = r.json()
    for s in bm:
        assert_status(s)
        assert s["bookmarked"] is True
    assert ids(bm) == [s3["id"], s1["id"]]  # most recently bookmarked first
    assert s2["id"] not in ids(bm)
    assert bob.get("/api/v1/bookmarks").json() == []  # bookmarks are private
    alice.post(f"/api/v1/statuses/{s3['id']}/unbookmark")
    assert ids(alice.get("/api/v1/bookmarks").json()) == [s1["id"]]


def test_bookmarks_order_is_bookmark_time(alice, bob):
    old = bob.status("old")
    new = bob.status("new")
    alice.post(f"/api/v1/statuses/{new['id']}/bookmark")
    alice.post(f"/api/v1/statuses/{old['id']}/bookmark")
    assert ids(alice.get("/api/v1/bookmarks").json()) == [old["id"], new["id"]]


def test_bookmarks_pagination(alice, bob):
    from helpers import parse_link, path_and_query
    posted = [bob.status(f"bm {i}")["id"] for i in range(5)]
    for sid in posted:
        alice.post(f"/api/v1/statuses/{sid}/bookmark")
    r = alice.get("/api/v1/bookmarks", params={"limit": 2})
    seen = ids(r.json())
    assert len(seen) == 2
    for _ in range(5):
        nxt = parse_link(r).get("next")
        if not nxt:
            break
        r = alice.get(path_and_query(nxt))
        if not r.json():
            break
        seen += ids(r.json())
    assert seen == list(reversed(posted))


def test_bookmarks_requires_auth(server):
    assert_error(anon_get(server, "/api/v1/bookmarks"), 401)


def test_deleted_status_leaves_bookmarks(alice, bob):
    s = bob.status("gone soon")
    alice.post(f"/api/v1/statuses/{s['id']}/bookmark")
    bob.delete(f"/api/v1/statuses/{s['id']}")
    assert alice.get("/api/v1/bookmarks").json() == []

