"""Notification policies (/api/v2/notifications/policy and v1's) and requests
(/api/v1/notifications/requests: list, show, accept, dismiss, in bulk, merged);
`types[]`/`exclude_types[]` for every type holdfast produces."""
import pytest
import requests

from conftest import sign_up
from helpers import assert_account, assert_error, is_datetime, json_of

POLICY_KEYS = {"for_not_following", "for_not_followers", "for_new_accounts",
               "for_private_mentions", "for_limited_accounts", "summary"}
REQUEST_KEYS = {"id", "created_at", "updated_at", "account", "notifications_count", "last_status"}


def policy(client):
    r = client.get("/api/v2/notifications/policy")
    body = json_of(r)
    assert r.status_code == 200, body
    assert set(body) == POLICY_KEYS
    return body


def set_policy(client, **fields):
    r = client.patch("/api/v2/notifications/policy", json=fields)
    body = json_of(r)
    assert r.status_code == 200, body
    return body


def notified_ids(client, types="mention"):
    return [n["status"]["id"] for n in json_of(client.get(f"/api/v1/notifications?types[]={types}"))]


def requests_of(client):
    return json_of(client.get("/api/v1/notifications/requests"))


def test_default_policy_and_v1(alice):
    p = policy(alice)
    assert p == {"for_not_following": "accept", "for_not_followers": "accept",
                 "for_new_accounts": "accept", "for_private_mentions": "filter",
                 "for_limited_accounts": "filter",
                 "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    v1 = json_of(alice.get("/api/v1/notifications/policy"))
    assert v1 == {"filter_not_following": False, "filter_not_followers": False,
                  "filter_new_accounts": False, "filter_private_mentions": True,
                  "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    changed = json_of(alice.put("/api/v1/notifications/policy",
                                data={"filter_not_following": "true", "filter_private_mentions": "false"}))
    assert changed["filter_not_following"] is True and changed["filter_private_mentions"] is False
    assert policy(alice)["for_not_following"] == "filter"
    assert policy(alice)["for_private_mentions"] == "accept"
    assert set_policy(alice, for_new_accounts="drop")["for_new_accounts"] == "drop"
    assert json_of(alice.get("/api/v1/notifications/policy"))["filter_new_accounts"] is True


@pytest.mark.parametrize("body", [{"for_not_following": "maybe"}, {"for_new_accounts": ""},
                                  {"for_private_mentions": "filter", "for_not_followers": "x"}])
def test_bad_policy_changes_nothing(alice, body):
    before = policy(alice)
    assert_error(alice.patch("/api/v2/notifications/policy", json=body), 422)
    assert policy(alice) == before


def test_filtered_notifications_wait_in_a_request_until_accepted(alice, bob, carol):
    set_policy(alice, for_not_following="filter")
    first = bob.status(f"@{alice.username} hello stranger")
    second = bob.status(f"@{alice.username} hello again")
    assert first["id"] not in notified_ids(alice) and second["id"] not in notified_ids(alice)
    assert json_of(alice.get("/api/v1/notifications/unread_count"))["count"] == 0
    summary = policy(alice)["summary"]
    assert summary == {"pending_requests_count": 1, "pending_notifications_count": 2}
    [req] = requests_of(alice)
    assert set(req) == REQUEST_KEYS
    assert_account(req["account"], bob.username)
    assert req["notifications_count"] == "2" and req["last_status"]["id"] == second["id"]
    assert is_datetime(req["created_at"]) and is_datetime(req["updated_at"])
    assert json_of(alice.get(f"/api/v1/notifications/requests/{req['id']}")) == req
    # Someone else's request is 404 for every single-request call.
    for r in [carol.get(f"/api/v1/notifications/requests/{req['id']}"),
              carol.post(f"/api/v1/notifications/requests/{req['id']}/accept"),
              carol.post(f"/api/v1/notifications/requests/{req['id']}/dismiss")]:
        assert_error(r, 404)
    assert len(requests_of(alice)) == 1

    r = alice.post(f"/api/v1/notifications/requests/{req['id']}/accept")
    assert r.status_code == 200 and r.json() == {}
    assert {first["id"], second["id"]} <= set(notified_ids(alice))
    assert requests_of(alice) == []
    assert policy(alice)["summary"] == {"pending_requests_count": 0, "pending_notifications_count": 0}
    assert_error(alice.get(f"/api/v1/notifications/requests/{req['id']}"), 404)
    # An accepted sender is not filtered again.
    third = bob.status(f"@{alice.username} thanks")
    assert third["id"] in notified_ids(alice)
    assert json_of(alice.get("/api/v1/notifications/requests/merged")) == {"merged": True}


def test_dismiss_drops_the_filtered_notifications(alice, bob):
    set_policy(alice, for_not_followers="filter")
    post = bob.status(f"@{alice.username} buy my stuff")
    [req] = requests_of(alice)
    r = alice.post(f"/api/v1/notifications/requests/{req['id']}/dismiss")
    assert r.status_code == 200 and r.json() == {}
    assert requests_of(alice) == []
    assert post["id"] not in notified_ids(alice)
    # Dismissed is not accepted: the next one is filtered again.
    bob.status(f"@{alice.username} buy it now")
    assert len(requests_of(alice)) == 1


def test_followed_senders_pass_and_drop_keeps_nothing(alice, bob, carol):
    set_policy(alice, for_not_following="drop")
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/follow"))["following"]
    passed = bob.status(f"@{alice.username} we are friends")
    dropped = carol.status(f"@{alice.username} who am I")
    ids = notified_ids(alice)
    assert passed["id"] in ids and dropped["id"] not in ids
    assert requests_of(alice) == []
    assert policy(alice)["summary"]["pending_notifications_count"] == 0
    # Follows from strangers are notifications too: dropped.
    assert json_of(carol.post(f"/api/v1/accounts/{alice.id}/follow"))["following"]
    assert json_of(alice.get("/api/v1/notifications?types[]=follow")) == []


def test_private_mentions_are_filtered_by_default(alice, bob):
    dm = bob.status(f"@{alice.username} psst", visibility="direct")
    assert dm["id"] not in notified_ids(alice)
    [req] = requests_of(alice)
    assert req["last_status"]["id"] == dm["id"]
    # Once alice follows bob, his private mentions are asked for.
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/follow"))["following"]
    dm2 = bob.status(f"@{alice.username} psst again", visibility="direct")
    assert dm2["id"] in notified_ids(alice)


def test_bulk_accept_and_dismiss(server, alice):
    set_policy(alice, for_not_following="filter")
    senders = [sign_up(server) for _ in range(3)]
    for s in senders:
        s.status(f"@{alice.username} hi from {s.username}")
    reqs = {r["account"]["id"]: r["id"] for r in requests_of(alice)}
    assert len(reqs) == 3
    other = sign_up(server)
    r = alice.post("/api/v1/notifications/requests/accept",
                   data=[("id[]", reqs[senders[0].id]), ("id[]", "999"), ("id[]", "nope")])
    assert r.status_code == 200 and r.json() == {}
    r = alice.post("/api/v1/notifications/requests/dismiss", json={"id": [reqs[senders[1].id]]})
    assert r.status_code == 200
    assert [x["id"] for x in requests_of(alice)] == [reqs[senders[2].id]]
    # Another account's bulk call touches nothing of alice's.
    other.post("/api/v1/notifications/requests/dismiss", json={"id": [reqs[senders[2].id]]})
    assert len(requests_of(alice)) == 1
    assert_error(alice.post("/api/v1/notifications/requests/accept", json={}), 422)
    mentions = json_of(alice.get("/api/v1/notifications?types[]=mention"))
    assert {n["account"]["id"] for n in mentions} == {senders[0].id}


def test_policy_needs_a_user_and_scopes(server, alice):
    assert_error(requests.get(server.url("/api/v2/notifications/policy"), timeout=30), 401)
    assert_error(requests.get(server.url("/api/v1/notifications/requests"), timeout=30), 401)


def test_types_and_exclude_types_for_every_type(server):
    alice = sign_up(server)
    bob = sign_up(server)
    locked = sign_up(server)
    assert locked.patch("/api/v1/accounts/update_credentials",
                        json={"locked": True}).status_code == 200
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/follow"))["following"]
    assert json_of(bob.post(f"/api/v1/accounts/{alice.id}/follow"))["following"]
    mine = alice.status("something to like")
    bob.status(f"@{alice.username} a mention")
    bob.post(f"/api/v1/statuses/{mine['id']}/favourite")
    bob.post(f"/api/v1/statuses/{mine['id']}/reblog")
    alice.post(f"/api/v1/accounts/{locked.id}/follow")
    produced = {"follow": alice, "mention": alice, "favourite": alice, "reblog": alice,
                "follow_request": locked}
    for kind, who in produced.items():
        only = json_of(who.get("/api/v1/notifications", params={"types[]": kind}))
        assert only and {n["type"] for n in only} == {kind}, kind
        rest = json_of(who.get("/api/v1/notifications", params={"exclude_types[]": kind}))
        assert kind not in {n["type"] for n in rest}, kind
        grouped = json_of(who.get("/api/v2/notifications", params={"types[]": kind}))
        assert {g["type"] for g in grouped["notification_groups"]} == {kind}, kind
    everything = {n["type"] for n in json_of(alice.get("/api/v1/notifications"))}
    assert everything == {"follow", "mention", "favourite", "reblog"}
