"""GET /api/v2/search: accounts, hashtags and statuses."""
from conftest import sign_up, unique_name
from helpers import anon_get, assert_account, assert_error, assert_status, ids, uniq


def search(client, q, **params):
    r = client.get("/api/v2/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"accounts", "statuses", "hashtags"}, body
    for k in ("accounts", "statuses", "hashtags"):
        assert isinstance(body[k], list)
    return body


def test_search_accounts_by_prefix(server, alice):
    prefix = uniq("pre")[:10]
    a = sign_up(server, username=f"{prefix}_one")
    b = sign_up(server, username=f"{prefix}_two")
    body = search(alice, prefix, type="accounts")
    for acc in body["accounts"]:
        assert_account(acc)
    assert set(ids(body["accounts"])) == {a.id, b.id}
    assert body["statuses"] == [] and body["hashtags"] == []
    exact = search(alice, f"{prefix}_one", type="accounts")
    assert ids(exact["accounts"])[0] == a.id
    with_at = search(alice, f"@{prefix}_two", type="accounts")
    assert ids(with_at["accounts"]) == [b.id]


def test_search_accounts_anonymous(server):
    c = sign_up(server, username=unique_name("anons"))
    r = anon_get(server, "/api/v2/search", params={"q": c.username, "type": "accounts"})
    assert r.status_code == 200, r.text
    assert ids(r.json()["accounts"]) == [c.id]


def test_search_hashtags(alice):
    tag = uniq("srch")
    alice.status(f"about #{tag}")
    body = search(alice, tag, type="hashtags")
    names = [h["name"] for h in body["hashtags"]]
    assert names == [tag]
    h = body["hashtags"][0]
    assert h["url"].endswith(f"/tags/{tag}")
    assert body["accounts"] == [] and body["statuses"] == []
    assert [h["name"] for h in search(alice, f"#{tag}", type="hashtags")["hashtags"]] == [tag]


def test_search_statuses_full_text(alice, bob):
    word = uniq("word")
    s = bob.status(f"the quick {word} jumps")
    bob.status("unrelated text")
    body = search(alice, word, type="statuses")
    for st in body["statuses"]:
        assert_status(st)
    assert ids(body["statuses"]) == [s["id"]]
    assert body["accounts"] == []


def test_search_statuses_respects_visibility(alice, bob, carol):
    word = uniq("secret")
    p = bob.status(f"private {word}", visibility="private")
    d = bob.status(f"@{carol.username} direct {word}", visibility="direct")
    assert search(alice, word, type="statuses")["statuses"] == []
    assert set(ids(search(bob, word, type="statuses")["statuses"])) == {p["id"], d["id"]}
    assert ids(search(carol, word, type="statuses")["statuses"]) == [d["id"]]
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    assert ids(search(alice, word, type="statuses")["statuses"]) == [p["id"]]


def test_search_deleted_status_not_found(alice):
    word = uniq("gone")
    s = alice.status(f"{word}")
    alice.delete(f"/api/v1/statuses/{s['id']}")
    assert search(alice, word, type="statuses")["statuses"] == []


def test_search_all_types(alice):
    word = uniq("all")
    c = sign_up(alice.server, username=word)
    st = c.status(f"{word} #{word}")
    body = search(alice, word)
    assert c.id in ids(body["accounts"])
    assert word in [h["name"] for h in body["hashtags"]]
    assert st["id"] in ids(body["statuses"])


def test_search_limit(server, alice):
    prefix = uniq("lim")[:10]
    for i in range(3):
        sign_up(server, username=f"{prefix}_{i}")
    body = search(alice, prefix, type="accounts", limit=2)
    assert len(body["accounts"]) == 2


def test_search_without_q(alice):
    """`q` is required; Mastodon answers 400 for a missing parameter (or, for a
    blank query, an empty result)."""
    r = alice.get("/api/v2/search")
    if r.status_code == 200:
        assert r.json() == {"accounts": [], "statuses": [], "hashtags": []} or \
            all(r.json()[k] == [] for k in ("accounts", "statuses", "hashtags"))
    else:
        assert_error(r, 400)


def test_search_no_results(alice):
    body = search(alice, uniq("nothing"))
    assert body["accounts"] == [] and body["statuses"] == [] and body["hashtags"] == []
