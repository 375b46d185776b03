"""Filters: /api/v2/filters CRUD with keywords and statuses, /api/v1/filters as
the view of their keywords; applied by the server in the context they name
(hide drops the status, warn/blur set `filtered`); expiry; someone else's
filter is 404; bounds; the `filters_changed` streaming event."""
import json
import time

import pytest
import requests

from conftest import sign_up, suite_config_with
from helpers import assert_error, is_datetime, json_of, link_params, parse_link, scoped_token
from streamclient import SSE

FILTER_KEYS = {"id", "title", "context", "expires_at", "filter_action", "keywords", "statuses"}


def make_filter(client, title="cats", context=("home",), action=None, keywords=(("cat", False),),
                **fields):
    body = {"title": title, "context": list(context),
            "keywords_attributes": [{"keyword": k, "whole_word": w} for k, w in keywords], **fields}
    if action:
        body["filter_action"] = action
    r = client.post("/api/v2/filters", json=body)
    made = json_of(r)
    assert r.status_code == 200, made
    assert set(made) == FILTER_KEYS
    return made


def ids(r):
    return [x["id"] for x in json_of(r)]


def follow(client, other):
    assert json_of(client.post(f"/api/v1/accounts/{other.id}/follow"))["following"]


def test_filter_crud(alice):
    made = make_filter(alice, "No cats", context=("home", "public"),
                       keywords=(("cat", False), ("Kitten", True)))
    assert made["title"] == "No cats" and made["context"] == ["home", "public"]
    assert made["filter_action"] == "warn" and made["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [("cat", False), ("Kitten", True)]
    assert made["statuses"] == []
    fid = made["id"]
    assert json_of(alice.get(f"/api/v2/filters/{fid}")) == made
    assert json_of(alice.get("/api/v2/filters")) == [made]

    # Rails' form encoding, as the docs' example sends it.
    r = alice.post("/api/v2/filters", data=[
        ("title", "form"), ("context[]", "thread"), ("filter_action", "hide"),
        ("keywords_attributes[][keyword]", "foo"), ("keywords_attributes[][whole_word]", "false"),
        ("keywords_attributes[][keyword]", "bar"), ("keywords_attributes[][whole_word]", "true")])
    form = json_of(r)
    assert r.status_code == 200, form
    assert form["filter_action"] == "hide" and form["context"] == ["thread"]
    assert [(k["keyword"], k["whole_word"]) for k in form["keywords"]] == [("foo", False), ("bar", True)]

    # Update: fields, and keywords removed, changed and added in one go.
    cat, kitten = made["keywords"]
    r = alice.put(f"/api/v2/filters/{fid}", json={
        "title": "Fewer cats", "filter_action": "blur", "context": ["notifications"],
        "keywords_attributes": [{"id": cat["id"], "_destroy": True},
                                {"id": kitten["id"], "keyword": "kitty"},
                                {"keyword": "meow", "whole_word": False}]})
    changed = json_of(r)
    assert r.status_code == 200, changed
    assert changed["title"] == "Fewer cats" and changed["filter_action"] == "blur"
    assert changed["context"] == ["notifications"]
    assert [(k["keyword"], k["whole_word"]) for k in changed["keywords"]] == [("kitty", True), ("meow", False)]
    assert changed["keywords"][0]["id"] == kitten["id"]

    r = alice.delete(f"/api/v2/filters/{fid}")
    assert r.status_code == 200 and r.json() == {}
    assert_error(alice.get(f"/api/v2/filters/{fid}"), 404)
    assert ids(alice.get("/api/v2/filters")) == [form["id"]]


def test_keywords_and_statuses_of_a_filter(alice, bob):
    made = make_filter(alice, keywords=())
    fid = made["id"]
    r = alice.post(f"/api/v2/filters/{fid}/keywords", json={"keyword": "dog", "whole_word": True})
    kw = json_of(r)
    assert r.status_code == 200 and kw["keyword"] == "dog" and kw["whole_word"] is True
    assert json_of(alice.get(f"/api/v2/filters/{fid}/keywords")) == [kw]
    assert json_of(alice.get(f"/api/v2/filters/keywords/{kw['id']}")) == kw
    r = alice.put(f"/api/v2/filters/keywords/{kw['id']}", data={"keyword": "dogs", "whole_word": "false"})
    assert json_of(r) == {**kw, "keyword": "dogs", "whole_word": False}
    assert alice.delete(f"/api/v2/filters/keywords/{kw['id']}").json() == {}
    assert json_of(alice.get(f"/api/v2/filters/{fid}/keywords")) == []
    assert_error(alice.get(f"/api/v2/filters/keywords/{kw['id']}"), 404)

    post = bob.status("a post to filter by id")
    r = alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": post["id"]})
    fs = json_of(r)
    assert r.status_code == 200 and fs["status_id"] == post["id"] and set(fs) == {"id", "status_id"}
    # Adding it again is harmless: the same row.
    assert json_of(alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": post["id"]})) == fs
    assert json_of(alice.get(f"/api/v2/filters/{fid}/statuses")) == [fs]
    assert json_of(alice.get(f"/api/v2/filters/statuses/{fs['id']}")) == fs
    assert json_of(alice.get(f"/api/v2/filters/{fid}"))["statuses"] == [fs]
    assert alice.delete(f"/api/v2/filters/statuses/{fs['id']}").json() == {}
    assert_error(alice.get(f"/api/v2/filters/statuses/{fs['id']}"), 404)
    # A status the caller cannot see, or no status at all.
    secret = bob.status("followers only", visibility="private")
    assert_error(alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": secret["id"]}), 404)
    assert_error(alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": "x"}), 404)
    assert_error(alice.post(f"/api/v2/filters/{fid}/statuses", json={}), 422)


def test_someone_elses_filter_is_404(alice, bob):
    theirs = make_filter(bob, keywords=(("secret", False),))
    post = alice.status("mine")
    fs = json_of(bob.post(f"/api/v2/filters/{theirs['id']}/statuses", json={"status_id": post["id"]}))
    fid, kid, sid = theirs["id"], theirs["keywords"][0]["id"], fs["id"]
    for r in [
        alice.get(f"/api/v2/filters/{fid}"),
        alice.put(f"/api/v2/filters/{fid}", json={"title": "mine now"}),
        alice.delete(f"/api/v2/filters/{fid}"),
        alice.get(f"/api/v2/filters/{fid}/keywords"),
        alice.post(f"/api/v2/filters/{fid}/keywords", json={"keyword": "x"}),
        alice.get(f"/api/v2/filters/keywords/{kid}"),
        alice.put(f"/api/v2/filters/keywords/{kid}", json={"keyword": "x"}),
        alice.delete(f"/api/v2/filters/keywords/{kid}"),
        alice.get(f"/api/v2/filters/{fid}/statuses"),
        alice.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": post["id"]}),
        alice.get(f"/api/v2/filters/statuses/{sid}"),
        alice.delete(f"/api/v2/filters/statuses/{sid}"),
        alice.get(f"/api/v1/filters/{kid}"),
        alice.put(f"/api/v1/filters/{kid}", json={"phrase": "x", "context": ["home"]}),
        alice.delete(f"/api/v1/filters/{kid}"),
        # A keyword of someone else's filter, named in my filter's update.
        alice.put(f"/api/v2/filters/{make_filter(alice)['id']}",
                  json={"keywords_attributes": [{"id": kid, "_destroy": True}]}),
        alice.get("/api/v2/filters/not-an-id"),
    ]:
        assert_error(r, 404)
    assert json_of(bob.get(f"/api/v2/filters/{fid}")) == {**theirs, "statuses": [fs]}
    assert_error(requests.get(alice.server.url("/api/v2/filters"), timeout=30), 401)


@pytest.mark.parametrize("body", [
    {"title": "", "context": ["home"]},
    {"title": "t", "context": []},
    {"title": "t"},
    {"title": "t", "context": ["home", "everywhere"]},
    {"title": "t", "context": ["home"], "filter_action": "explode"},
    {"title": "t", "context": ["home"], "expires_in": -5},
    {"title": "t", "context": ["home"], "expires_in": "soon"},
    {"title": "t", "context": ["home"], "expires_in": 10 ** 12},
    {"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": ""}]},
    {"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": "k" * 101}]},
    {"title": "x" * 257, "context": ["home"]},
])
def test_bad_filter_fields_change_nothing(alice, body):
    assert_error(alice.post("/api/v2/filters", json=body), 422)
    assert json_of(alice.get("/api/v2/filters")) == []


def test_bad_updates_change_nothing(alice):
    made = make_filter(alice)
    fid = made["id"]
    for body in [{"context": ["nowhere"]}, {"filter_action": "bad"}, {"title": " "},
                 {"expires_in": 0},
                 {"keywords_attributes": [{"keyword": "ok"}, {"keyword": "k" * 101}]}]:
        assert_error(alice.put(f"/api/v2/filters/{fid}", json=body), 422)
    assert_error(alice.post(f"/api/v2/filters/{fid}/keywords", json={"keyword": "  "}), 422)
    assert_error(alice.put(f"/api/v2/filters/keywords/{made['keywords'][0]['id']}",
                           json={"keyword": "k" * 101}), 422)
    assert json_of(alice.get(f"/api/v2/filters/{fid}")) == made
    # A keyword id on create names nothing (Mastodon: 404).
    assert_error(alice.post("/api/v2/filters", json={
        "title": "t", "context": ["home"],
        "keywords_attributes": [{"id": made["keywords"][0]["id"], "keyword": "x"}]}), 404)


def test_filter_bounds(make_server):
    s = make_server("--config", suite_config_with(filters_per_account_max=2,
                                            filter_keywords_per_filter_max=2,
                                            filter_keyword_max_chars=5))
    me = sign_up(s)
    assert_error(me.post("/api/v2/filters", json={
        "title": "t", "context": ["home"], "keywords_attributes": [{"keyword": "sixsix"}]}), 422)
    assert_error(me.post("/api/v2/filters", json={
        "title": "t", "context": ["home"],
        "keywords_attributes": [{"keyword": "a"}, {"keyword": "b"}, {"keyword": "c"}]}), 422)
    first = make_filter(me, keywords=(("a", True), ("b", True)))
    assert_error(me.post(f"/api/v2/filters/{first['id']}/keywords", json={"keyword": "c"}), 422)
    assert_error(me.put(f"/api/v2/filters/{first['id']}",
                        json={"keywords_attributes": [{"keyword": "c"}]}), 422)
    assert len(json_of(me.get(f"/api/v2/filters/{first['id']}"))["keywords"]) == 2
    make_filter(me, "second")
    assert_error(me.post("/api/v2/filters", json={"title": "third", "context": ["home"]}), 422)
    assert len(json_of(me.get("/api/v2/filters"))) == 2


def test_filters_need_their_scopes(server, alice):
    made = make_filter(alice)
    read_only = {"Authorization": f"Bearer {scoped_token(server, alice, 'read:filters')}"}
    assert requests.get(server.url("/api/v2/filters"), headers=read_only, timeout=30).status_code == 200
    assert requests.get(server.url("/api/v1/filters"), headers=read_only, timeout=30).status_code == 200
    assert_error(requests.post(server.url("/api/v2/filters"), headers=read_only,
                               json={"title": "x", "context": ["home"]}, timeout=30), 403)
    assert_error(requests.delete(server.url(f"/api/v2/filters/{made['id']}"), headers=read_only,
                                 timeout=30), 403)


# ---------------------------------------------------------------- applied

def visible(client, path, status_id):
    """The status as `path` shows it to `client` (None when absent)."""
    r = client.get(path)
    for s in json_of(r):
        if s["id"] == status_id or (s.get("reblog") or {}).get("id") == status_id:
            return s
    return None


def test_hide_and_warn_in_home_public_tag_account_and_list(alice, bob):
    follow(alice, bob)
    tag = "fl" + bob.username[-6:]
    hidden = bob.status(f"I love Durian so much #{tag}")
    warned = bob.status(f"broccoli for dinner #{tag}")
    plain = bob.status(f"nothing to see #{tag}")
    lst = json_of(alice.post("/api/v1/lists", json={"title": "b"}))
    alice.post(f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [bob.id]})
    places = {
        "home": "/api/v1/timelines/home",
        "public": "/api/v1/timelines/public?local=true&limit=40",
        "account": f"/api/v1/accounts/{bob.id}/statuses",
    }
    tag_path = f"/api/v1/timelines/tag/{tag}"
    list_path = f"/api/v1/timelines/list/{lst['id']}"
    for path in [*places.values(), tag_path, list_path]:
        assert visible(alice, path, hidden["id"])["filtered"] == []

    for context, path in places.items():
        hide = make_filter(alice, f"hide {context}", context=(context,), action="hide",
                           keywords=(("durian", True),))
        warn = make_filter(alice, f"warn {context}", context=(context,), action="warn",
                           keywords=(("Broccoli", False),))
        assert visible(alice, path, hidden["id"]) is None, path
        shown = visible(alice, path, warned["id"])
        assert len(shown["filtered"]) == 1, (path, shown["filtered"])
        result = shown["filtered"][0]
        assert result["keyword_matches"] == ["Broccoli"]
        assert result["filter"]["id"] == warn["id"] and result["filter"]["filter_action"] == "warn"
        assert set(result["filter"]) == {"id", "title", "context", "expires_at", "filter_action"}
        assert visible(alice, path, plain["id"])["filtered"] == []
        # The other contexts are untouched by this context's filters.
        for other, other_path in places.items():
            if other != context:
                assert visible(alice, other_path, hidden["id"]) is not None, (context, other)
                assert visible(alice, other_path, warned["id"])["filtered"] == []
        if context == "home":
            assert visible(alice, list_path, hidden["id"]) is None
        if context == "public":
            assert visible(alice, tag_path, hidden["id"]) is None
        alice.delete(f"/api/v2/filters/{hide['id']}")
        alice.delete(f"/api/v2/filters/{warn['id']}")
        assert visible(alice, path, hidden["id"]) is not None
    # Nobody else is affected, and the author sees its own statuses.
    assert visible(bob, places["home"], hidden["id"]) is not None


def test_blur_whole_word_and_status_filters(alice, bob):
    follow(alice, bob)
    cats = bob.status("Concatenate the CAT pictures")
    concat = bob.status("concatenate these")
    by_id = bob.status("filtered by its id")
    f = make_filter(alice, "whole", action="blur", keywords=(("cat", True),))
    assert visible(alice, "/api/v1/timelines/home", cats["id"])["filtered"][0]["keyword_matches"] == ["cat"]
    assert visible(alice, "/api/v1/timelines/home", cats["id"])["filtered"][0]["filter"]["filter_action"] == "blur"
    assert visible(alice, "/api/v1/timelines/home", concat["id"])["filtered"] == []
    fs = json_of(alice.post(f"/api/v2/filters/{f['id']}/statuses", json={"status_id": by_id["id"]}))
    got = visible(alice, "/api/v1/timelines/home", by_id["id"])["filtered"]
    assert got[0]["status_matches"] == [by_id["id"]] and got[0]["keyword_matches"] == []
    # A reblog is judged by what it reblogs, and carries the result.
    carol = sign_up(alice.server)
    follow(alice, carol)
    boost = json_of(carol.post(f"/api/v1/statuses/{by_id['id']}/reblog"))
    shown = [s for s in json_of(alice.get("/api/v1/timelines/home")) if s["id"] == boost["id"]][0]
    assert shown["filtered"][0]["status_matches"] == [by_id["id"]]
    assert fs["status_id"] == by_id["id"]


def test_status_by_id_favourites_and_bookmarks_carry_every_match(alice, bob):
    """Outside a timeline (a status opened by id, several by `id[]`, the
    reader's favourites and bookmarks) nothing is removed: each status
    carries the matches of the reader's filters in every context, `hide`
    ones included, and the app applies the context (as Mastodon renders them)."""
    durian = bob.status("Durian season again")
    broccoli = bob.status("broccoli for lunch")
    plain = bob.status("nothing to see")
    for st in (durian, broccoli, plain):
        alice.post(f"/api/v1/statuses/{st['id']}/favourite")
        alice.post(f"/api/v1/statuses/{st['id']}/bookmark")
    hide = make_filter(alice, "hide public", context=("public",), action="hide", keywords=(("durian", True),))
    warn = make_filter(alice, "warn thread", context=("thread",), action="warn", keywords=(("broccoli", False),))

    def matches(shown):
        return [(f["filter"]["id"], f["filter"]["filter_action"], f["keyword_matches"]) for f in shown["filtered"]]
    by_id = {st["id"]: json_of(alice.get(f"/api/v1/statuses/{st['id']}")) for st in (durian, broccoli, plain)}
    assert matches(by_id[durian["id"]]) == [(hide["id"], "hide", ["durian"])]
    assert matches(by_id[broccoli["id"]]) == [(warn["id"], "warn", ["broccoli"])]
    assert matches(by_id[plain["id"]]) == []
    several = json_of(alice.get("/api/v1/statuses", params={"id[]": [durian["id"], plain["id"]]}))
    assert [matches(s) for s in several] == [[(hide["id"], "hide", ["durian"])], []]
    for path in ("/api/v1/favourites", "/api/v1/bookmarks"):
        listed = {s["id"]: matches(s) for s in json_of(alice.get(path))}
        assert listed == {durian["id"]: [(hide["id"], "hide", ["durian"])],
                          broccoli["id"]: [(warn["id"], "warn", ["broccoli"])], plain["id"]: []}, path
    # Someone without filters, and the author, see no matches.
    assert json_of(bob.get(f"/api/v1/statuses/{durian['id']}"))["filtered"] == []
    # An expired filter no longer matches.
    alice.put(f"/api/v2/filters/{hide['id']}", json={"expires_in": 1})
    time.sleep(2.5)
    assert json_of(alice.get(f"/api/v1/statuses/{durian['id']}"))["filtered"] == []


def test_hidden_statuses_keep_paging_correct(alice, bob):
    follow(alice, bob)
    posts = [bob.status(f"page item {i} {'durian' if i % 2 else 'apple'}") for i in range(6)]
    make_filter(alice, "hide", action="hide", keywords=(("durian", True),))
    r = alice.get("/api/v1/timelines/home?limit=2")
    first = json_of(r)
    # The newest two were fetched; one is hidden. The next page starts after both.
    assert [s["id"] for s in first] == [posts[4]["id"]]
    nxt = link_params(parse_link(r)["next"])
    assert nxt["max_id"] == posts[4]["id"]
    r2 = alice.get("/api/v1/timelines/home", params={"limit": 2, "max_id": nxt["max_id"]})
    assert [s["id"] for s in json_of(r2)] == [posts[2]["id"]]
    assert link_params(parse_link(r2)["next"])["max_id"] == posts[2]["id"]


def test_thread_notifications_and_search(alice, bob):
    follow(alice, bob)
    root = alice.status("what is for dinner?")
    reply = bob.status(f"@{alice.username} durian soup", in_reply_to_id=root["id"])
    other = bob.status(f"@{alice.username} salad", in_reply_to_id=root["id"])
    ctx = f"/api/v1/statuses/{root['id']}/context"
    assert {s["id"] for s in json_of(alice.get(ctx))["descendants"]} == {reply["id"], other["id"]}
    warn = make_filter(alice, "thread warn", context=("thread", "notifications"),
                       keywords=(("durian", True),))
    desc = {s["id"]: s for s in json_of(alice.get(ctx))["descendants"]}
    assert desc[reply["id"]]["filtered"][0]["filter"]["id"] == warn["id"]
    notes = {n["status"]["id"]: n for n in json_of(alice.get("/api/v1/notifications?types[]=mention"))}
    assert notes[reply["id"]]["status"]["filtered"][0]["keyword_matches"] == ["durian"]
    alice.put(f"/api/v2/filters/{warn['id']}", json={"filter_action": "hide"})
    assert {s["id"] for s in json_of(alice.get(ctx))["descendants"]} == {other["id"]}
    notes = [n["status"]["id"] for n in json_of(alice.get("/api/v1/notifications?types[]=mention"))]
    assert reply["id"] not in notes and other["id"] in notes
    grouped = json_of(alice.get("/api/v2/notifications?types[]=mention"))
    assert reply["id"] not in {s["id"] for s in grouped["statuses"]}
    assert reply["id"] not in {g.get("status_id") for g in grouped["notification_groups"]}
    assert other["id"] in {g.get("status_id") for g in grouped["notification_groups"]}
    # Search: the public context.
    word = "srch" + bob.username[-6:]
    found = bob.status(f"{word} durian")
    q = {"q": word, "type": "statuses"}
    assert [s["id"] for s in json_of(alice.get("/api/v2/search", params=q))["statuses"]] == [found["id"]]
    make_filter(alice, "public hide", context=("public",), action="hide", keywords=(("durian", True),))
    assert json_of(alice.get("/api/v2/search", params=q))["statuses"] == []


def test_expired_filters_stop_applying(alice, bob):
    follow(alice, bob)
    post = bob.status("ephemeral durian")
    f = make_filter(alice, "short", action="hide", keywords=(("durian", True),), expires_in=2)
    assert is_datetime(f["expires_at"])
    assert visible(alice, "/api/v1/timelines/home", post["id"]) is None
    deadline = time.monotonic() + 10
    while visible(alice, "/api/v1/timelines/home", post["id"]) is None:
        assert time.monotonic() < deadline, "the filter never expired"
        time.sleep(0.5)
    # Still listed (Mastodon lists expired filters); never expiring again with an empty expires_in.
    assert json_of(alice.get(f"/api/v2/filters/{f['id']}"))["expires_at"] == f["expires_at"]
    back = json_of(alice.put(f"/api/v2/filters/{f['id']}", data={"expires_in": ""}))
    assert back["expires_at"] is None
    assert visible(alice, "/api/v1/timelines/home", post["id"]) is None


# ---------------------------------------------------------------- v1

def test_v1_filters_are_keywords(alice, bob):
    r = alice.post("/api/v1/filters", data=[("phrase", "Durian"), ("context[]", "home"),
                                            ("context[]", "public"), ("irreversible", "true"),
                                            ("whole_word", "true")])
    v1 = json_of(r)
    assert r.status_code == 200, v1
    assert set(v1) == {"id", "phrase", "context", "whole_word", "expires_at", "irreversible"}
    assert v1["phrase"] == "Durian" and v1["context"] == ["home", "public"]
    assert v1["irreversible"] is True and v1["whole_word"] is True and v1["expires_at"] is None
    v2 = json_of(alice.get("/api/v2/filters"))
    assert len(v2) == 1 and v2[0]["title"] == "Durian" and v2[0]["filter_action"] == "hide"
    assert v2[0]["keywords"][0]["id"] == v1["id"]
    assert json_of(alice.get("/api/v1/filters")) == [v1]
    assert json_of(alice.get(f"/api/v1/filters/{v1['id']}")) == v1
    changed = json_of(alice.put(f"/api/v1/filters/{v1['id']}", json={
        "phrase": "mango", "context": ["thread"], "irreversible": False, "whole_word": False}))
    assert changed == {**v1, "phrase": "mango", "context": ["thread"], "irreversible": False,
                       "whole_word": False}
    # A v2 filter's keywords each appear as one v1 filter.
    multi = make_filter(alice, "two", keywords=(("a1", True), ("b2", False)))
    listed = json_of(alice.get("/api/v1/filters"))
    assert [f["phrase"] for f in listed] == ["mango", "a1", "b2"]
    # Changing the filter's settings through one keyword of several is refused.
    assert_error(alice.put(f"/api/v1/filters/{multi['keywords'][0]['id']}",
                           json={"phrase": "a1", "context": ["public"]}), 422)
    assert_error(alice.post("/api/v1/filters", json={"phrase": "", "context": ["home"]}), 422)
    assert_error(alice.post("/api/v1/filters", json={"phrase": "x", "context": ["bad"]}), 422)
    assert alice.delete(f"/api/v1/filters/{v1['id']}").json() == {}
    # Its filter had nothing else: it went too.
    assert ids(alice.get("/api/v2/filters")) == [multi["id"]]


def test_filters_changed_is_streamed(server, alice):
    user = SSE(server, "/api/v1/streaming/user", alice.token)
    made = make_filter(alice)
    kind, _ = user.next({"filters_changed"})
    assert kind == "filters_changed"
    alice.delete(f"/api/v2/filters/{made['id']}")
    assert user.next({"filters_changed"})[0] == "filters_changed"
    user.close()


def test_streamed_updates_are_filtered(server, alice, bob):
    follow(alice, bob)
    make_filter(alice, "hide", context=("home",), action="hide", keywords=(("durian", True),))
    make_filter(alice, "warn", context=("home",), keywords=(("mango", True),))
    user = SSE(server, "/api/v1/streaming/user", alice.token)
    bob.status("durian here")
    warned = bob.status("mango here")
    kind, data = user.next({"update"})
    got = json.loads(data)
    assert got["id"] == warned["id"], "the hidden status was streamed"
    assert got["filtered"][0]["keyword_matches"] == ["mango"]
    user.close()


def test_public_stream_applies_each_viewers_filters(server, alice, bob, carol):
    make_filter(alice, "hide", context=("public",), action="hide", keywords=(("durian", True),))
    mine = SSE(server, "/api/v1/streaming/public/local", alice.token)
    theirs = SSE(server, "/api/v1/streaming/public/local", carol.token)
    hidden = bob.status("durian on the public stream")
    shown = bob.status("apples on the public stream")
    assert json.loads(theirs.next({"update"})[1])["id"] == hidden["id"]
    assert json.loads(mine.next({"update"})[1])["id"] == shown["id"]
    mine.close()
    theirs.close()
