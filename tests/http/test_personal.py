"""Private notes, endorsements and a user's hidden domains:
accounts/:id/note, accounts/:id/pin|unpin, /api/v1/endorsements, /api/v1/domain_blocks."""
import pytest
import requests

from helpers import RELATIONSHIP_KEYS, assert_error, json_of, link_params, parse_link, scoped_token


def relationship(client, other):
    return json_of(client.get("/api/v1/accounts/relationships", params={"id[]": other.id}))[0]


def test_private_note(alice, bob, carol):
    rel = json_of(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "owes me lunch"}))
    assert set(rel) >= RELATIONSHIP_KEYS and rel["note"] == "owes me lunch"
    assert relationship(alice, bob)["note"] == "owes me lunch"
    assert relationship(carol, bob)["note"] == "", "only the writer sees a note"
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/note", data={"comment": ""}))["note"] == ""
    assert relationship(alice, bob)["note"] == ""


def test_bad_notes_change_nothing(alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "kept"})
    assert_error(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x" * 2001}), 422)
    assert_error(alice.post("/api/v1/accounts/999999999999/note", json={"comment": "x"}), 404)
    assert relationship(alice, bob)["note"] == "kept"


def test_endorsements(server, alice, bob, carol):
    assert_error(alice.post(f"/api/v1/accounts/{bob.id}/pin"), 422)  # not followed
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    alice.post(f"/api/v1/accounts/{carol.id}/follow")
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/pin"))["endorsed"] is True
    assert alice.post(f"/api/v1/accounts/{bob.id}/pin").status_code == 200  # again: fine
    alice.post(f"/api/v1/accounts/{carol.id}/pin")
    r = alice.get("/api/v1/endorsements", params={"limit": 1})
    assert [a["id"] for a in json_of(r)] == [carol.id]
    r2 = alice.get("/api/v1/endorsements", params={"limit": 1, **{"max_id": link_params(parse_link(r)["next"])["max_id"]}})
    assert [a["id"] for a in json_of(r2)] == [bob.id]
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/unpin"))["endorsed"] is False
    assert [a["id"] for a in json_of(alice.get("/api/v1/endorsements"))] == [carol.id]
    assert_error(alice.post("/api/v1/accounts/abc/pin"), 404)


def test_domain_blocks(alice):
    assert json_of(alice.get("/api/v1/domain_blocks")) == []
    for d in ("spam.example", "Other.Example."):
        r = alice.post("/api/v1/domain_blocks", data={"domain": d})
        assert r.status_code == 200 and r.json() == {}
    assert alice.post("/api/v1/domain_blocks", json={"domain": "spam.example"}).status_code == 200
    r = alice.get("/api/v1/domain_blocks", params={"limit": 1})
    assert json_of(r) == ["other.example"]
    r2 = alice.get("/api/v1/domain_blocks", params={"limit": 1, "max_id": link_params(parse_link(r)["next"])["max_id"]})
    assert json_of(r2) == ["spam.example"]
    r = alice.delete("/api/v1/domain_blocks", params={"domain": "spam.example"})
    assert r.status_code == 200 and r.json() == {}
    assert json_of(alice.get("/api/v1/domain_blocks")) == ["other.example"]


@pytest.mark.parametrize("domain", ["", "a..b", "-x.example", "sp ace.example", "x" * 254, "a/b"])
def test_bad_domains_change_nothing(alice, domain):
    assert_error(alice.post("/api/v1/domain_blocks", json={"domain": domain}), 422)
    assert json_of(alice.get("/api/v1/domain_blocks")) == []


def test_scopes(server, alice, bob):
    narrow = {"Authorization": f"Bearer {scoped_token(server, alice, 'read:accounts')}"}
    assert_error(requests.get(server.url("/api/v1/domain_blocks"), headers=narrow, timeout=30), 403)
    assert_error(requests.post(server.url(f"/api/v1/accounts/{bob.id}/note"), headers=narrow,
                               json={"comment": "x"}, timeout=30), 403)
    assert requests.get(server.url("/api/v1/endorsements"), headers=narrow, timeout=30).status_code == 200
    assert_error(requests.get(server.url("/api/v1/endorsements"), timeout=30), 401)
