"""Finding people: /api/v1/directory, /api/v1|v2/suggestions,
/api/v1/accounts/familiar_followers, /api/v1/accounts/search."""
import requests

from conftest import sign_up
from helpers import assert_account, assert_error, json_of, scoped_token


def ids(r):
    return [a["id"] for a in json_of(r)]


def test_suggestions_from_the_follow_graph(server, alice, bob, carol):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    bob.post(f"/api/v1/accounts/{carol.id}/follow")
    r = alice.get("/api/v1/suggestions", params={"limit": 80})
    assert r.status_code == 200
    got = ids(r)
    assert got[0] == carol.id, "a friend's friend comes first"
    assert alice.id not in got and bob.id not in got
    for a in r.json():
        assert_account(a)
    v2 = json_of(alice.get("/api/v2/suggestions", params={"limit": 3}))
    assert len(v2) <= 3
    assert v2[0]["account"]["id"] == carol.id
    assert v2[0]["source"] == "past_interactions" and v2[0]["sources"] == ["friends_of_friends"]
    for s in v2[1:]:
        assert s["sources"] in (["friends_of_friends"], ["most_followed"])
    alice.post(f"/api/v1/accounts/{carol.id}/block")
    assert carol.id not in ids(alice.get("/api/v1/suggestions", params={"limit": 80}))
    assert_error(requests.get(server.url("/api/v2/suggestions"), timeout=30), 401)


def test_familiar_followers(server, alice, bob, carol):
    dave = sign_up(server)
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    bob.post(f"/api/v1/accounts/{carol.id}/follow")
    r = alice.get("/api/v1/accounts/familiar_followers", params={"id[]": [carol.id, dave.id, "nope"]})
    body = json_of(r)
    assert [x["id"] for x in body] == [carol.id, dave.id]
    assert [a["id"] for a in body[0]["accounts"]] == [bob.id]
    assert body[1]["accounts"] == []
    too_many = {"id[]": [str(i + 1) for i in range(101)]}
    assert_error(alice.get("/api/v1/accounts/familiar_followers", params=too_many), 400)


def test_directory(server, alice):
    hidden = sign_up(server)
    hidden.patch("/api/v1/accounts/update_credentials", json={"discoverable": False})
    alice.status("I am active")
    r = requests.get(server.url("/api/v1/directory"), params={"limit": 80}, timeout=30)
    got = ids(r)
    assert alice.id in got and hidden.id not in got
    assert got[0] == alice.id, "the latest poster first"
    new = ids(requests.get(server.url("/api/v1/directory"), params={"order": "new", "limit": 2}, timeout=30))
    assert len(new) == 2
    for bad in ({"order": "sideways"}, {"offset": "-1"}, {"offset": "10001"}, {"limit": "many"}):
        assert_error(requests.get(server.url("/api/v1/directory"), params=bad, timeout=30), 400)


def test_accounts_search(server, alice, bob):
    prefix = bob.username[:12]
    r = alice.get("/api/v1/accounts/search", params={"q": prefix})
    assert bob.id in ids(r)
    assert bob.id not in ids(alice.get("/api/v1/accounts/search", params={"q": prefix, "following": "true"}))
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    assert bob.id in ids(alice.get("/api/v1/accounts/search", params={"q": prefix, "following": "true"}))
    assert_error(alice.get("/api/v1/accounts/search"), 400, 422)
    assert_error(alice.get("/api/v1/accounts/search", params={"q": "x", "limit": "many"}), 400)
    narrow = {"Authorization": f"Bearer {scoped_token(server, alice, 'read:statuses')}"}
    assert_error(requests.get(server.url("/api/v1/accounts/search"), params={"q": "x"},
                              headers=narrow, timeout=30), 403)
