"""Direct conversations: /api/v1/conversations (list, read, remove), their
unread state, the `conversation` event on the direct stream; and the
follow options and post notifications of /api/v1/accounts/:id/follow."""
import json
import time

from conftest import sign_up
from helpers import assert_error, json_of, link_params, parse_link, scoped_token
from streamclient import SSE

CONVERSATION_KEYS = {"id", "unread", "accounts", "last_status"}


def conversations(client, **params):
    return json_of(client.get("/api/v1/conversations", params=params))


def test_direct_message_makes_a_conversation_for_each_participant(server):
    a, b, c, outsider = (sign_up(server) for _ in range(4))
    dm = a.status(f"@{b.username} @{c.username} hello", visibility="direct")
    mine = conversations(a)
    assert len(mine) == 1 and set(mine[0]) == CONVERSATION_KEYS
    assert mine[0]["unread"] is False
    assert sorted(x["id"] for x in mine[0]["accounts"]) == sorted([b.id, c.id])
    assert mine[0]["last_status"]["id"] == dm["id"]
    theirs = conversations(b)
    assert len(theirs) == 1 and theirs[0]["unread"] is True
    assert sorted(x["id"] for x in theirs[0]["accounts"]) == sorted([a.id, c.id])
    assert conversations(outsider) == [], "never in a non-participant's list"
    # Public and private posts make no conversation.
    a.status(f"@{outsider.username} public hello")
    a.status(f"@{outsider.username} private hello", visibility="private")
    assert conversations(outsider) == []


def test_reply_read_remove_and_return(server):
    a, b = sign_up(server), sign_up(server)
    first = a.status(f"@{b.username} ping", visibility="direct")
    conv_b = conversations(b)[0]
    read = json_of(b.post(f"/api/v1/conversations/{conv_b['id']}/read"))
    assert read["id"] == conv_b["id"] and read["unread"] is False
    assert conversations(b)[0]["unread"] is False
    reply = b.status(f"@{a.username} pong", visibility="direct", in_reply_to_id=first["id"])
    conv_a = conversations(a)
    assert len(conv_a) == 1, "a reply stays in the thread"
    assert conv_a[0]["last_status"]["id"] == reply["id"] and conv_a[0]["unread"] is True
    # Only the owner can read or remove it.
    assert_error(b.post(f"/api/v1/conversations/{conv_a[0]['id']}/read"), 404)
    assert_error(b.delete(f"/api/v1/conversations/{conv_a[0]['id']}"), 404)
    r = a.delete(f"/api/v1/conversations/{conv_a[0]['id']}")
    assert r.status_code == 200 and r.json() == {}
    assert conversations(a) == []
    assert len(conversations(b)) == 1, "removing is one participant's choice"
    again = b.status(f"@{a.username} still there?", visibility="direct", in_reply_to_id=reply["id"])
    back = conversations(a)
    assert len(back) == 1 and back[0]["last_status"]["id"] == again["id"] and back[0]["unread"]
    # Deleting the newest message shows the one before.
    assert b.delete(f"/api/v1/statuses/{again['id']}").status_code == 200
    assert conversations(a)[0]["last_status"]["id"] == reply["id"]


def test_paging_and_bad_ids(server):
    a = sign_up(server)
    others = [sign_up(server) for _ in range(3)]
    sent = [a.status(f"@{o.username} hi", visibility="direct") for o in others]
    r = a.get("/api/v1/conversations", params={"limit": 2})
    page1 = json_of(r)
    assert [c["last_status"]["id"] for c in page1] == [sent[2]["id"], sent[1]["id"]]
    nxt = link_params(parse_link(r)["next"])
    page2 = conversations(a, limit=2, max_id=nxt["max_id"])
    assert [c["last_status"]["id"] for c in page2] == [sent[0]["id"]]
    for bad in ("abc", "999999999999"):
        assert_error(a.post(f"/api/v1/conversations/{bad}/read"), 404)
        assert_error(a.delete(f"/api/v1/conversations/{bad}"), 404)


def test_scopes(server):
    a = sign_up(server)
    assert_error(a.get("/api/v1/conversations", headers={"Authorization": "Bearer nope"}), 401)
    read_only = scoped_token(server, a, "read")
    b = sign_up(server)
    b.status(f"@{a.username} hi", visibility="direct")
    conv = conversations(a)[0]
    r = a.post(f"/api/v1/conversations/{conv['id']}/read", headers={"Authorization": f"Bearer {read_only}"})
    assert_error(r, 403)
    assert conversations(a)[0]["unread"] is True


def test_muting_the_author_keeps_the_conversation_out(server):
    a, b = sign_up(server), sign_up(server)
    b.post(f"/api/v1/accounts/{a.id}/mute")
    a.status(f"@{b.username} you muted me", visibility="direct")
    assert conversations(b) == []


def test_direct_stream_sends_the_listed_conversation(server):
    a, b, outsider = sign_up(server), sign_up(server), sign_up(server)
    stream = SSE(server, "/api/v1/streaming/direct", b.token)
    other = SSE(server, "/api/v1/streaming/direct", outsider.token)
    time.sleep(0.3)
    dm = a.status(f"@{b.username} live", visibility="direct")
    kind, data = stream.next({"conversation"})
    event = json.loads(data)
    listed = conversations(b)[0]
    assert event["id"] == listed["id"], "the event names the conversation the list has"
    assert event["last_status"]["id"] == dm["id"] and event["unread"] is True
    assert [x["id"] for x in event["accounts"]] == [a.id]
    try:
        other.next({"conversation"}, timeout=1)
        leaked = True
    except AssertionError:
        leaked = False
    assert not leaked
    stream.close()
    other.close()


# ---- follow options and suggestions ----

def relationship(client, other):
    return json_of(client.get("/api/v1/accounts/relationships", params={"id[]": other.id}))[0]


def test_follow_request_keeps_its_options(server):
    fan, star = sign_up(server), sign_up(server)
    star.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    rel = json_of(fan.post(f"/api/v1/accounts/{star.id}/follow",
                           json={"reblogs": False, "notify": True, "languages": ["de"]}))
    assert rel["requested"] is True and rel["following"] is False
    assert star.post(f"/api/v1/follow_requests/{fan.id}/authorize").status_code == 200
    rel = relationship(fan, star)
    assert rel["following"] and rel["notifying"] and not rel["showing_reblogs"]
    # notify=true: the star's posts come as `status` notifications.
    post = star.status("news")
    notes = json_of(fan.get("/api/v1/notifications", params={"types[]": "status"}))
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("status", post["id"])]
    assert_error(fan.post(f"/api/v1/accounts/{star.id}/follow", json={"languages": ["not a language"]}), 422)


def test_dismissed_suggestion_stays_away(server):
    me, popular, hub = sign_up(server), sign_up(server), sign_up(server)
    hub.post(f"/api/v1/accounts/{popular.id}/follow")
    me.post(f"/api/v1/accounts/{hub.id}/follow")
    ids = [s["account"]["id"] for s in json_of(me.get("/api/v2/suggestions", params={"limit": 80}))]
    assert popular.id in ids
    r = me.delete(f"/api/v1/suggestions/{popular.id}")
    assert r.status_code == 200 and r.json() == {}
    ids = [s["account"]["id"] for s in json_of(me.get("/api/v2/suggestions", params={"limit": 80}))]
    assert popular.id not in ids
    assert [a["id"] for a in json_of(me.get("/api/v1/suggestions", params={"limit": 80}))].count(popular.id) == 0
    assert_error(me.delete("/api/v1/suggestions/999999999999"), 404)
