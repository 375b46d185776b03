"""Home, public and hashtag timelines, and the favourites list."""
from helpers import anon_get, assert_error, assert_status, desc, ids, uniq


def public_since(client_or_server, since_id, **params):
    path = "/api/v1/timelines/public"
    params = {"since_id": since_id, "limit": 40, **params}
    if hasattr(client_or_server, "get") and hasattr(client_or_server, "token"):
        r = client_or_server.get(path, params=params)
    else:
        r = anon_get(client_or_server, path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- home

def test_home_requires_auth(server):
    assert_error(anon_get(server, "/api/v1/timelines/home"), 401)


def test_home_has_own_and_followed_newest_first(alice, bob, carol):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    b1 = bob.status("bob 1")
    c1 = carol.status("carol, not followed")
    a1 = alice.status("alice own")
    b2 = bob.status("bob 2")
    r = alice.get("/api/v1/timelines/home")
    assert r.status_code == 200, r.text
    home = r.json()
    for s in home:
        assert_status(s)
    assert ids(home) == [b2["id"], a1["id"], b1["id"]]
    assert c1["id"] not in ids(home)


def test_home_includes_private_from_followed_and_excludes_after_unfollow(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    p = bob.status("for followers", visibility="private")
    u = bob.status("unlisted", visibility="unlisted")
    home = ids(alice.get("/api/v1/timelines/home").json())
    assert p["id"] in home and u["id"] in home
    alice.post(f"/api/v1/accounts/{bob.id}/unfollow")
    home = ids(alice.get("/api/v1/timelines/home").json())
    assert p["id"] not in home and u["id"] not in home


def test_home_shows_reblogs_by_followed(alice, bob, carol):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    c = carol.status("carol's thought")
    w = bob.post(f"/api/v1/statuses/{c['id']}/reblog").json()
    home = alice.get("/api/v1/timelines/home").json()
    assert ids(home) == [w["id"]]
    assert home[0]["reblog"]["id"] == c["id"]
    assert home[0]["account"]["id"] == bob.id


def test_home_hides_reblogs_when_showing_reblogs_false(alice, bob, carol):
    alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": False})
    c = carol.status("carol again")
    bob.post(f"/api/v1/statuses/{c['id']}/reblog")
    own = bob.status("bob's own")
    assert ids(alice.get("/api/v1/timelines/home").json()) == [own["id"]]


def test_home_excludes_deleted(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    s = bob.status("soon gone")
    assert s["id"] in ids(alice.get("/api/v1/timelines/home").json())
    bob.delete(f"/api/v1/statuses/{s['id']}")
    assert s["id"] not in ids(alice.get("/api/v1/timelines/home").json())


# ---------------------------------------------------------------- public

def test_public_timeline_anonymous(alice, bob):
    marker = alice.status("marker")
    p = bob.status("public one")
    u = bob.status("unlisted one", visibility="unlisted")
    pr = bob.status("private one", visibility="private")
    d = bob.status(f"@{alice.username} direct one", visibility="direct")
    got = public_since(alice.server, marker["id"])
    for s in got:
        assert_status(s, anonymous=True)
        assert s["visibility"] == "public"
    assert p["id"] in ids(got)
    for hidden in (u, pr, d):
        assert hidden["id"] not in ids(got)
    assert desc(ids(got))


def test_public_timeline_local_flag(alice):
    marker = alice.status("marker")
    p = alice.status("local public")
    got = public_since(alice.server, marker["id"], local="true")
    assert p["id"] in ids(got)
    got = public_since(alice, marker["id"], local="true")
    assert p["id"] in ids(got)
    got = public_since(alice.server, marker["id"], remote="true")
    assert p["id"] not in ids(got)


def test_public_timeline_excludes_reblogs(alice, bob):
    marker = alice.status("marker")
    s = alice.status("to boost")
    w = bob.post(f"/api/v1/statuses/{s['id']}/reblog").json()
    got = ids(public_since(alice.server, marker["id"]))
    assert s["id"] in got
    assert w["id"] not in got  # Mastodon's public timeline does not carry reblogs


# ---------------------------------------------------------------- hashtag

def test_tag_timeline(alice, bob):
    tag = uniq("tl")
    t1 = alice.status(f"first #{tag}")
    bob.status("no tag here")
    t2 = bob.status(f"second #{tag.upper()}")
    u = bob.status(f"unlisted #{tag}", visibility="unlisted")
    pr = bob.status(f"private #{tag}", visibility="private")
    r = anon_get(alice.server, f"/api/v1/timelines/tag/{tag}")
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [t2["id"], t1["id"]]
    assert u["id"] not in ids(r.json()) and pr["id"] not in ids(r.json())
    r = alice.get(f"/api/v1/timelines/tag/{tag.upper()}")
    assert ids(r.json()) == [t2["id"], t1["id"]]


def test_tag_timeline_unknown_tag_is_empty(server):
    r = anon_get(server, f"/api/v1/timelines/tag/{uniq('none')}")
    assert r.status_code == 200
    assert r.json() == []


def test_tag_timeline_local_flag(alice):
    tag = uniq("loc")
    s = alice.status(f"#{tag}")
    r = anon_get(alice.server, f"/api/v1/timelines/tag/{tag}", params={"local": "true"})
    assert r.status_code == 200 and ids(r.json()) == [s["id"]]


# ---------------------------------------------------------------- favourites list

def test_favourites_list(alice, bob):
    s1 = bob.status("fav 1")
    s2 = bob.status("fav 2")
    s3 = bob.status("not faved")
    alice.post(f"/api/v1/statuses/{s2['id']}/favourite")
    alice.post(f"/api/v1/statuses/{s1['id']}/favourite")
    r = alice.get("/api/v1/favourites")
    assert r.status_code == 200, r.text
    favs = r.json()
    for s in favs:
        assert_status(s)
        assert s["favourited"] is True
    # ordered by when they were favourited, most recent first
    assert ids(favs) == [s1["id"], s2["id"]]
    assert s3["id"] not in ids(favs)
    assert bob.get("/api/v1/favourites").json() == []
    alice.post(f"/api/v1/statuses/{s1['id']}/unfavourite")
    assert ids(alice.get("/api/v1/favourites").json()) == [s2["id"]]


def test_favourites_requires_auth(server):
    assert_error(anon_get(server, "/api/v1/favourites"), 401)
