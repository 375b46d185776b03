"""Instance texts and discovery: WebFinger, host-meta, NodeInfo, the
operator's rules and policies, and trends computed from local activity."""
import subprocess
import tempfile

import requests

from conftest import BINARY, free_port, sign_up, unique_name, suite_config_with
from helpers import anon_get, assert_error, uniq

T = 30

INSTANCE_TEXTS = '''
[instance]
extended_description = """We are a <small> server.

Second paragraph,
two lines."""
privacy_policy = "We keep what you post, and nothing else."
terms_of_service = "Be kind."
terms_of_service_effective_date = "2026-01-15"
rules = [
  { text = "No spam", hint = "Adverts included" },
  { text = "Be excellent" },
]
'''


# ---- WebFinger and host-meta ----

def test_webfinger_local_account(server):
    c = sign_up(server)
    for resource in (f"acct:{c.username}@localhost", f"{c.username}@localhost",
                     f"acct:{c.username.upper()}@LOCALHOST", c.account["url"]):
        r = anon_get(server, "/.well-known/webfinger", params={"resource": resource})
        assert r.status_code == 200, (resource, r.text)
        assert r.headers["content-type"].startswith("application/jrd+json")
        j = r.json()
        assert j["subject"] == f"acct:{c.username}@localhost"
        assert c.account["url"] in j["aliases"]
        page = [l for l in j["links"] if l["rel"] == "http://webfinger.net/rel/profile-page"]
        assert page and page[0]["href"] == c.account["url"]


def test_webfinger_bad_resources(server):
    assert_error(anon_get(server, "/.well-known/webfinger"), 400)
    assert_error(anon_get(server, "/.well-known/webfinger", params={"resource": "  "}), 400)
    for resource in (f"acct:{unique_name()}@localhost",   # nobody by that name
                     "acct:someone@example.org",          # not ours: no federation
                     "mailto:someone@localhost",          # no such scheme here
                     "acct:@localhost", "acct:a/b@localhost", "justaword",
                     "https://example.org/@someone"):
        r = anon_get(server, "/.well-known/webfinger", params={"resource": resource})
        assert_error(r, 404)


def test_webfinger_hides_unapproved(make_server):
    s = make_server("--registrations", "approval")
    name = unique_name()
    app = requests.post(s.url("/api/v1/apps"), data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                     "scopes": "read write"}, timeout=T).json()
    tok = requests.post(s.url("/oauth/token"), data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                     "client_secret": app["client_secret"], "scope": "read write"},
                        timeout=T).json()["access_token"]
    r = requests.post(s.url("/api/v1/accounts"), headers={"Authorization": f"Bearer {tok}"},
                      json={"username": name, "email": f"{name}@example.com", "password": "pw-" + "x" * 20,
                            "agreement": True, "locale": "en", "reason": "hi"}, timeout=T)
    assert r.status_code == 200, r.text
    r = anon_get(s, "/.well-known/webfinger", params={"resource": f"acct:{name}@localhost"})
    assert_error(r, 404)


def test_host_meta_points_at_webfinger(server):
    r = anon_get(server, "/.well-known/host-meta")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xrd+xml")
    assert 'rel="lrdd"' in r.text
    assert f'template="{server.base_url}/.well-known/webfinger?resource={{uri}}"' in r.text


# ---- NodeInfo ----

def test_nodeinfo_counts_are_real(make_server):
    s = make_server()
    link = anon_get(s, "/.well-known/nodeinfo").json()["links"][0]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.0"
    assert link["href"] == s.url("/nodeinfo/2.0")
    r = anon_get(s, "/nodeinfo/2.0")
    assert r.status_code == 200
    assert "nodeinfo.diaspora.software/ns/schema/2.0" in r.headers["content-type"]
    n = r.json()
    assert n["version"] == "2.0" and n["software"]["name"] == "holdfast"
    assert n["protocols"] == []  # no federation (a known difference)
    assert n["openRegistrations"] is True
    assert n["usage"] == {"users": {"total": 0, "activeMonth": 0, "activeHalfyear": 0}, "localPosts": 0}
    a, b, idle = sign_up(s), sign_up(s), sign_up(s)
    a.status("one")
    a.status("two")
    # A reblog makes its author active (as in Mastodon) but is no post of its own.
    b.post(f"/api/v1/statuses/{a.status('three')['id']}/reblog")
    n = anon_get(s, "/nodeinfo/2.0").json()
    assert n["usage"] == {"users": {"total": 3, "activeMonth": 2, "activeHalfyear": 2}, "localPosts": 3}
    assert idle.username


# ---- the operator's texts ----

def test_instance_texts_unset(server):
    d = anon_get(server, "/api/v1/instance/extended_description").json()
    assert d["content"] == "" and d["updated_at"].endswith("Z")
    p = anon_get(server, "/api/v1/instance/privacy_policy").json()
    assert p["content"] == ""
    assert_error(anon_get(server, "/api/v1/instance/terms_of_service"), 404)
    assert_error(anon_get(server, "/api/v1/instance/terms_of_service/2026-01-15"), 404)
    assert anon_get(server, "/api/v1/instance/rules").json() == []
    assert anon_get(server, "/api/v2/instance").json()["rules"] == []


def test_instance_texts_from_config(make_server):
    s = make_server("--config", suite_config_with(INSTANCE_TEXTS))
    d = anon_get(s, "/api/v1/instance/extended_description").json()
    assert d["content"] == ("<p>We are a &lt;small&gt; server.</p>"
                            "<p>Second paragraph,<br>two lines.</p>")
    assert anon_get(s, "/api/v1/instance/privacy_policy").json()["content"] == \
        "<p>We keep what you post, and nothing else.</p>"
    t = anon_get(s, "/api/v1/instance/terms_of_service").json()
    assert t == {"effective_date": "2026-01-15", "effective": True,
                 "content": "<p>Be kind.</p>", "succeeded_by": None}
    assert anon_get(s, "/api/v1/instance/terms_of_service/2026-01-15").json() == t
    assert_error(anon_get(s, "/api/v1/instance/terms_of_service/2025-01-01"), 404)
    rules = [{"id": "1", "text": "No spam", "hint": "Adverts included"},
             {"id": "2", "text": "Be excellent", "hint": ""}]
    assert anon_get(s, "/api/v1/instance/rules").json() == rules
    assert anon_get(s, "/api/v2/instance").json()["rules"] == rules
    assert anon_get(s, "/api/v1/instance").json()["rules"] == rules


def test_bad_instance_texts_refuse_to_start():
    for extra in ('\n[instance]\nterms_of_service = "x"\n',                                        # no date
                  '\n[instance]\nterms_of_service = "x"\nterms_of_service_effective_date = "15/01/2026"\n',
                  '\n[instance]\nrules = [{ text = " " }]\n',
                  '\n[instance]\nmotd = "hello"\n'):                                           # unknown key
        with tempfile.TemporaryDirectory() as d:
            res = subprocess.run([BINARY, "serve", "--listen", f"127.0.0.1:{free_port()}", "--data-dir", d,
                                  "--config", suite_config_with(extra)], capture_output=True, text=True, timeout=T)
        assert res.returncode != 0, extra
        assert "terms_of_service" in res.stderr or "rule" in res.stderr or "motd" in res.stderr, res.stderr


def test_federation_answers_are_documented_empty(server):
    assert anon_get(server, "/api/v1/instance/peers").json() == []
    assert anon_get(server, "/api/v1/instance/domain_blocks").json() == []
    assert anon_get(server, "/api/v1/instance/translation_languages").json() == {}
    assert anon_get(server, "/api/v1/custom_emojis").json() == []


# ---- trends ----

def test_trending_tags_count_accounts(make_server):
    s = make_server()
    a, b, c = sign_up(s), sign_up(s), sign_up(s)
    popular, busy, hidden = uniq("pop"), uniq("busy"), uniq("hid")
    for who in (a, b, c):
        who.status(f"#{popular}")
    for _ in range(4):
        a.status(f"#{busy}")  # more uses, fewer people: ranks lower
    a.status(f"#{hidden}", visibility="unlisted")  # only public statuses trend
    a.status(f"#{hidden}", visibility="private")
    tags = anon_get(s, "/api/v1/trends/tags").json()
    assert [t["name"] for t in tags] == [popular, busy]
    assert tags[0]["url"].endswith(f"/tags/{popular}")
    assert anon_get(s, "/api/v1/trends").json() == tags  # the deprecated alias
    assert [t["name"] for t in anon_get(s, "/api/v1/trends/tags", params={"limit": 1}).json()] == [popular]
    assert [t["name"] for t in anon_get(s, "/api/v1/trends/tags", params={"offset": 1}).json()] == [busy]
    assert tags == a.get("/api/v1/trends/tags").json()


def test_trends_bounds_and_bad_input(make_server):
    s = make_server()
    a = sign_up(s)
    for _ in range(25):
        a.status(f"#{uniq('t')}")
    assert len(anon_get(s, "/api/v1/trends/tags").json()) == 10       # Mastodon's default page
    assert len(anon_get(s, "/api/v1/trends/tags", params={"limit": 500}).json()) == 20  # capped
    for path in ("/api/v1/trends/tags", "/api/v1/trends/statuses"):
        assert_error(anon_get(s, path, params={"offset": 100000}), 400)  # past trends_offset_max
    for path in ("/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links"):
        assert_error(anon_get(s, path, params={"offset": "many"}), 400)
        assert_error(anon_get(s, path, params={"offset": -1}), 400)
        assert_error(anon_get(s, path, headers={"Authorization": "Bearer nope"}), 401)


def test_trending_statuses_rank_by_interactions(make_server):
    s = make_server()
    a, b, c = sign_up(s), sign_up(s), sign_up(s)
    quiet = a.status("nobody cares")
    liked = a.status("liked once")
    loved = b.status("liked and boosted")
    secret = a.status("private but liked", visibility="private")
    c.post(f"/api/v1/accounts/{a.id}/follow")
    for who, st, action in ((c, liked, "favourite"), (c, loved, "favourite"), (a, loved, "reblog"),
                            (c, secret, "favourite")):
        assert who.post(f"/api/v1/statuses/{st['id']}/{action}").status_code == 200
    got = anon_get(s, "/api/v1/trends/statuses").json()
    assert [x["id"] for x in got] == [loved["id"], liked["id"]]
    assert quiet["id"] not in [x["id"] for x in got]
    mine = c.get("/api/v1/trends/statuses").json()
    assert [x["id"] for x in mine] == [loved["id"], liked["id"]]
    assert mine[0]["favourited"] is True  # rendered for the viewer
    assert [x["id"] for x in anon_get(s, "/api/v1/trends/statuses", params={"limit": 1}).json()] == [loved["id"]]


def test_trending_links_are_empty(server):
    assert anon_get(server, "/api/v1/trends/links").json() == []


# ---- announcements (none can be written yet) ----

def test_announcements_are_empty_and_need_a_user(server, alice):
    assert alice.get("/api/v1/announcements").json() == []
    assert_error(anon_get(server, "/api/v1/announcements"), 401)
    assert_error(alice.post("/api/v1/announcements/1/dismiss"), 404)
    assert_error(alice.put("/api/v1/announcements/1/reactions/%F0%9F%91%8D"), 404)
    assert_error(alice.delete("/api/v1/announcements/1/reactions/%F0%9F%91%8D"), 404)
    assert_error(requests.post(server.url("/api/v1/announcements/1/dismiss"), timeout=T), 401)
