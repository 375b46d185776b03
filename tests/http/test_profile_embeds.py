"""Issue 14's last small operations: GET/PATCH /api/v1/profile (Mastodon 4.6's
Profile), tags/:name/feature|unfeature, timelines/direct (removed from Mastodon
in 3.0, still described), GET /api/oembed and statuses/:id/interaction_policy."""
import pytest

from conftest import sign_up
from helpers import anon_get, assert_error, assert_status, json_of, link_params, parse_link, scoped_token, uniq

PROFILE_KEYS = {
    "id", "display_name", "note", "fields", "avatar", "avatar_static", "avatar_description",
    "header", "header_static", "header_description", "locked", "bot", "hide_collections",
    "discoverable", "indexable", "show_media", "show_media_replies", "show_featured",
    "attribution_domains",
}


# ---- profile ----

def test_profile_shows_what_was_typed(server):
    alice = sign_up(server, scopes="read write follow push profile")
    alice.patch("/api/v1/accounts/update_credentials", json={"note": "I like #cats & <b>dogs</b>"})
    p = json_of(alice.get("/api/v1/profile"))
    assert set(p) == PROFILE_KEYS
    assert p["id"] == alice.id and p["note"] == "I like #cats & <b>dogs</b>", "raw text, not HTML"
    assert p["avatar"] is None and p["header"] is None, "unset pictures are null here"
    assert p["fields"] == [] and p["attribution_domains"] == []
    # `profile` alone is enough to read it, as for verify_credentials.
    token = scoped_token(server, alice, "profile")
    r = alice.get("/api/v1/profile", headers={"Authorization": f"Bearer {token}"})
    assert json_of(r)["id"] == alice.id


def test_patch_profile_is_update_credentials(server, alice):
    p = json_of(alice.patch("/api/v1/profile", json={"display_name": "Alice A.", "locked": True, "bot": True}))
    assert (p["display_name"], p["locked"], p["bot"]) == ("Alice A.", True, True)
    me = json_of(alice.get("/api/v1/accounts/verify_credentials"))
    assert (me["display_name"], me["locked"], me["bot"]) == ("Alice A.", True, True)
    # The same checks, one code path: too long is 422 and changes nothing.
    assert_error(alice.patch("/api/v1/profile", json={"display_name": "x" * 500}), 422)
    assert_error(alice.patch("/api/v1/profile", json={"locked": "maybe"}), 422)
    assert json_of(alice.get("/api/v1/profile"))["display_name"] == "Alice A."


def test_profile_needs_a_user_and_the_scope(server, alice):
    assert_error(anon_get(server, "/api/v1/profile"), 401)
    read_only = scoped_token(server, alice, "read")
    r = alice.patch("/api/v1/profile", json={"display_name": "no"},
                    headers={"Authorization": f"Bearer {read_only}"})
    assert_error(r, 403)


# ---- tags/:name/feature ----

def test_feature_and_unfeature_by_name(server, alice, bob):
    tag = uniq("feat")
    t = json_of(alice.post(f"/api/v1/tags/{tag.upper()}/feature"))
    assert t["name"] == tag and t["featuring"] is True and len(t["history"]) == 7
    # Again: no error, still featured once.
    assert json_of(alice.post(f"/api/v1/tags/{tag}/feature"))["featuring"] is True
    names = [f["name"] for f in json_of(alice.get("/api/v1/featured_tags"))]
    assert names.count(tag) == 1
    # Others see it on the profile, and it is not theirs.
    assert tag in [f["name"] for f in json_of(bob.get(f"/api/v1/accounts/{alice.id}/featured_tags"))]
    assert tag not in [f["name"] for f in json_of(bob.get("/api/v1/featured_tags"))]
    t = json_of(alice.post(f"/api/v1/tags/{tag}/unfeature"))
    assert t["featuring"] is False
    assert json_of(alice.post(f"/api/v1/tags/{tag}/unfeature"))["featuring"] is False  # again: fine
    assert tag not in [f["name"] for f in json_of(alice.get("/api/v1/featured_tags"))]
    # `featuring` is only in these answers.
    assert "featuring" not in json_of(alice.get(f"/api/v1/tags/{tag}"))


def test_feature_by_name_bad_inputs_and_bound(server, alice):
    for bad in ("12345", "no-dash"):
        assert_error(alice.post(f"/api/v1/tags/{bad}/feature"), 404)
    r = alice.post(f"/api/v1/tags/{uniq('x')}/feature", headers={"Authorization": "Bearer nope"})
    assert_error(r, 401)
    # Past featured_tags_max (10): 422, and nothing was added.
    for i in range(10):
        json_of(alice.post(f"/api/v1/tags/{uniq('many')}/feature"))
    assert_error(alice.post(f"/api/v1/tags/{uniq('over')}/feature"), 422)
    assert len(json_of(alice.get("/api/v1/featured_tags"))) == 10


# ---- timelines/direct ----

def test_direct_timeline_has_the_callers_direct_statuses(server):
    me, friend, stranger = (sign_up(server) for _ in range(3))
    sent = me.status(f"@{friend.username} psst", visibility="direct")
    got = friend.status(f"@{me.username} hi back", visibility="direct")
    other = friend.status(f"@{stranger.username} not for me", visibility="direct")
    me.status("public, not direct")
    me.status("followers only", visibility="private")
    timeline = json_of(me.get("/api/v1/timelines/direct"))
    ids = [s["id"] for s in timeline]
    assert ids == [got["id"], sent["id"]], "newest first, only direct, only mine"
    for s in timeline:
        assert_status(s)
        assert s["visibility"] == "direct"
    assert [s["id"] for s in json_of(stranger.get("/api/v1/timelines/direct"))] == [other["id"]]


def test_direct_timeline_pages_and_hides_blocked(server):
    me, friend, pest = (sign_up(server) for _ in range(3))
    posted = [friend.status(f"@{me.username} n{i}", visibility="direct")["id"] for i in range(3)]
    pest.status(f"@{me.username} spam", visibility="direct")
    me.post(f"/api/v1/accounts/{pest.id}/block")
    r = me.get("/api/v1/timelines/direct", params={"limit": 2})
    assert [s["id"] for s in json_of(r)] == posted[::-1][:2]
    nxt = link_params(parse_link(r)["next"])
    assert [s["id"] for s in json_of(me.get("/api/v1/timelines/direct", params=nxt))] == posted[:1]
    assert_error(anon_get(server, "/api/v1/timelines/direct"), 401)
    write_only = scoped_token(server, me, "write")
    assert_error(me.get("/api/v1/timelines/direct", headers={"Authorization": f"Bearer {write_only}"}), 403)


# ---- oEmbed ----

def test_oembed_for_a_public_status(server, alice):
    s = alice.status("hello <world> & friends")
    r = anon_get(server, "/api/oembed", params={"url": s["url"]})
    o = json_of(r)
    assert o["type"] == "rich" and o["version"] == "1.0"
    assert o["author_url"] == alice.account["url"]
    assert o["width"] == 400 and o["height"] is None and o["cache_age"] > 0
    assert o["provider_url"].endswith("/")
    assert "hello &lt;world&gt; &amp; friends" in o["html"], "the content, escaped"
    assert s["url"] in o["html"]
    # The ActivityPub-style URL and the consumer's size work too.
    alt = s["url"].replace(f"/@{alice.username}/", f"/users/{alice.username}/statuses/")
    o = json_of(anon_get(server, "/api/oembed", params={"url": alt, "maxwidth": 300, "maxheight": 200}))
    assert (o["width"], o["height"]) == (300, "200")


def test_oembed_refuses_what_may_not_be_embedded(server, alice, bob):
    private = alice.status("followers only", visibility="private")
    direct = alice.status(f"@{bob.username} secret", visibility="direct")
    for s in (private, direct):
        assert_error(anon_get(server, "/api/oembed", params={"url": s["url"]}), 404)
    public = alice.status("public")
    wrong_author = public["url"].replace(f"/@{alice.username}/", f"/@{bob.username}/")
    for url in (wrong_author, "https://elsewhere.example/@x/1", public["url"] + "0", "", "not a url"):
        assert_error(anon_get(server, "/api/oembed", params={"url": url}), 404)
    assert_error(anon_get(server, "/api/oembed"), 404)
    assert_error(anon_get(server, "/api/oembed", params={"url": public["url"], "maxwidth": "wide"}), 400)
    deleted = alice.status("gone soon")
    alice.delete(f"/api/v1/statuses/{deleted['id']}")
    assert_error(anon_get(server, "/api/oembed", params={"url": deleted["url"]}), 404)


# ---- interaction_policy ----

def test_interaction_policy_author_only(server, alice, bob):
    s = alice.status("quote me, maybe")
    for policy in ("public", "followers", "nobody"):
        r = alice.put(f"/api/v1/statuses/{s['id']}/interaction_policy", json={"quote_approval_policy": policy})
        got = json_of(r)
        assert got["id"] == s["id"]
        assert_status(got)
    assert json_of(alice.put(f"/api/v1/statuses/{s['id']}/interaction_policy", json={}))["id"] == s["id"]
    assert_error(alice.put(f"/api/v1/statuses/{s['id']}/interaction_policy",
                           json={"quote_approval_policy": "everyone"}), 422)
    # Someone else's status, one they cannot see, or none at all: 404.
    assert_error(bob.put(f"/api/v1/statuses/{s['id']}/interaction_policy",
                         json={"quote_approval_policy": "nobody"}), 404)
    hidden = alice.status("mine only", visibility="private")
    assert_error(bob.put(f"/api/v1/statuses/{hidden['id']}/interaction_policy", json={}), 404)
    assert_error(alice.put("/api/v1/statuses/999999999/interaction_policy", json={}), 404)
    reblog = json_of(bob.post(f"/api/v1/statuses/{s['id']}/reblog"))
    assert_error(bob.put(f"/api/v1/statuses/{reblog['id']}/interaction_policy", json={}), 404)
    read_only = scoped_token(server, alice, "read")
    r = alice.put(f"/api/v1/statuses/{s['id']}/interaction_policy", json={},
                  headers={"Authorization": f"Bearer {read_only}"})
    assert_error(r, 403)
