"""Blocks, mutes (with an end), follow requests (a locked account end to end),
remove_from_followers: /api/v1/blocks, /mutes, /follow_requests."""
import time

import pytest
import requests

from conftest import sign_up
from helpers import RELATIONSHIP_KEYS, assert_account, assert_error, is_datetime, json_of, \
    link_params, parse_link, scoped_token


def ids(r):
    return [a["id"] for a in json_of(r)]


def test_blocks_list_pages_with_link_header(server, alice):
    targets = [sign_up(server) for _ in range(3)]
    for t in targets:
        assert alice.post(f"/api/v1/accounts/{t.id}/block").status_code == 200
    r = alice.get("/api/v1/blocks", params={"limit": 2})
    assert r.status_code == 200
    assert ids(r) == [targets[2].id, targets[1].id]
    for a in r.json():
        assert_account(a)
    nxt = link_params(parse_link(r)["next"])
    r2 = alice.get("/api/v1/blocks", params={"limit": 2, "max_id": nxt["max_id"]})
    assert ids(r2) == [targets[0].id]
    assert alice.post(f"/api/v1/accounts/{targets[0].id}/unblock").status_code == 200
    assert ids(alice.get("/api/v1/blocks")) == [targets[2].id, targets[1].id]


def test_mutes_list_with_duration_and_notifications_flag(server, alice, bob, carol):
    r = alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"notifications": False})
    rel = json_of(r)
    assert rel["muting"] and not rel["muting_notifications"]
    r = alice.post(f"/api/v1/accounts/{carol.id}/mute", data={"duration": "3600"})
    assert json_of(r)["muting_notifications"]
    r = alice.get("/api/v1/mutes")
    assert r.status_code == 200
    listed = {a["id"]: a for a in r.json()}
    assert set(listed) == {bob.id, carol.id}
    assert listed[bob.id]["mute_expires_at"] is None
    ends = listed[carol.id]["mute_expires_at"]
    assert is_datetime(ends)
    assert alice.post(f"/api/v1/accounts/{bob.id}/unmute").status_code == 200
    assert ids(alice.get("/api/v1/mutes")) == [carol.id]


def test_a_mute_ends_after_its_duration(server, alice, bob):
    alice.post(f"/api/v1/accounts/{bob.id}/follow")
    assert json_of(alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"duration": 1}))["muting"]
    muted_post = bob.status("during the mute")
    assert muted_post["id"] not in ids(alice.get("/api/v1/timelines/home"))
    time.sleep(1.2)
    rel = json_of(alice.get("/api/v1/accounts/relationships", params={"id[]": bob.id}))[0]
    assert not rel["muting"]
    assert ids(alice.get("/api/v1/mutes")) == []
    assert muted_post["id"] in ids(alice.get("/api/v1/timelines/home"))


@pytest.mark.parametrize("duration", ["-1", "soon", str(10 * 365 * 24 * 3600 + 1)])
def test_bad_mute_duration_changes_nothing(alice, bob, duration):
    assert_error(alice.post(f"/api/v1/accounts/{bob.id}/mute", data={"duration": duration}), 400, 422)
    assert ids(alice.get("/api/v1/mutes")) == []


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_lists_need_their_scopes_and_a_user(server, alice):
    narrow = bearer(scoped_token(server, alice, "read:accounts"))
    for path in ("/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests"):
        assert_error(requests.get(server.url(path), headers=narrow, timeout=30), 403)
        assert_error(requests.get(server.url(path), timeout=30), 401)


def locked_account(server):
    me = sign_up(server)
    r = me.patch("/api/v1/accounts/update_credentials", json={"locked": True})
    assert json_of(r)["locked"] is True
    return me


def test_locked_account_follow_requests_end_to_end(server):
    me = locked_account(server)
    asker, other = sign_up(server), sign_up(server)
    rel = json_of(asker.post(f"/api/v1/accounts/{me.id}/follow"))
    assert rel["requested"] and not rel["following"]
    json_of(other.post(f"/api/v1/accounts/{me.id}/follow"))
    r = me.get("/api/v1/follow_requests")
    assert r.status_code == 200
    assert ids(r) == [other.id, asker.id]
    notes = json_of(me.get("/api/v1/notifications", params={"types[]": "follow_request"}))
    assert {n["account"]["id"] for n in notes} == {asker.id, other.id}

    rel = json_of(me.post(f"/api/v1/follow_requests/{asker.id}/authorize"))
    assert set(rel) >= RELATIONSHIP_KEYS
    assert rel["id"] == asker.id and rel["followed_by"] and not rel["requested_by"]
    seen = json_of(asker.get("/api/v1/accounts/relationships", params={"id[]": me.id}))[0]
    assert seen["following"] and not seen["requested"]
    # The follower sees the locked account's private posts now.
    private = me.status("for followers", visibility="private")
    assert private["id"] in ids(asker.get("/api/v1/timelines/home"))

    rel = json_of(me.post(f"/api/v1/follow_requests/{other.id}/reject"))
    assert not rel["followed_by"] and not rel["requested_by"]
    assert ids(me.get("/api/v1/follow_requests")) == []
    assert json_of(me.get("/api/v1/notifications", params={"types[]": "follow_request"})) == []
    assert private["id"] not in ids(other.get("/api/v1/timelines/home"))

    # Answered already, never asked, unknown or malformed: 404, nothing changes.
    for path in (f"/api/v1/follow_requests/{asker.id}/authorize",
                 f"/api/v1/follow_requests/{other.id}/reject",
                 "/api/v1/follow_requests/999999999999/authorize",
                 "/api/v1/follow_requests/abc/reject"):
        assert_error(me.post(path), 404)
    assert ids(me.get(f"/api/v1/accounts/{me.id}/followers")) == [asker.id]


def test_someone_elses_follow_request_cannot_be_answered(server):
    me = locked_account(server)
    asker, stranger = sign_up(server), sign_up(server)
    asker.post(f"/api/v1/accounts/{me.id}/follow")
    assert_error(stranger.post(f"/api/v1/follow_requests/{asker.id}/authorize"), 404)
    assert ids(me.get("/api/v1/follow_requests")) == [asker.id]
    read_only = bearer(scoped_token(server, me, "read"))
    assert_error(requests.post(server.url(f"/api/v1/follow_requests/{asker.id}/authorize"),
                               headers=read_only, timeout=30), 403)


def test_remove_from_followers(server, alice, bob):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    rel = json_of(alice.post(f"/api/v1/accounts/{bob.id}/remove_from_followers"))
    assert not rel["followed_by"]
    assert ids(alice.get(f"/api/v1/accounts/{alice.id}/followers")) == []
    seen = json_of(bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}))[0]
    assert not seen["following"]
    # Not a follower (any more): still 200; unknown account: 404.
    assert alice.post(f"/api/v1/accounts/{bob.id}/remove_from_followers").status_code == 200
    assert_error(alice.post("/api/v1/accounts/999999999999/remove_from_followers"), 404)
