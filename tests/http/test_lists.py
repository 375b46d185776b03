"""Lists: CRUD, members, /api/v1/timelines/list/:id (replies_policy, exclusive),
/api/v1/accounts/:id/lists; someone else's list is 404; bounds."""
import pytest
import requests

from conftest import sign_up, suite_config_with
from helpers import assert_account, assert_error, json_of, link_params, parse_link, scoped_token

LIST_KEYS = {"id", "title", "replies_policy", "exclusive"}


def ids(r):
    return [x["id"] for x in json_of(r)]


def make_list(client, title="friends", **fields):
    r = client.post("/api/v1/lists", json={"title": title, **fields})
    body = json_of(r)
    assert r.status_code == 200, body
    assert set(body) == LIST_KEYS
    return body


def follow(client, *others):
    for o in others:
        assert json_of(client.post(f"/api/v1/accounts/{o.id}/follow"))["following"]


def test_list_crud(alice):
    made = make_list(alice, "  Friends  ")
    assert made["title"] == "Friends" and made["replies_policy"] == "list" and made["exclusive"] is False
    assert json_of(alice.get(f"/api/v1/lists/{made['id']}")) == made
    r = alice.put(f"/api/v1/lists/{made['id']}", data={"replies_policy": "none", "exclusive": "true"})
    changed = json_of(r)
    assert changed == {**made, "replies_policy": "none", "exclusive": True}
    r = alice.put(f"/api/v1/lists/{made['id']}", json={"title": "Close friends"})
    assert json_of(r)["title"] == "Close friends" and r.json()["replies_policy"] == "none"
    other = make_list(alice, "work", replies_policy="followed")
    assert ids(alice.get("/api/v1/lists")) == [made["id"], other["id"]]
    r = alice.delete(f"/api/v1/lists/{made['id']}")
    assert r.status_code == 200 and r.json() == {}
    assert_error(alice.get(f"/api/v1/lists/{made['id']}"), 404)
    assert ids(alice.get("/api/v1/lists")) == [other["id"]]


@pytest.mark.parametrize("body", [
    {"title": ""}, {"title": "   "}, {}, {"title": "x" * 257},
    {"title": "ok", "replies_policy": "everyone"}, {"title": "ok", "exclusive": "maybe"},
])
def test_bad_list_fields_change_nothing(alice, body):
    assert_error(alice.post("/api/v1/lists", json=body), 422)
    assert json_of(alice.get("/api/v1/lists")) == []


def test_someone_elses_list_is_404(alice, bob):
    follow(alice, bob)
    mine = make_list(alice)
    alice.post(f"/api/v1/lists/{mine['id']}/accounts", json={"account_ids": [bob.id]})
    lid = mine["id"]
    for r in (bob.get(f"/api/v1/lists/{lid}"),
              bob.put(f"/api/v1/lists/{lid}", json={"title": "mine now"}),
              bob.delete(f"/api/v1/lists/{lid}"),
              bob.get(f"/api/v1/lists/{lid}/accounts"),
              bob.post(f"/api/v1/lists/{lid}/accounts", json={"account_ids": [alice.id]}),
              bob.delete(f"/api/v1/lists/{lid}/accounts", json={"account_ids": [bob.id]}),
              bob.get(f"/api/v1/timelines/list/{lid}")):
        assert_error(r, 404)
    assert json_of(alice.get(f"/api/v1/lists/{lid}")) == mine
    assert ids(alice.get(f"/api/v1/lists/{lid}/accounts")) == [bob.id]
    assert json_of(bob.get(f"/api/v1/accounts/{bob.id}/lists")) == []
    for path in ("/api/v1/lists/999999999999", "/api/v1/lists/nope", "/api/v1/timelines/list/nope"):
        assert_error(alice.get(path), 404)


def test_members_add_list_remove(server, alice):
    friends = [sign_up(server) for _ in range(3)]
    stranger = sign_up(server)
    follow(alice, *friends)
    lst = make_list(alice)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    r = alice.post(path, data={"account_ids[]": [f.id for f in friends]})
    assert r.status_code == 200 and r.json() == {}
    # Again: harmless.
    assert alice.post(path, json={"account_ids": [friends[0].id]}).status_code == 200
    r = alice.get(path, params={"limit": 2})
    page1 = ids(r)
    assert len(page1) == 2
    for a in r.json():
        assert_account(a)
    r2 = alice.get(path, params={"limit": 2, "max_id": link_params(parse_link(r)["next"])["max_id"]})
    assert set(page1 + ids(r2)) == {f.id for f in friends}
    assert set(ids(alice.get(path, params={"limit": 0}))) == {f.id for f in friends}, "limit=0: all"
    # Not followed: 422 and nothing added; unknown or malformed: 404.
    assert_error(alice.post(path, json={"account_ids": [friends[0].id, stranger.id]}), 422)
    assert_error(alice.post(path, json={"account_ids": ["999999999999"]}), 404)
    assert_error(alice.post(path, json={"account_ids": ["abc"]}), 404)
    assert stranger.id not in ids(alice.get(path, params={"limit": 0}))
    lists_of = json_of(alice.get(f"/api/v1/accounts/{friends[1].id}/lists"))
    assert [x["id"] for x in lists_of] == [lst["id"]] and set(lists_of[0]) == LIST_KEYS
    assert json_of(alice.get(f"/api/v1/accounts/{stranger.id}/lists")) == []
    r = alice.delete(path, data={"account_ids[]": [friends[1].id]})
    assert r.status_code == 200 and r.json() == {}
    assert friends[1].id not in ids(alice.get(path, params={"limit": 0}))
    # Unfollowing takes an account out of the lists.
    alice.post(f"/api/v1/accounts/{friends[0].id}/unfollow")
    assert ids(alice.get(path, params={"limit": 0})) == [friends[2].id]


def test_list_timeline_replies_policy_and_exclusive(server, alice, bob, carol):
    far = sign_up(server)
    follow(alice, bob, carol)
    lst = make_list(alice)
    alice.post(f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [bob.id]})
    plain = bob.status("in the list")
    to_carol = bob.status(f"@{carol.username} hi", in_reply_to_id=carol.status("carol")["id"])
    to_far = bob.status(f"@{far.username} hi", in_reply_to_id=far.status("far")["id"])
    carol_post = carol.status("not in the list")
    tl = f"/api/v1/timelines/list/{lst['id']}"

    def seen(policy):
        alice.put(f"/api/v1/lists/{lst['id']}", json={"replies_policy": policy})
        r = alice.get(tl)
        assert r.status_code == 200
        return ids(r)

    assert seen("list") == [plain["id"]]
    assert seen("none") == [plain["id"]]
    assert seen("followed") == [to_carol["id"], plain["id"]]
    assert to_far["id"] not in seen("followed") and carol_post["id"] not in seen("followed")
    home = ids(alice.get("/api/v1/timelines/home"))
    assert plain["id"] in home and carol_post["id"] in home
    alice.put(f"/api/v1/lists/{lst['id']}", json={"exclusive": True})
    home = ids(alice.get("/api/v1/timelines/home"))
    assert plain["id"] not in home and carol_post["id"] in home
    assert plain["id"] in ids(alice.get(tl))


def test_lists_per_account_bound(make_server):
    s = make_server("--config", suite_config_with(lists_per_account_max=2, list_title_max_chars=5))
    me = sign_up(s)
    assert_error(me.post("/api/v1/lists", json={"title": "sixsix"}), 422)
    make_list(me, "a")
    make_list(me, "b")
    assert_error(me.post("/api/v1/lists", json={"title": "c"}), 422)
    assert len(json_of(me.get("/api/v1/lists"))) == 2


def test_lists_need_their_scopes(server, alice):
    lst = make_list(alice)
    read_only = {"Authorization": f"Bearer {scoped_token(server, alice, 'read:lists')}"}
    assert requests.get(server.url("/api/v1/lists"), headers=read_only, timeout=30).status_code == 200
    assert_error(requests.post(server.url("/api/v1/lists"), headers=read_only,
                               json={"title": "x"}, timeout=30), 403)
    assert_error(requests.delete(server.url(f"/api/v1/lists/{lst['id']}"), headers=read_only,
                                 timeout=30), 403)
    assert_error(requests.get(server.url("/api/v1/lists"), timeout=30), 401)
    assert_error(requests.get(server.url(f"/api/v1/timelines/list/{lst['id']}"), timeout=30), 401)
