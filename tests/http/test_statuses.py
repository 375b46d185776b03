"""Statuses: posting, viewing, deleting, threads, favourites, reblogs,
bookmarks, content rendering and length rules."""
import re
import uuid

import requests

from helpers import (TagAttrs, anon_get, assert_account, assert_error, assert_status, ids,
                     is_id, statuses_count, uniq)

T = 30


# ---------------------------------------------------------------- create

def test_post_status_json(alice):
    r = alice.post("/api/v1/statuses", json={"status": "Hello, world"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert_status(s)
    assert "Hello, world" in s["content"]
    assert s["content"].startswith("<p>")
    assert s["visibility"] == "public"
    assert s["account"]["id"] == alice.id
    assert s["in_reply_to_id"] is None and s["reblog"] is None
    assert s["favourites_count"] == s["reblogs_count"] == s["replies_count"] == 0
    assert s["favourited"] is False and s["reblogged"] is False and s["bookmarked"] is False
    assert s["sensitive"] is False and s["spoiler_text"] == ""
    assert s["application"]["name"] == "holdfast-tests"
    assert s["poll"] is None and s["card"] is None
    assert s["media_attachments"] == [] and s["mentions"] == [] and s["tags"] == []
    assert s["url"] and alice.username in s["url"]


def test_post_status_form(alice):
    r = alice.post("/api/v1/statuses", data={"status": "form post", "visibility": "unlisted",
                                             "sensitive": "true", "spoiler_text": "cw"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert "form post" in s["content"]
    assert s["visibility"] == "unlisted"
    assert s["sensitive"] is True
    assert s["spoiler_text"] == "cw"


def test_post_status_options(alice):
    s = alice.status("options", visibility="private", spoiler_text="spoilers!",
                     sensitive=True, language="de")
    assert s["visibility"] == "private"
    assert s["spoiler_text"] == "spoilers!"
    assert s["sensitive"] is True
    assert s["language"] == "de"


def test_post_takes_what_it_leaves_unsaid_from_the_authors_preferences(alice):
    # Taken by the post's own transaction (issue 10): the preference changed
    # just before is the one used; what the post says is kept.
    r = alice.patch("/api/v1/accounts/update_credentials",
                    data={"source[privacy]": "private", "source[sensitive]": "true",
                          "source[language]": "fr"})
    assert r.status_code == 200, r.text
    s = alice.status("as I prefer")
    assert (s["visibility"], s["sensitive"], s["language"]) == ("private", True, "fr")
    read = alice.get(f"/api/v1/statuses/{s['id']}").json()
    assert (read["visibility"], read["sensitive"], read["language"]) == ("private", True, "fr")
    s = alice.status("as I say", visibility="unlisted", sensitive=False, language="de")
    assert (s["visibility"], s["sensitive"], s["language"]) == ("unlisted", False, "de")
    r = alice.patch("/api/v1/accounts/update_credentials", data={"source[privacy]": "unlisted"})
    assert r.status_code == 200, r.text
    assert alice.status("changed my mind")["visibility"] == "unlisted"


def test_post_status_ids_are_increasing_strings(alice):
    a = alice.status("a")
    b = alice.status("b")
    assert is_id(a["id"]) and is_id(b["id"])
    assert int(b["id"]) > int(a["id"])


def test_idempotency_key_returns_same_status(alice):
    key = str(uuid.uuid4())
    r1 = alice.post("/api/v1/statuses", json={"status": "only once"},
                    headers={"Idempotency-Key": key})
    r2 = alice.post("/api/v1/statuses", json={"status": "only once"},
                    headers={"Idempotency-Key": key})
    assert r1.status_code == r2.status_code == 200, (r1.text, r2.text)
    assert r1.json()["id"] == r2.json()["id"]
    assert statuses_count(alice.server, alice.id) == 1
    r3 = alice.post("/api/v1/statuses", json={"status": "only once"},
                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r3.json()["id"] != r1.json()["id"]
    assert statuses_count(alice.server, alice.id) == 2


def test_idempotency_key_is_per_account(alice, bob):
    key = str(uuid.uuid4())
    a = alice.post("/api/v1/statuses", json={"status": "a"}, headers={"Idempotency-Key": key})
    b = bob.post("/api/v1/statuses", json={"status": "b"}, headers={"Idempotency-Key": key})
    assert a.status_code == b.status_code == 200
    assert a.json()["id"] != b.json()["id"]
    assert b.json()["account"]["id"] == bob.id


def test_empty_status_rejected(alice):
    for body in ({"status": ""}, {"status": "   \n  "}, {}):
        assert_error(alice.post("/api/v1/statuses", json=body), 422)
    assert statuses_count(alice.server, alice.id) == 0


def test_length_limit(alice):
    assert alice.post("/api/v1/statuses", json={"status": "x" * 500}).status_code == 200
    assert_error(alice.post("/api/v1/statuses", json={"status": "x" * 501}), 422)
    assert statuses_count(alice.server, alice.id) == 1


def test_length_counts_characters_not_bytes(alice):
    r = alice.post("/api/v1/statuses", json={"status": "é" * 500})
    assert r.status_code == 200, r.text
    r = alice.post("/api/v1/statuses", json={"status": "日" * 500})
    assert r.status_code == 200, r.text


def test_length_url_counts_as_23(alice):
    url = "https://example.com/" + "a" * 200
    text = url + " " + "y" * 470  # 23 + 1 + 470 = 494
    r = alice.post("/api/v1/statuses", json={"status": text})
    assert r.status_code == 200, r.text
    text = url + " " + "y" * 477  # 23 + 1 + 477 = 501
    assert_error(alice.post("/api/v1/statuses", json={"status": text}), 422)
    assert statuses_count(alice.server, alice.id) == 1


def test_spoiler_counts_towards_length(alice):
    r = alice.post("/api/v1/statuses", json={"status": "x" * 450, "spoiler_text": "s" * 51})
    assert_error(r, 422)
    assert statuses_count(alice.server, alice.id) == 0


def test_invalid_visibility_rejected(alice):
    assert_error(alice.post("/api/v1/statuses", json={"status": "x", "visibility": "secret"}),
                 422)
    assert statuses_count(alice.server, alice.id) == 0


def test_reply_to_unknown_status(alice):
    r = alice.post("/api/v1/statuses",
                   json={"status": "reply", "in_reply_to_id": "999999999999999999"})
    assert_error(r, 404, 422)
    assert statuses_count(alice.server, alice.id) == 0


# ---------------------------------------------------------------- content rendering

def test_content_escapes_html(alice):
    s = alice.status('<script>alert("x")</script> & <b>bold</b>')
    assert "<script" not in s["content"].lower()
    assert "&lt;script&gt;" in s["content"]
    assert "<b>" not in s["content"]
    assert "&amp;" in s["content"]


def test_content_escapes_attribute_injection(alice):
    s = alice.status('https://example.com/"onmouseover="alert(1)" <img src=x onerror=alert(2)>')
    parsed = TagAttrs(s["content"])
    assert "img" not in parsed.tags, s["content"]
    assert not [a for a in parsed.attrs if a[1].startswith("on")], s["content"]
    for tag, name, value in parsed.attrs:
        if name == "href":
            assert value.startswith(("https://", "http://")), value


def test_content_linkifies_urls(alice):
    s = alice.status("see https://example.com/path?q=1 now")
    assert re.search(r'<a [^>]*href="https://example\.com/path\?q=1"', s["content"]), s["content"]


def test_content_mentions(alice, bob):
    s = alice.status(f"hi @{bob.username} how are you")
    assert len(s["mentions"]) == 1
    m = s["mentions"][0]
    assert m["id"] == bob.id
    assert m["username"] == bob.username
    assert m["acct"] == bob.username
    assert bob.username in m["url"]
    assert re.search(r'<a [^>]*href="[^"]*' + re.escape(bob.username), s["content"]), s["content"]
    assert "mention" in s["content"]


def test_content_mention_of_unknown_user_is_plain(alice):
    ghost = uniq("ghost")
    s = alice.status(f"hi @{ghost}")
    assert s["mentions"] == []
    assert ghost in s["content"]


def test_content_hashtags(alice):
    tag = uniq("Tag")
    s = alice.status(f"about #{tag} things")
    assert len(s["tags"]) == 1
    t = s["tags"][0]
    assert t["name"].lower() == tag.lower()
    assert t["url"].lower().endswith(f"/tags/{tag.lower()}")
    assert re.search(r'<a [^>]*href="[^"]*/tags/' + tag.lower(), s["content"], re.I), s["content"]
    assert "hashtag" in s["content"]


def test_content_newlines(alice):
    s = alice.status("line one\nline two")
    assert "line one" in s["content"] and "line two" in s["content"]
    assert "<br" in s["content"] or s["content"].count("<p>") == 2


# ---------------------------------------------------------------- get / delete

def test_get_status_anonymous(alice):
    s = alice.status("public hello")
    r = anon_get(alice.server, f"/api/v1/statuses/{s['id']}")
    assert r.status_code == 200, r.text
    assert_status(r.json(), anonymous=True)
    assert r.json()["id"] == s["id"]
    assert r.json()["content"] == s["content"]


def test_get_status_unknown_or_non_numeric(server):
    assert_error(anon_get(server, "/api/v1/statuses/999999999999999999"), 404)
    assert_error(anon_get(server, "/api/v1/statuses/abc"), 404)


def test_delete_status_returns_source(alice):
    s = alice.status("to be deleted #gone")
    assert statuses_count(alice.server, alice.id) == 1
    r = alice.delete(f"/api/v1/statuses/{s['id']}")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["id"] == s["id"]
    assert d["text"] == "to be deleted #gone"
    assert_error(alice.get(f"/api/v1/statuses/{s['id']}"), 404)
    assert statuses_count(alice.server, alice.id) == 0
    assert_error(alice.delete(f"/api/v1/statuses/{s['id']}"), 404)


def test_cannot_delete_others_status(alice, bob):
    s = alice.status("mine")
    assert_error(bob.delete(f"/api/v1/statuses/{s['id']}"), 403, 404)
    assert alice.get(f"/api/v1/statuses/{s['id']}").status_code == 200
    assert statuses_count(alice.server, alice.id) == 1


def test_delete_requires_auth(alice):
    s = alice.status("mine")
    r = requests.delete(alice.server.url(f"/api/v1/statuses/{s['id']}"), timeout=T)
    assert_error(r, 401)
    assert alice.get(f"/api/v1/statuses/{s['id']}").status_code == 200


# ---------------------------------------------------------------- threads

def test_context_and_replies(alice, bob, carol):
    root = alice.status("root")
    r1 = bob.status(f"@{alice.username} reply 1", in_reply_to_id=root["id"])
    assert r1["in_reply_to_id"] == root["id"]
    assert r1["in_reply_to_account_id"] == alice.id
    r2 = carol.status(f"@{bob.username} reply 2", in_reply_to_id=r1["id"])
    side = alice.status("side reply", in_reply_to_id=root["id"])

    ctx = anon_get(alice.server, f"/api/v1/statuses/{r1['id']}/context")
    assert ctx.status_code == 200, ctx.text
    c = ctx.json()
    assert ids(c["ancestors"]) == [root["id"]]
    assert ids(c["descendants"]) == [r2["id"]]

    c = alice.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert c["ancestors"] == []
    assert set(ids(c["descendants"])) == {r1["id"], r2["id"], side["id"]}
    # descendants come in thread order: a reply after its parent
    d = ids(c["descendants"])
    assert d.index(r1["id"]) < d.index(r2["id"])

    c = alice.get(f"/api/v1/statuses/{r2['id']}/context").json()
    assert ids(c["ancestors"]) == [root["id"], r1["id"]]  # oldest first
    assert c["descendants"] == []

    assert alice.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 2
    assert alice.get(f"/api/v1/statuses/{r1['id']}").json()["replies_count"] == 1


def test_context_unknown(server):
    assert_error(anon_get(server, "/api/v1/statuses/999999999999999999/context"), 404)


def test_deleting_reply_updates_replies_count(alice, bob):
    root = alice.status("root")
    rep = bob.status("reply", in_reply_to_id=root["id"])
    assert alice.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 1
    bob.delete(f"/api/v1/statuses/{rep['id']}")
    assert alice.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 0
    assert alice.get(f"/api/v1/statuses/{root['id']}/context").json()["descendants"] == []


# ---------------------------------------------------------------- favourites

def test_favourite_unfavourite(alice, bob):
    s = alice.status("like me")
    r = bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    assert r.status_code == 200, r.text
    assert_status(r.json())
    assert r.json()["id"] == s["id"]
    assert r.json()["favourited"] is True
    assert r.json()["favourites_count"] == 1
    # idempotent
    r = bob.post(f"/api/v1/statuses/{s['id']}/favourite")
    assert r.status_code == 200 and r.json()["favourites_count"] == 1
    # viewer-specific flag
    assert alice.get(f"/api/v1/statuses/{s['id']}").json()["favourited"] is False
    assert bob.get(f"/api/v1/statuses/{s['id']}").json()["favourited"] is True

    fb = anon_get(alice.server, f"/api/v1/statuses/{s['id']}/favourited_by")
    assert fb.status_code == 200
    assert ids(fb.json()) == [bob.id]
    assert_account(fb.json()[0], bob.username)

    r = bob.post(f"/api/v1/statuses/{s['id']}/unfavourite")
    assert r.status_code == 200, r.text
    assert r.json()["favourited"] is False
    assert r.json()["favourites_count"] == 0
    r = bob.post(f"/api/v1/statuses/{s['id']}/unfavourite")
    assert r.status_code == 200 and r.json()["favourites_count"] == 0
    assert anon_get(alice.server, f"/api/v1/statuses/{s['id']}/favourited_by").json() == []


def test_favourite_unknown_status(alice):
    assert_error(alice.post("/api/v1/statuses/999999999999999999/favourite"), 404)
    assert_error(alice.get("/api/v1/statuses/999999999999999999/favourited_by"), 404)


# ---------------------------------------------------------------- reblogs

def test_reblog_unreblog(alice, bob):
    s = alice.status("boost me")
    r = bob.post(f"/api/v1/statuses/{s['id']}/reblog")
    assert r.status_code == 200, r.text
    w = r.json()
    assert_status(w)
    assert w["id"] != s["id"]
    assert w["account"]["id"] == bob.id
    assert w["reblog"]["id"] == s["id"]
    assert w["reblog"]["reblogged"] is True
    assert w["reblog"]["reblogs_count"] == 1
    assert w["reblog"]["account"]["id"] == alice.id
    # idempotent: same wrapper, count stays 1
    r2 = bob.post(f"/api/v1/statuses/{s['id']}/reblog")
    assert r2.status_code == 200, r2.text
    assert r2.json()["reblog"]["reblogs_count"] == 1
    assert r2.json()["id"] == w["id"]
    assert alice.get(f"/api/v1/statuses/{s['id']}").json()["reblogs_count"] == 1
    assert statuses_count(alice.server, bob.id) == 1

    rb = anon_get(alice.server, f"/api/v1/statuses/{s['id']}/reblogged_by")
    assert rb.status_code == 200 and ids(rb.json()) == [bob.id]

    # the wrapper can be fetched by id
    g = alice.get(f"/api/v1/statuses/{w['id']}")
    assert g.status_code == 200 and g.json()["reblog"]["id"] == s["id"]

    r = bob.post(f"/api/v1/statuses/{s['id']}/unreblog")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == s["id"]
    assert r.json()["reblogged"] is False
    assert r.json()["reblogs_count"] == 0
    assert bob.post(f"/api/v1/statuses/{s['id']}/unreblog").status_code == 200
    assert anon_get(alice.server, f"/api/v1/statuses/{s['id']}/reblogged_by").json() == []
    assert_error(alice.get(f"/api/v1/statuses/{w['id']}"), 404)
    assert statuses_count(alice.server, bob.id) == 0


def test_reblog_of_reblog_targets_original(alice, bob, carol):
    s = alice.status("original")
    w = bob.post(f"/api/v1/statuses/{s['id']}/reblog").json()
    r = carol.post(f"/api/v1/statuses/{w['id']}/reblog")
    assert r.status_code == 200, r.text
    assert r.json()["reblog"]["id"] == s["id"]
    assert alice.get(f"/api/v1/statuses/{s['id']}").json()["reblogs_count"] == 2


def test_deleting_original_removes_reblogs(alice, bob):
    s = alice.status("ephemeral")
    w = bob.post(f"/api/v1/statuses/{s['id']}/reblog").json()
    alice.delete(f"/api/v1/statuses/{s['id']}")
    assert_error(bob.get(f"/api/v1/statuses/{w['id']}"), 404)
    remaining = bob.get(f"/api/v1/accounts/{bob.id}/statuses").json()
    assert all((x.get("reblog") or {}).get("id") != s["id"] for x in remaining)
    assert statuses_count(alice.server, bob.id) == 0


def test_reblog_unknown_status(alice):
    assert_error(alice.post("/api/v1/statuses/999999999999999999/reblog"), 404)
    assert statuses_count(alice.server, alice.id) == 0


def test_cannot_reblog_private_or_direct(alice, bob):
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    p = alice.status("followers only", visibility="private")
    d = alice.status(f"@{bob.username} secret", visibility="direct")
    for s in (p, d):
        r = bob.post(f"/api/v1/statuses/{s['id']}/reblog")
        assert_error(r, 403, 404, 422)
        assert alice.get(f"/api/v1/statuses/{s['id']}").json()["reblogs_count"] == 0
    assert statuses_count(alice.server, bob.id) == 0


# ---------------------------------------------------------------- bookmarks

def test_bookmark_unbookmark(alice, bob):
    s = alice.status("save me")
    r = bob.post(f"/api/v1/statuses/{s['id']}/bookmark")
    assert r.status_code == 200, r.text
    assert r.json()["bookmarked"] is True
    assert bob.get(f"/api/v1/statuses/{s['id']}").json()["bookmarked"] is True
    assert alice.get(f"/api/v1/statuses/{s['id']}").json()["bookmarked"] is False
    assert bob.post(f"/api/v1/statuses/{s['id']}/bookmark").status_code == 200
    r = bob.post(f"/api/v1/statuses/{s['id']}/unbookmark")
    assert r.status_code == 200 and r.json()["bookmarked"] is False
    assert bob.get(f"/api/v1/statuses/{s['id']}").json()["bookmarked"] is False


def test_bookmark_unknown_status(alice):
    assert_error(alice.post("/api/v1/statuses/999999999999999999/bookmark"), 404)
