"""Collections (Mastodon 4.6's featured collections): /api/v1/collections and
its items, accounts/:id/collections and accounts/:id/in_collections. Who may
do what, the shapes, the bounds (25 accounts per collection, 10 collections
per account), and Mastodon's nested 422 for validation failures."""
from conftest import sign_up
from helpers import anon_get, assert_account, assert_error, is_datetime, is_id, json_of, link_params, parse_link, scoped_token, uniq

COLLECTION_KEYS = {
    "id", "account_id", "uri", "url", "name", "description", "language", "local",
    "sensitive", "discoverable", "tag", "item_count", "items", "created_at", "updated_at",
}


def assert_collection(c):
    assert set(c) == COLLECTION_KEYS, c
    assert is_id(c["id"]) and is_id(c["account_id"])
    assert c["local"] is True and c["item_count"] == len(c["items"])
    assert is_datetime(c["created_at"]) and is_datetime(c["updated_at"])
    for item in c["items"]:
        assert set(item) == {"id", "account_id", "state", "created_at"}
        assert item["state"] == "accepted" and is_id(item["account_id"])
    return c


def create(client, **fields):
    r = client.post("/api/v1/collections", json={"name": uniq("c")[:30], **fields})
    body = json_of(r)
    assert r.status_code == 200, body
    return assert_collection(body["collection"])


def nested_422(r, field):
    """Mastodon's collections nest validation errors: {"error": {"error", "details"}}."""
    assert r.status_code == 422, r.text
    body = json_of(r)["error"]
    assert isinstance(body["error"], str) and body["error"].startswith("Validation failed")
    assert body["details"][field][0]["error"].startswith("ERR_")
    return body


def test_create_show_update_delete(server, alice, bob, carol):
    c = create(alice, description="Worth following", language="en", tag_name="#People",
               sensitive=False, discoverable=True, account_ids=[bob.id, carol.id, bob.id])
    assert c["account_id"] == alice.id and c["name"].startswith("c")
    assert c["tag"]["name"] == "people" and c["tag"]["url"].endswith("/tags/people")
    assert [i["account_id"] for i in c["items"]] == [bob.id, carol.id], "distinct, in order"
    shown = json_of(anon_get(server, f"/api/v1/collections/{c['id']}"))
    assert set(shown) == {"accounts", "collection"}
    assert_collection(shown["collection"])
    assert [a["id"] for a in shown["accounts"]] == [alice.id, bob.id, carol.id], "owner first"
    for a in shown["accounts"]:
        assert_account(a)
    r = alice.patch(f"/api/v1/collections/{c['id']}", json={"name": "Renamed", "tag_name": "", "discoverable": False})
    u = assert_collection(json_of(r)["collection"])
    assert (u["name"], u["tag"], u["discoverable"], u["description"]) == ("Renamed", None, False, "Worth following")
    assert u["updated_at"] >= c["updated_at"] and u["created_at"] == c["created_at"]
    assert json_of(alice.delete(f"/api/v1/collections/{c['id']}")) == {}
    assert_error(anon_get(server, f"/api/v1/collections/{c['id']}"), 404)
    assert_error(alice.delete(f"/api/v1/collections/{c['id']}"), 404)


def test_only_the_owner_changes_a_collection(server, alice, bob, carol):
    c = create(alice, account_ids=[carol.id])
    path = f"/api/v1/collections/{c['id']}"
    assert_error(bob.patch(path, json={"name": "mine now"}), 403)
    assert_error(bob.delete(path), 403)
    assert_error(bob.post(f"{path}/items", json={"account_id": bob.id}), 403)
    item = c["items"][0]["id"]
    assert_error(bob.delete(f"{path}/items/{item}"), 403)
    assert_error(bob.post(f"{path}/items/{item}/revoke"), 403, )
    after = json_of(anon_get(server, path))["collection"]
    assert after["name"] == c["name"] and [i["id"] for i in after["items"]] == [item]
    # Unknown collections and items are 404 for everyone.
    for bad in ("999999999", "nope"):
        assert_error(alice.patch(f"/api/v1/collections/{bad}", json={"name": "x"}), 404)
        assert_error(anon_get(server, f"/api/v1/collections/{bad}"), 404)
    assert_error(alice.delete(f"{path}/items/999999999"), 404)


def test_items_add_remove_revoke(server, alice, bob, carol):
    c = create(alice)
    path = f"/api/v1/collections/{c['id']}"
    r = alice.post(f"{path}/items", json={"account_id": bob.id})
    item = json_of(r)["collection_item"]
    assert set(item) == {"id", "account_id", "state", "created_at"} and item["account_id"] == bob.id
    assert_error(alice.post(f"{path}/items", json={"account_id": bob.id}), 422)  # in already
    assert_error(alice.post(f"{path}/items", json={}), 422)
    assert_error(alice.post(f"{path}/items", json={"account_id": "999999999"}), 404)
    carol_item = json_of(alice.post(f"{path}/items", json={"account_id": carol.id}))["collection_item"]
    # Bob takes himself out; carol's item is not his to revoke.
    assert_error(bob.post(f"{path}/items/{carol_item['id']}/revoke"), 403)
    assert json_of(bob.post(f"{path}/items/{item['id']}/revoke")) == {}
    assert json_of(alice.delete(f"{path}/items/{carol_item['id']}")) == {}
    assert json_of(anon_get(server, path))["collection"]["items"] == []
    assert_error(alice.delete(f"{path}/items/{carol_item['id']}"), 404)


def test_who_may_be_featured(server, alice):
    private_person, blocker, blocked = (sign_up(server) for _ in range(3))
    json_of(private_person.patch("/api/v1/accounts/update_credentials", json={"discoverable": False}))
    blocker.post(f"/api/v1/accounts/{alice.id}/block")
    alice.post(f"/api/v1/accounts/{blocked.id}/block")
    c = create(alice)
    for who in (private_person, blocker, blocked):
        assert_error(alice.post(f"/api/v1/collections/{c['id']}/items", json={"account_id": who.id}), 403)
        assert_error(alice.post("/api/v1/collections", json={"name": "n", "account_ids": [who.id]}), 403)
    assert json_of(anon_get(server, f"/api/v1/collections/{c['id']}"))["collection"]["items"] == []


def test_blocks_and_suspension_hide_items_and_collections(server, alice, bob, carol):
    c = create(alice, account_ids=[bob.id, carol.id])
    path = f"/api/v1/collections/{c['id']}"
    # carol blocks bob: bob's view leaves carol out; others still see her.
    carol.post(f"/api/v1/accounts/{bob.id}/block")
    assert [i["account_id"] for i in json_of(bob.get(path))["collection"]["items"]] == [bob.id]
    assert len(json_of(anon_get(server, path))["collection"]["items"]) == 2
    # alice blocks someone: that one may not see her collection, and her list is empty for them.
    viewer = sign_up(server)
    alice.post(f"/api/v1/accounts/{viewer.id}/block")
    assert_error(viewer.get(path), 403)
    assert json_of(viewer.get(f"/api/v1/accounts/{alice.id}/collections")) == {"collections": []}
    assert len(json_of(anon_get(server, f"/api/v1/accounts/{alice.id}/collections"))["collections"]) == 1


def test_account_collections_and_paging(server, alice, bob):
    made = [create(alice, account_ids=[bob.id]) for _ in range(3)]
    hidden = create(alice, discoverable=False)
    mine = json_of(alice.get(f"/api/v1/accounts/{alice.id}/collections"))["collections"]
    assert [x["id"] for x in mine] == [hidden["id"]] + [m["id"] for m in made[::-1]], "owner sees all, newest first"
    theirs = json_of(anon_get(server, f"/api/v1/accounts/{alice.id}/collections"))["collections"]
    assert [x["id"] for x in theirs] == [m["id"] for m in made[::-1]], "others: discoverable only"
    r = anon_get(server, f"/api/v1/accounts/{alice.id}/collections", params={"limit": 2})
    assert len(json_of(r)["collections"]) == 2
    nxt = link_params(parse_link(r)["next"])
    assert nxt["offset"] == "2"
    rest = json_of(anon_get(server, f"/api/v1/accounts/{alice.id}/collections", params=nxt))["collections"]
    assert [x["id"] for x in rest] == [made[0]["id"]]
    assert_error(anon_get(server, f"/api/v1/accounts/{alice.id}/collections", params={"offset": "-1"}), 400)
    assert_error(anon_get(server, f"/api/v1/accounts/{alice.id}/collections", params={"offset": 100000}), 400)
    assert_error(anon_get(server, "/api/v1/accounts/999999999/collections"), 404)
    # in_collections: bob is in alice's three discoverable collections (and the hidden one has no items).
    featuring = json_of(bob.get(f"/api/v1/accounts/{bob.id}/in_collections"))["collections"]
    assert sorted(x["id"] for x in featuring) == sorted(m["id"] for m in made)
    assert_error(alice.get(f"/api/v1/accounts/{bob.id}/in_collections"), 403)
    assert_error(anon_get(server, f"/api/v1/accounts/{bob.id}/in_collections"), 401)


def test_bad_inputs_and_bounds(server, alice):
    nested_422(alice.post("/api/v1/collections", json={"name": ""}), "name")
    nested_422(alice.post("/api/v1/collections", json={}), "name")
    nested_422(alice.post("/api/v1/collections", json={"name": "x" * 41}), "name")
    nested_422(alice.post("/api/v1/collections", json={"name": "ok", "description": "d" * 101}), "description")
    nested_422(alice.post("/api/v1/collections", json={"name": "ok", "tag_name": "no-dash"}), "tag_name")
    nested_422(alice.post("/api/v1/collections", json={"name": "ok", "language": "not a language"}), "language")
    assert_error(alice.post("/api/v1/collections", json={"name": "ok", "sensitive": "perhaps"}), 422)
    assert_error(alice.post("/api/v1/collections", json={"name": "ok", "account_ids": ["nope"]}), 404)
    assert json_of(alice.get(f"/api/v1/accounts/{alice.id}/collections"))["collections"] == []
    # 25 accounts at most in one collection.
    people = [sign_up(server) for _ in range(26)]
    c = create(alice, account_ids=[p.id for p in people[:25]])
    assert c["item_count"] == 25
    # Items answer a flat error (Mastodon's items controller does not nest them).
    body = assert_error(alice.post(f"/api/v1/collections/{c['id']}/items", json={"account_id": people[25].id}), 422)
    assert body["details"]["collection_items"][0]["error"] == "ERR_TOO_MANY"
    nested_422(alice.post("/api/v1/collections", json={"name": "big", "account_ids": [p.id for p in people]}),
               "collection_items")
    # 10 collections at most per account.
    for _ in range(9):
        create(alice)
    assert_error(alice.post("/api/v1/collections", json={"name": "eleventh"}), 422)
    assert len(json_of(alice.get(f"/api/v1/accounts/{alice.id}/collections", params={"limit": 80}))["collections"]) == 10


def test_scopes(server, alice):
    c = create(alice)
    read_only = scoped_token(server, alice, "read")
    r = alice.post("/api/v1/collections", json={"name": "n"}, headers={"Authorization": f"Bearer {read_only}"})
    assert_error(r, 403)
    r = alice.get(f"/api/v1/collections/{c['id']}", headers={"Authorization": f"Bearer {read_only}"})
    assert json_of(r)["collection"]["id"] == c["id"]
    write_only = scoped_token(server, alice, "write:collections")
    r = alice.patch(f"/api/v1/collections/{c['id']}", json={"sensitive": True},
                    headers={"Authorization": f"Bearer {write_only}"})
    assert json_of(r)["collection"]["sensitive"] is True
    assert_error(anon_get(server, f"/api/v1/accounts/{alice.id}/in_collections"), 401)
    assert_error(alice.post("/api/v1/collections", json={"name": "n"}, headers={"Authorization": "Bearer nope"}), 401)
