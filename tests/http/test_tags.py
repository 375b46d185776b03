"""Hashtags: tags/:name (history, following), tags/:name/follow|unfollow,
/api/v1/followed_tags, followed tags in the home timeline (and its stream),
featured tags (/api/v1/featured_tags, suggestions, accounts/:id/featured_tags)."""
import json
import time

import pytest

from conftest import sign_up
from helpers import assert_error, json_of, link_params, parse_link, scoped_token, uniq
from streamclient import SSE

TAG_KEYS = {"id", "name", "url", "history", "following"}


def home_ids(client):
    return [s["id"] for s in json_of(client.get("/api/v1/timelines/home", params={"limit": 40}))]


def test_tag_shows_history_and_following(server, alice, bob):
    tag = uniq("hist")
    bob.status(f"#{tag} one")
    bob.status(f"#{tag} two")
    alice.status(f"#{tag} three")
    bob.status(f"#{tag} private", visibility="private")
    t = json_of(alice.get(f"/api/v1/tags/{tag.upper()}"))
    assert set(t) == TAG_KEYS and t["name"] == tag and t["following"] is False
    assert len(t["history"]) == 7
    today = t["history"][0]
    assert set(today) == {"day", "uses", "accounts"}
    assert all(isinstance(v, str) for v in today.values())
    assert int(today["day"]) <= time.time() < int(today["day"]) + 86400
    assert (today["uses"], today["accounts"]) == ("3", "2"), "public posts only"
    assert [int(d["day"]) for d in t["history"]] == [int(today["day"]) - 86400 * i for i in range(7)]
    assert all(d["uses"] == "0" for d in t["history"][1:])
    # A valid name nobody used answers too; what is not a tag name is 404.
    fresh = json_of(alice.get(f"/api/v1/tags/{uniq('fresh')}"))
    assert fresh["id"] == "" and all(d["uses"] == "0" for d in fresh["history"])
    for bad in ("12345", "a-b", "%20"):
        assert_error(alice.get(f"/api/v1/tags/{bad}"), 404)


def test_follow_unfollow_and_followed_tags(server, alice):
    a, b = uniq("fa"), uniq("fb")
    t = json_of(alice.post(f"/api/v1/tags/{a}/follow"))
    assert set(t) == TAG_KEYS and t["following"] is True and t["name"] == a
    assert json_of(alice.post(f"/api/v1/tags/#{a}/follow".replace("#", "%23")))["following"] is True
    json_of(alice.post(f"/api/v1/tags/{b.upper()}/follow"))
    assert json_of(alice.get(f"/api/v1/tags/{a}"))["following"] is True
    r = alice.get("/api/v1/followed_tags", params={"limit": 1})
    assert [x["name"] for x in json_of(r)] == [b]
    r2 = alice.get("/api/v1/followed_tags", params={"limit": 1, "max_id": link_params(parse_link(r)["next"])["max_id"]})
    assert [x["name"] for x in json_of(r2)] == [a]
    assert json_of(alice.post(f"/api/v1/tags/{a}/unfollow"))["following"] is False
    assert json_of(alice.post(f"/api/v1/tags/{a}/unfollow"))["following"] is False  # again: fine
    assert [x["name"] for x in json_of(alice.get("/api/v1/followed_tags"))] == [b]
    for bad in ("123", "no-dash"):
        assert_error(alice.post(f"/api/v1/tags/{bad}/follow"), 404)
    assert [x["name"] for x in json_of(alice.get("/api/v1/followed_tags"))] == [b]


def test_tag_routes_need_the_right_scope(server, alice):
    read_only = scoped_token(server, alice, "read")
    r = alice.post(f"/api/v1/tags/{uniq('s')}/follow", headers={"Authorization": f"Bearer {read_only}"})
    assert_error(r, 403)
    assert_error(alice.post(f"/api/v1/tags/{uniq('s')}/follow", headers={"Authorization": "Bearer nope"}), 401)


def test_followed_tag_feeds_home_without_leaks(server):
    me, stranger, blocked, muted, friend = (sign_up(server) for _ in range(5))
    tag = uniq("feed")
    me.post(f"/api/v1/accounts/{friend.id}/follow")
    me.post(f"/api/v1/tags/{tag}/follow")
    me.post(f"/api/v1/accounts/{blocked.id}/block")
    me.post(f"/api/v1/accounts/{muted.id}/mute")
    public = stranger.status(f"#{tag} for everyone")
    leaks = [
        stranger.status(f"#{tag} followers only", visibility="private"),
        stranger.status(f"#{tag} unlisted", visibility="unlisted"),
        stranger.status(f"#{tag} direct to someone", visibility="direct"),
        blocked.status(f"#{tag} from a blocked author"),
        muted.status(f"#{tag} from a muted author"),
    ]
    boost = json_of(muted.post(f"/api/v1/statuses/{public['id']}/reblog"))
    ids = home_ids(me)
    assert public["id"] in ids
    assert not {s["id"] for s in leaks} & set(ids), ids
    assert boost["id"] not in ids
    # A private tagged post of someone followed arrives as any of their posts.
    mine = friend.status(f"#{tag} friends only", visibility="private")
    assert mine["id"] in home_ids(me)
    # Unfollowing the tag takes the stranger's post out again.
    me.post(f"/api/v1/tags/{tag}/unfollow")
    ids = home_ids(me)
    assert public["id"] not in ids and mine["id"] in ids


def test_followed_tag_reaches_the_home_stream(server):
    me, stranger = sign_up(server), sign_up(server)
    tag = uniq("live")
    me.post(f"/api/v1/tags/{tag}/follow")
    home = SSE(server, "/api/v1/streaming/user", me.token)
    time.sleep(0.3)
    hidden = stranger.status(f"#{tag} hidden", visibility="private")
    shown = stranger.status(f"#{tag} shown")
    kind, data = home.next({"update"})
    assert json.loads(data)["id"] == shown["id"], "the private post came first" if json.loads(data)["id"] == hidden["id"] else data
    home.close()


def test_featured_tags(server, alice, bob):
    cats, dogs = uniq("cats"), uniq("dogs")
    for text, vis in ((f"#{cats} a", "public"), (f"#{cats} b", "unlisted"), (f"#{cats} c", "private"), (f"#{dogs}", "public")):
        alice.status(text, visibility=vis)
    suggested = json_of(alice.get("/api/v1/featured_tags/suggestions"))
    names = [t["name"] for t in suggested]
    assert names[:2] == [cats, dogs] and all("history" in t for t in suggested)
    assert json_of(alice.get("/api/v1/featured_tags")) == []
    f = json_of(alice.post("/api/v1/featured_tags", data={"name": f"#{cats.upper()}"}))
    assert set(f) == {"id", "name", "url", "statuses_count", "last_status_at"}
    assert f["name"] == cats and f["statuses_count"] == "2"
    assert f["url"].endswith(f"/@{alice.username}/tagged/{cats}")
    assert len(f["last_status_at"]) == 10  # a date
    assert_error(alice.post("/api/v1/featured_tags", json={"name": cats}), 422)  # already featured
    assert [t["name"] for t in json_of(alice.get("/api/v1/featured_tags/suggestions"))][:1] == [dogs]
    listed = json_of(bob.get(f"/api/v1/accounts/{alice.id}/featured_tags"))
    assert [t["id"] for t in listed] == [f["id"]]
    anonymous = json_of(server_get(server, f"/api/v1/accounts/{alice.id}/featured_tags"))
    assert [t["id"] for t in anonymous] == [f["id"]]
    assert_error(bob.delete(f"/api/v1/featured_tags/{f['id']}"), 404)  # not bob's
    r = alice.delete(f"/api/v1/featured_tags/{f['id']}")
    assert r.status_code == 200 and r.json() == {}
    assert json_of(alice.get("/api/v1/featured_tags")) == []
    assert_error(alice.delete(f"/api/v1/featured_tags/{f['id']}"), 404)
    assert_error(alice.delete("/api/v1/featured_tags/abc"), 404)
    assert_error(alice.get("/api/v1/accounts/999999999999/featured_tags"), 404)


@pytest.mark.parametrize("name", ["", "a-b", "1234", "two words"])
def test_featured_tag_bad_names_change_nothing(server, alice, name):
    assert_error(alice.post("/api/v1/featured_tags", json={"name": name}), 422)
    assert json_of(alice.get("/api/v1/featured_tags")) == []


def test_featured_tag_limit(server):
    me = sign_up(server)
    for i in range(10):
        assert me.post("/api/v1/featured_tags", json={"name": uniq(f"lim{i}x")}).status_code == 200
    body = assert_error(me.post("/api/v1/featured_tags", json={"name": uniq("over")}), 422)
    assert "too many" in body["error"]
    assert len(json_of(me.get("/api/v1/featured_tags"))) == 10


def server_get(server, path):
    import requests
    return requests.get(server.url(path), timeout=30)
