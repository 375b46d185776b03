"""Statuses after posting: editing (PUT, history, source, edited_at, the
`update` notification), pins, conversation mutes, translate and quotes (the
documented empty forms), polls (create, view, vote, results, end) and
scheduled statuses (CRUD, bounds, published on time, exactly once)."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import sign_up, suite_config_with
from helpers import assert_error, is_datetime, json_of

EDIT_KEYS = {"content", "spoiler_text", "sensitive", "created_at", "account", "media_attachments", "emojis"}
POLL_KEYS = {"id", "expires_at", "expired", "multiple", "votes_count", "voters_count", "options",
             "emojis", "voted", "own_votes"}
SCHEDULED_KEYS = {"id", "scheduled_at", "params", "media_attachments"}


def iso_in(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def kinds(client, *types):
    query = "".join(f"&types[]={t}" for t in types)
    return [n["type"] for n in json_of(client.get(f"/api/v1/notifications?limit=40{query}"))]


def wait_for(check, seconds=15):
    """Polls `check` until it is truthy (bounded); returns its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


# ---- editing ----

def test_edit_history_and_source(alice, bob):
    st = alice.status("first version", spoiler_text="cw")
    assert st["edited_at"] is None
    history = json_of(alice.get(f"/api/v1/statuses/{st['id']}/history"))
    assert len(history) == 1 and set(history[0]) == EDIT_KEYS
    assert history[0]["content"] == st["content"]

    r = alice.put(f"/api/v1/statuses/{st['id']}", json={
        "status": f"second version @{bob.username} #edited", "spoiler_text": "", "sensitive": True,
        "language": "de"})
    edited = json_of(r)
    assert r.status_code == 200, edited
    assert edited["id"] == st["id"] and is_datetime(edited["edited_at"])
    assert "second version" in edited["content"] and edited["sensitive"] is True
    assert edited["language"] == "de" and edited["spoiler_text"] == ""
    assert [m["id"] for m in edited["mentions"]] == [bob.id]
    assert [t["name"] for t in edited["tags"]] == ["edited"]
    assert json_of(bob.get(f"/api/v1/statuses/{st['id']}"))["edited_at"] == edited["edited_at"]
    assert kinds(bob, "mention") == ["mention"], "a newly mentioned account is told"

    history = json_of(bob.get(f"/api/v1/statuses/{st['id']}/history"))
    assert [h["spoiler_text"] for h in history] == ["cw", ""]
    assert "first version" in history[0]["content"] and "second version" in history[1]["content"]
    assert all(h["account"]["id"] == alice.id for h in history)

    source = json_of(alice.get(f"/api/v1/statuses/{st['id']}/source"))
    assert source == {"id": st["id"], "text": f"second version @{bob.username} #edited", "spoiler_text": ""}


def test_edit_keeps_what_is_not_given(alice):
    st = alice.status("keep me", spoiler_text="warning", language="fr")
    edited = json_of(alice.put(f"/api/v1/statuses/{st['id']}", data={"sensitive": "true"}))
    assert edited["spoiler_text"] == "warning" and edited["language"] == "fr"
    assert "keep me" in edited["content"] and edited["sensitive"] is True


def test_edit_changes_attached_media_descriptions(alice, bob):
    """`media_attributes[]` changes an attachment's description and focal
    point through an edit of its status (PUT /api/v1/media/:id no longer
    can once it is attached); entries for media not kept are ignored."""
    from test_media import image_bytes, uploaded
    pic = uploaded(alice, image_bytes("PNG"), description="before")
    other = uploaded(alice, image_bytes("PNG"), description="not attached")
    st = json_of(alice.post("/api/v1/statuses", json={"status": "a picture", "media_ids": [pic["id"]]}))
    assert_error(alice.put(f"/api/v1/media/{pic['id']}", json={"description": "direct"}), 404)
    r = alice.put(f"/api/v1/statuses/{st['id']}", json={
        "status": "a picture", "media_ids": [pic["id"]],
        "media_attributes": [{"id": pic["id"], "description": "after", "focus": "0.5,-0.25"},
                             {"id": other["id"], "description": "ignored"}]})
    edited = json_of(r)
    assert r.status_code == 200, edited
    [m] = edited["media_attachments"]
    assert m["id"] == pic["id"] and m["description"] == "after"
    assert m["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert json_of(bob.get(f"/api/v1/statuses/{st['id']}"))["media_attachments"][0]["description"] == "after"
    assert json_of(alice.get(f"/api/v1/media/{other['id']}"))["description"] == "not attached"
    # Form encoding, as Rails takes it.
    r = alice.put(f"/api/v1/statuses/{st['id']}", data={
        "status": "a picture", "media_ids[]": pic["id"], "media_attributes[][id]": pic["id"],
        "media_attributes[][description]": "by form"})
    assert json_of(r)["media_attachments"][0]["description"] == "by form"
    # Bad attributes are refused and change nothing.
    for bad in ({"id": pic["id"], "description": "x" * 1501}, {"id": pic["id"], "focus": "2,0"}, {"description": "no id"}):
        assert_error(alice.put(f"/api/v1/statuses/{st['id']}", json={
            "status": "changed?", "media_ids": [pic["id"]], "media_attributes": [bad]}), 422)
    now = json_of(alice.get(f"/api/v1/statuses/{st['id']}"))
    assert "changed?" not in now["content"] and now["media_attachments"][0]["description"] == "by form"


def test_only_the_author_edits(alice, bob):
    st = alice.status("mine")
    assert_error(bob.put(f"/api/v1/statuses/{st['id']}", json={"status": "yours"}), 404)
    assert_error(bob.get(f"/api/v1/statuses/{st['id']}/source"), 404)
    assert_error(alice.put("/api/v1/statuses/999999999", json={"status": "x"}), 404)
    private = alice.status("followers only", visibility="private")
    assert_error(bob.get(f"/api/v1/statuses/{private['id']}/history"), 404)
    assert "mine" in json_of(alice.get(f"/api/v1/statuses/{st['id']}"))["content"]


@pytest.mark.parametrize("body", [
    {"status": ""},
    {"status": "x" * 501},
    {"status": "ok", "language": "not a language"},
    {"status": "ok", "poll": {"options": ["only one"], "expires_in": 600}},
])
def test_bad_edits_change_nothing(alice, body):
    st = alice.status("stays")
    assert_error(alice.put(f"/api/v1/statuses/{st['id']}", json=body), 422)
    now = json_of(alice.get(f"/api/v1/statuses/{st['id']}"))
    assert "stays" in now["content"] and now["edited_at"] is None
    assert len(json_of(alice.get(f"/api/v1/statuses/{st['id']}/history"))) == 1


def test_edit_tells_those_who_reblogged(alice, bob, carol):
    st = alice.status("boost me")
    assert bob.post(f"/api/v1/statuses/{st['id']}/reblog").status_code == 200
    alice.put(f"/api/v1/statuses/{st['id']}", json={"status": "boosted, then edited"})
    alice.put(f"/api/v1/statuses/{st['id']}", json={"status": "edited twice"})
    updates = json_of(bob.get("/api/v1/notifications?types[]=update"))
    assert len(updates) == 1, "one update notification, for the latest edit"
    assert updates[0]["status"]["id"] == st["id"] and "edited twice" in updates[0]["status"]["content"]
    assert kinds(carol) == []


# ---- pins ----

def test_pin_own_status_and_profile_filter(alice, bob):
    one, two = alice.status("one"), alice.status("two")
    pinned = json_of(alice.post(f"/api/v1/statuses/{one['id']}/pin"))
    assert pinned["pinned"] is True
    assert json_of(alice.post(f"/api/v1/statuses/{one['id']}/pin"))["pinned"] is True
    assert json_of(alice.get(f"/api/v1/statuses/{one['id']}"))["pinned"] is True
    assert json_of(alice.get(f"/api/v1/statuses/{two['id']}"))["pinned"] is False
    listed = json_of(bob.get(f"/api/v1/accounts/{alice.id}/statuses?pinned=true"))
    assert [s["id"] for s in listed] == [one["id"]]
    assert json_of(alice.post(f"/api/v1/statuses/{one['id']}/unpin"))["pinned"] is False
    assert json_of(bob.get(f"/api/v1/accounts/{alice.id}/statuses?pinned=true")) == []


def test_pin_refusals(alice, bob):
    theirs = bob.status("bob's")
    assert_error(alice.post(f"/api/v1/statuses/{theirs['id']}/pin"), 422)
    dm = alice.status(f"@{bob.username} psst", visibility="direct")
    assert_error(alice.post(f"/api/v1/statuses/{dm['id']}/pin"), 422)
    hidden = bob.status("followers only", visibility="private")
    assert_error(alice.post(f"/api/v1/statuses/{hidden['id']}/pin"), 404)
    assert json_of(bob.get(f"/api/v1/accounts/{bob.id}/statuses?pinned=true")) == []


def test_pin_limit(make_server):
    s = make_server("--config", suite_config_with(pinned_statuses_max=2))
    a = sign_up(s)
    ids = [a.status(f"p{i}")["id"] for i in range(3)]
    for i in ids[:2]:
        assert a.post(f"/api/v1/statuses/{i}/pin").status_code == 200
    assert_error(a.post(f"/api/v1/statuses/{ids[2]}/pin"), 422)
    assert json_of(s_get(s, "/api/v2/instance"))["configuration"]["accounts"]["max_pinned_statuses"] == 2


def s_get(server, path):
    import requests
    return requests.get(server.url(path), timeout=30)


# ---- conversation mutes ----

def test_muted_conversation_is_silent(alice, bob):
    root = alice.status("a thread")
    muted = json_of(alice.post(f"/api/v1/statuses/{root['id']}/mute"))
    assert muted["muted"] is True
    reply = bob.status(f"@{alice.username} a reply", in_reply_to_id=root["id"])
    bob.post(f"/api/v1/statuses/{root['id']}/favourite")
    assert kinds(alice) == []
    assert json_of(alice.get(f"/api/v1/statuses/{reply['id']}"))["muted"] is True
    assert json_of(bob.get(f"/api/v1/statuses/{root['id']}"))["muted"] is False

    assert json_of(alice.post(f"/api/v1/statuses/{reply['id']}/unmute"))["muted"] is False
    bob.post(f"/api/v1/statuses/{reply['id']}/favourite")
    bob.post(f"/api/v1/statuses/{root['id']}/reblog")
    assert kinds(alice) == ["reblog"], "bob's favourite of his own reply notifies nobody"


def test_mute_conversation_of_invisible_status_is_404(alice, bob):
    hidden = bob.status("followers only", visibility="private")
    assert_error(alice.post(f"/api/v1/statuses/{hidden['id']}/mute"), 404)
    assert_error(alice.post(f"/api/v1/statuses/{hidden['id']}/unmute"), 404)


# ---- translate and quotes ----

def test_translate_is_not_available(alice, bob):
    st = bob.status("hola mundo", language="es")
    assert_error(alice.post(f"/api/v1/statuses/{st['id']}/translate", data={"lang": "en"}), 403)
    hidden = bob.status("privado", visibility="private")
    assert_error(alice.post(f"/api/v1/statuses/{hidden['id']}/translate"), 404)


def test_quotes_answer_empty_forms(alice, bob):
    mine = alice.status("quote me")
    assert json_of(bob.get(f"/api/v1/statuses/{mine['id']}/quotes")) == []
    assert_error(alice.post(f"/api/v1/statuses/{mine['id']}/quotes/1/revoke"), 404)
    assert_error(bob.post(f"/api/v1/statuses/{mine['id']}/quotes/1/revoke"), 403)


# ---- polls ----

def poll_status(client, options=("yes", "no"), expires_in=600, **poll):
    return client.status("a question", poll={"options": list(options), "expires_in": expires_in, **poll})


def test_poll_create_view_and_vote(alice, bob, carol):
    st = poll_status(alice, ("red", "green", "blue"), multiple=True)
    poll = st["poll"]
    assert set(poll) == POLL_KEYS and poll["multiple"] is True and poll["expired"] is False
    assert [o["title"] for o in poll["options"]] == ["red", "green", "blue"]
    assert poll["votes_count"] == 0 and poll["voted"] is False and is_datetime(poll["expires_at"])

    voted = json_of(bob.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": [0, 2]}))
    assert voted["voted"] is True and voted["own_votes"] == [0, 2]
    voted = json_of(carol.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": ["2"]}))
    assert [o["votes_count"] for o in voted["options"]] == [1, 0, 2]
    assert voted["votes_count"] == 3 and voted["voters_count"] == 2
    seen = json_of(alice.get(f"/api/v1/polls/{poll['id']}"))
    assert seen["own_votes"] == [] and seen["votes_count"] == 3
    anonymous = json_of(s_get(alice.server, f"/api/v1/polls/{poll['id']}"))
    assert anonymous["votes_count"] == 3
    assert json_of(bob.get(f"/api/v1/statuses/{st['id']}"))["poll"]["own_votes"] == [0, 2]


def test_poll_vote_errors(alice, bob):
    poll = poll_status(alice)["poll"]
    url = f"/api/v1/polls/{poll['id']}/votes"
    assert_error(alice.post(url, json={"choices": [0]}), 422)          # own poll
    assert_error(bob.post(url, json={"choices": [5]}), 422)            # no such option
    assert_error(bob.post(url, json={"choices": ["x"]}), 422)          # not an index
    assert_error(bob.post(url, json={"choices": []}), 422)             # no choice
    assert_error(bob.post(url, json={"choices": [0, 1]}), 422)         # single choice
    assert json_of(bob.post(url, json={"choices": [1]}))["own_votes"] == [1]
    body = assert_error(bob.post(url, json={"choices": [0]}), 422)
    assert "already voted" in body["error"]
    assert_error(bob.post("/api/v1/polls/999999999/votes", json={"choices": [0]}), 404)


def test_poll_of_invisible_status_is_404(alice, bob):
    st = bob.status("followers only poll", visibility="private",
                    poll={"options": ["a", "b"], "expires_in": 600})
    assert_error(alice.get(f"/api/v1/polls/{st['poll']['id']}"), 404)
    assert_error(alice.post(f"/api/v1/polls/{st['poll']['id']}/votes", json={"choices": [0]}), 404)


@pytest.mark.parametrize("poll, why", [
    ({"options": ["a"], "expires_in": 600}, "more than one"),
    ({"options": ["a", "b", "c", "d", "e"], "expires_in": 600}, "more than 4"),
    ({"options": ["a", "x" * 51], "expires_in": 600}, "longer than 50"),
    ({"options": ["a", "a"], "expires_in": 600}, "duplicate"),
    ({"options": ["a", ""], "expires_in": 600}, "blank"),
    ({"options": ["a", "b"], "expires_in": 10}, "at least"),
    ({"options": ["a", "b"], "expires_in": 99999999}, "at most"),
    ({"options": ["a", "b"]}, "expires_in"),
    ({"options": ["a", "b"], "expires_in": "soon"}, "expires_in"),
])
def test_bad_polls_post_nothing(alice, poll, why):
    r = alice.post("/api/v1/statuses", json={"status": "q?", "poll": poll})
    assert why in assert_error(r, 422)["error"]
    assert json_of(alice.get(f"/api/v1/accounts/{alice.id}/statuses")) == []


def test_poll_with_media_is_refused(alice):
    r = alice.post("/api/v1/statuses", json={"status": "q?", "media_ids": ["1"],
                                             "poll": {"options": ["a", "b"], "expires_in": 600}})
    assert_error(r, 422)


def test_instance_advertises_poll_bounds(server):
    polls = json_of(s_get(server, "/api/v2/instance"))["configuration"]["polls"]
    assert polls == {"max_options": 4, "max_characters_per_option": 50,
                     "min_expiration": 300, "max_expiration": 2629746}


def test_poll_ends_and_notifies_once(make_server):
    s = make_server("--config", suite_config_with(poll_expires_in_min_s=1, due_jobs_poll_interval_ms=100))
    author, voter = sign_up(s), sign_up(s)
    st = poll_status(author, expires_in=1)
    voter.post(f"/api/v1/polls/{st['poll']['id']}/votes", json={"choices": [0]})
    assert wait_for(lambda: kinds(voter, "poll")) == ["poll"]
    assert wait_for(lambda: kinds(author, "poll")) == ["poll"]
    ended = json_of(voter.get(f"/api/v1/polls/{st['poll']['id']}"))
    assert ended["expired"] is True
    r = voter.post(f"/api/v1/polls/{st['poll']['id']}/votes", json={"choices": [1]})
    assert "ended" in assert_error(r, 422)["error"]
    time.sleep(0.5)
    assert kinds(voter, "poll") == ["poll"], "a poll ends once"


def test_hidden_totals_until_the_end(alice, bob):
    st = poll_status(alice, hide_totals=True)
    voted = json_of(bob.post(f"/api/v1/polls/{st['poll']['id']}/votes", json={"choices": [0]}))
    assert [o["votes_count"] for o in voted["options"]] == [None, None]
    assert voted["votes_count"] == 1


# ---- scheduled statuses ----

def test_schedule_list_show_move_cancel(alice, bob):
    r = alice.post("/api/v1/statuses", json={"status": "later", "scheduled_at": iso_in(3600),
                                             "visibility": "unlisted",
                                             "poll": {"options": ["a", "b"], "expires_in": 600}})
    sched = json_of(r)
    assert r.status_code == 200, sched
    assert set(sched) == SCHEDULED_KEYS and is_datetime(sched["scheduled_at"])
    p = sched["params"]
    assert p["text"] == "later" and p["visibility"] == "unlisted" and p["scheduled_at"] is None
    assert p["poll"]["options"] == ["a", "b"] and p["poll"]["expires_in"] == "600"
    assert json_of(alice.get(f"/api/v1/accounts/{alice.id}/statuses")) == [], "not posted yet"

    listed = json_of(alice.get("/api/v1/scheduled_statuses"))
    assert [x["id"] for x in listed] == [sched["id"]]
    assert json_of(alice.get(f"/api/v1/scheduled_statuses/{sched['id']}")) == sched

    moved = json_of(alice.put(f"/api/v1/scheduled_statuses/{sched['id']}",
                              json={"scheduled_at": iso_in(7200)}))
    assert moved["scheduled_at"] > sched["scheduled_at"]
    assert_error(alice.put(f"/api/v1/scheduled_statuses/{sched['id']}", json={"scheduled_at": iso_in(10)}), 422)
    assert_error(alice.put(f"/api/v1/scheduled_statuses/{sched['id']}", json={"scheduled_at": "noon"}), 422)

    # Someone else's scheduled status does not exist for them.
    assert_error(bob.get(f"/api/v1/scheduled_statuses/{sched['id']}"), 404)
    assert_error(bob.put(f"/api/v1/scheduled_statuses/{sched['id']}", json={"scheduled_at": iso_in(9000)}), 404)
    assert_error(bob.delete(f"/api/v1/scheduled_statuses/{sched['id']}"), 404)
    assert json_of(bob.get("/api/v1/scheduled_statuses")) == []

    assert json_of(alice.delete(f"/api/v1/scheduled_statuses/{sched['id']}")) == {}
    assert json_of(alice.get("/api/v1/scheduled_statuses")) == []
    assert_error(alice.get(f"/api/v1/scheduled_statuses/{sched['id']}"), 404)


# Offsets, not times: a time computed at collection would be past (and so
# posted at once, as Mastodon does) by the time a long suite reaches the test.
@pytest.mark.parametrize("at", ["yesterday", 60, 290])
def test_schedule_too_soon_or_not_a_time_is_refused(alice, at):
    at = iso_in(at) if isinstance(at, int) else at
    r = alice.post("/api/v1/statuses", json={"status": "when?", "scheduled_at": at})
    assert_error(r, 422)
    assert json_of(alice.get("/api/v1/scheduled_statuses")) == []
    assert json_of(alice.get(f"/api/v1/accounts/{alice.id}/statuses")) == []


@pytest.mark.parametrize("at", [iso_in(-3600), "2020-01-01T00:00:00Z"])
def test_schedule_in_the_past_posts_at_once(alice, at):
    """Mastodon drops a `scheduled_at` already past and posts the status:
    the answer is a Status, and nothing waits in the schedule."""
    r = alice.post("/api/v1/statuses", json={"status": "better late", "scheduled_at": at})
    st = json_of(r)
    assert r.status_code == 200, st
    assert "better late" in st["content"] and "params" not in st and is_datetime(st["created_at"])
    assert json_of(alice.get("/api/v1/scheduled_statuses")) == []
    assert [s["id"] for s in json_of(alice.get(f"/api/v1/accounts/{alice.id}/statuses"))] == [st["id"]]
    # Moving a waiting one into the past is still refused (it would publish nothing on time).
    sched = json_of(alice.post("/api/v1/statuses", json={"status": "later", "scheduled_at": iso_in(3600)}))
    assert_error(alice.put(f"/api/v1/scheduled_statuses/{sched['id']}", json={"scheduled_at": at}), 422)


def test_schedule_validates_like_a_post(alice):
    assert_error(alice.post("/api/v1/statuses", json={"status": "", "scheduled_at": iso_in(3600)}), 422)
    assert_error(alice.post("/api/v1/statuses", json={"status": "x" * 501, "scheduled_at": iso_in(3600)}), 422)
    assert json_of(alice.get("/api/v1/scheduled_statuses")) == []


def test_schedule_idempotency_key(alice):
    body = {"status": "once", "scheduled_at": iso_in(3600)}
    first = json_of(alice.post("/api/v1/statuses", json=body, headers={"Idempotency-Key": "sched-1"}))
    again = json_of(alice.post("/api/v1/statuses", json=body, headers={"Idempotency-Key": "sched-1"}))
    assert first["id"] == again["id"] and first["params"]["idempotency"] == "sched-1"
    assert len(json_of(alice.get("/api/v1/scheduled_statuses"))) == 1


def test_schedule_limits(make_server):
    s = make_server("--config", suite_config_with(scheduled_statuses_max=3, scheduled_statuses_per_day_max=2))
    a = sign_up(s)
    day = 24 * 3600
    midnight = (int(time.time()) // day + 2) * day

    def at(offset):
        return datetime.fromtimestamp(midnight + offset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    for offset in (60, 120):
        assert a.post("/api/v1/statuses", json={"status": "s", "scheduled_at": at(offset)}).status_code == 200
    assert "day" in assert_error(a.post("/api/v1/statuses", json={"status": "s", "scheduled_at": at(180)}), 422)["error"]
    assert a.post("/api/v1/statuses", json={"status": "s", "scheduled_at": at(day + 60)}).status_code == 200
    assert_error(a.post("/api/v1/statuses", json={"status": "s", "scheduled_at": at(2 * day + 60)}), 422)
    assert len(json_of(a.get("/api/v1/scheduled_statuses"))) == 3


def test_scheduled_status_is_published_once_on_time(make_server):
    s = make_server("--config", suite_config_with(scheduled_lead_min_s=1, due_jobs_poll_interval_ms=100))
    a, follower = sign_up(s), sign_up(s)
    follower.post(f"/api/v1/accounts/{a.id}/follow")
    sched = json_of(a.post("/api/v1/statuses", json={"status": f"on time @{follower.username}",
                                                     "scheduled_at": iso_in(2)}))
    assert sched["media_attachments"] == []

    def posted():
        return json_of(a.get(f"/api/v1/accounts/{a.id}/statuses"))
    statuses = wait_for(posted)
    assert [st["content"].count("on time") for st in statuses] == [1]
    assert json_of(a.get("/api/v1/scheduled_statuses")) == []
    assert wait_for(lambda: kinds(follower, "mention")) == ["mention"]
    time.sleep(0.5)
    assert len(posted()) == 1, "published exactly once"
    home = json_of(follower.get("/api/v1/timelines/home"))
    assert [st["id"] for st in home] == [statuses[0]["id"]]

