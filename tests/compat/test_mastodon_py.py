"""Client compatibility: the real Mastodon.py library (from PyPI) against a running holdfast.

Every test goes through Mastodon.py's public API exactly as an app would:
app registration, account creation, log-in (password and authorization-code
grants), posting, following, interactions, notifications, timelines with
Link-header pagination, search, profile updates, bookmarks and markers.
No mocks: the server is the real binary started by conftest.
"""
import html
import re
import time
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from mastodon import Mastodon
from mastodon.errors import (MastodonAPIError, MastodonIllegalArgumentError,
                             MastodonNotFoundError)

import imagegen
from conftest import sign_up, unique_name

OOB = "urn:ietf:wg:oauth:2.0:oob"
TIMEOUT_S = 30
NOTIFY_WAIT_S = 5
FULL_SCOPES = ["read", "write", "follow", "push"]


# ----------------------------------------------------------------- helpers

def new_app(server, scopes=FULL_SCOPES, to_file=None):
    client_id, client_secret = Mastodon.create_app(
        "holdfast-compat-mastodon-py", scopes=scopes, redirect_uris=OOB,
        website="https://example.invalid", api_base_url=server.base_url,
        request_timeout=TIMEOUT_S, to_file=to_file)
    assert isinstance(client_id, str) and client_id
    assert isinstance(client_secret, str) and client_secret
    return client_id, client_secret


def api_for(server, mode="none", **kw):
    """A Mastodon.py client that fails fast on 429 instead of sleeping."""
    kw.setdefault("ratelimit_method", "throw")
    return Mastodon(api_base_url=server.base_url, version_check_mode=mode,
                    request_timeout=TIMEOUT_S, **kw)


class User:
    def __init__(self, api, username, email, password, me):
        self.api, self.username, self.email, self.password = api, username, email, password
        self.me = me
        self.id = str(me.id)


def register(server, mode="none"):
    """Create an app and an account entirely through Mastodon.py."""
    client_id, client_secret = new_app(server)
    api = api_for(server, mode, client_id=client_id, client_secret=client_secret)
    username = unique_name("mpy")
    email, password = f"{username}@example.com", f"pw-{uuid.uuid4().hex}"
    token = api.create_account(username, password, email, agreement=True, locale="en")
    assert isinstance(token, str) and token
    assert api.access_token == token
    me = api.account_verify_credentials()
    assert me.username == username
    return User(api, username, email, password, me)


def plain(html_text):
    """Status/note HTML to plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text or ""))


def assert_recent(dt, what):
    assert isinstance(dt, datetime), f"{what} not parsed as datetime: {dt!r}"
    assert dt.tzinfo is not None, f"{what} has no timezone: {dt!r}"
    now = datetime.now(timezone.utc)
    assert now - timedelta(minutes=10) <= dt <= now + timedelta(minutes=2), f"{what}={dt} not recent"


def eventually(fetch, predicate, what, timeout_s=NOTIFY_WAIT_S):
    """Poll `fetch` until `predicate(result)` holds; bounded in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if predicate(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: condition never held; last result: {result!r}")
        time.sleep(0.1)


def ids(items):
    return [str(x.id) for x in items]


def find_notification(api, ntype, account_id, status_id=None, **kw):
    def match(notes):
        for n in notes:
            if n.type == ntype and str(n.account.id) == account_id and (
                    status_id is None or (n.get("status") and str(n.status.id) == status_id)):
                return n
        return None

    notes = eventually(lambda: api.notifications(**kw), lambda ns: match(ns) is not None,
                       f"{ntype} notification from {account_id}")
    return match(notes)


def authorize_code(server, api, email, password, scopes):
    """Drive the authorization-code grant as a person with a browser would:
    open the URL Mastodon.py builds, submit the log-in form, read the code."""
    url = api.auth_request_url(redirect_uris=OOB, scopes=scopes, allow_http=True)
    assert url.startswith(server.base_url + "/oauth/authorize"), url
    page = requests.get(url, timeout=TIMEOUT_S)
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers.get("Content-Type", ""), page.headers
    # Two steps, as in a browser: the log-in form (which starts a session cookie
    # and leads to the consent page), then Authorize on the consent form.
    browser = requests.Session()
    page = browser.get(url, timeout=TIMEOUT_S)
    assert page.status_code == 200, page.text
    assert 'id="log-in"' in page.text, page.text[:2000]
    action = url.split("?", 1)[0]
    form = {html.unescape(k): html.unescape(v) for k, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    resp = browser.post(action, data=dict(form, email=email, password=password),
                        timeout=TIMEOUT_S)
    assert resp.status_code == 200 and 'id="authorize"' in resp.text, resp.text[:2000]
    form = {html.unescape(k): html.unescape(v) for k, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', resp.text)}
    resp = browser.post(action, data=dict(form, decision="authorize"), timeout=TIMEOUT_S)
    assert resp.status_code == 200, resp.text
    m = re.search(r'id="oauth-code"[^>]*>\s*([^<\s]+)\s*<', resp.text)
    assert m, f"no oauth-code element in: {resp.text[:2000]}"
    return html.unescape(m.group(1))


# ------------------------------------------------------- registration, log-in

def test_create_app_and_account_with_default_client(server):
    """A client built with all of Mastodon.py's defaults (version_check_mode is
    "none" by default in this Mastodon.py) registers and uses an account."""
    client_id, client_secret = new_app(server)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
    username = unique_name("mpy")
    email, password = f"{username}@example.com", f"pw-{uuid.uuid4().hex}"
    token = api.create_account(username, password, email, agreement=True, locale="en")
    assert token and api.access_token == token

    me = api.account_verify_credentials()
    assert me.username == username
    assert me.acct == username  # local accounts have no @domain in acct
    assert isinstance(me.display_name, str)
    assert (me.followers_count, me.following_count, me.statuses_count) == (0, 0, 0)
    assert me.locked is False and me.bot is False
    # Mastodon rounds an account's created_at down to midnight UTC (privacy).
    assert me.created_at == datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    assert me.get("source") is not None, "verify_credentials must include source"

    # The same account seen through GET /api/v1/accounts/:id
    other = api.account(me.id)
    assert str(other.id) == str(me.id) and other.username == username

    # A second registration with the same username is refused with an error body.
    dup_id, dup_secret = new_app(server)
    dup = Mastodon(client_id=dup_id, client_secret=dup_secret, api_base_url=server.base_url)
    token2, err = dup.create_account(username, "pw-" + uuid.uuid4().hex, f"x{email}",
                                     agreement=True, return_detailed_error=True)
    assert token2 is None
    assert err.get("error"), err
    assert err["details"]["username"][0]["error"] == "ERR_TAKEN", err
    with pytest.raises(MastodonIllegalArgumentError):
        dup.create_account(username, "pw-" + uuid.uuid4().hex, f"y{email}", agreement=True)


def test_password_login_with_version_check_none(server, tmp_path):
    """App credentials and the user token persisted to files, as many bots do."""
    user = sign_up(server)
    app_file, token_file = tmp_path / "client.secret", tmp_path / "user.secret"
    new_app(server, to_file=str(app_file))
    api = Mastodon(client_id=str(app_file), version_check_mode="none",
                   ratelimit_method="throw", request_timeout=TIMEOUT_S)
    assert api.api_base_url == server.base_url

    token = api.log_in(username=user.email, password=user.password, scopes=FULL_SCOPES,
                       to_file=str(token_file), allow_http=True)
    assert isinstance(token, str) and token

    # A fresh client from the token file alone.
    api2 = Mastodon(access_token=str(token_file), version_check_mode="none",
                    ratelimit_method="throw", request_timeout=TIMEOUT_S)
    me = api2.account_verify_credentials()
    assert me.username == user.username and str(me.id) == user.id

    with pytest.raises(MastodonIllegalArgumentError):
        api.log_in(username=user.email, password="wrong-" + user.password, scopes=FULL_SCOPES,
                   allow_http=True)


def test_authorization_code_flow(server):
    user = sign_up(server)
    scopes = ["read", "write", "follow"]
    client_id, client_secret = new_app(server, scopes=scopes)
    api = api_for(server, "created", client_id=client_id, client_secret=client_secret)

    code = authorize_code(server, api, user.email, user.password, scopes)
    token = api.log_in(code=code, redirect_uri=OOB, scopes=scopes, allow_http=True)
    assert token
    me = api.account_verify_credentials()
    assert me.username == user.username

    # The token works for writes within its scopes.
    s = api.status_post(f"posted with a code-flow token {uuid.uuid4().hex}")
    assert str(s.account.id) == user.id

    # A code is single-use.
    other = api_for(server, "none", client_id=client_id, client_secret=client_secret)
    with pytest.raises(MastodonIllegalArgumentError):
        other.log_in(code=code, redirect_uri=OOB, scopes=scopes, allow_http=True)


def test_version_detection(server):
    """Mastodon.py parses /api/v1/instance's version and /api/v2/instance's
    api_versions; "created" mode then allows every endpoint up to 4.3.0."""
    user = register(server, mode="created")
    api = user.api
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        version = api.retrieve_mastodon_version()
    assert version == "4.3.0"
    assert (api.mastodon_major, api.mastodon_minor, api.mastodon_patch) == (4, 3, 0)
    assert not [w for w in caught if "API version" in str(w.message)], \
        "/api/v2/instance must report api_versions.mastodon"
    assert api.mastodon_api_version >= 2
    assert api.verify_minimum_version("4.3.0", cached=True)

    v1 = api.instance_v1()
    assert v1.version.startswith("4.3.0") and "holdfast" in v1.version
    v2 = api.instance_v2()
    assert v2.version.startswith("4.3.0")
    assert v2.domain == "localhost"

    # Endpoints gated on versions up to 4.3.0 pass the client-side check.
    assert isinstance(api.bookmarks(), list)
    assert isinstance(api.markers_get(["home"]), dict)
    s = api.status_post(f"created-mode post {uuid.uuid4().hex}")
    assert str(s.account.id) == user.id

    # "changed" mode parses the same version. (It refuses, client-side, methods whose
    # parameters or return type changed after 4.3.0, so use one that did not.)
    changed = api_for(server, "changed", access_token=api.access_token)
    assert (changed.mastodon_major, changed.mastodon_minor, changed.mastodon_patch) == (4, 3, 0)
    assert isinstance(changed.markers_get(["home"]), dict)


# ---------------------------------------------------------- social round trip

def test_follow_post_reply_favourite_reblog_and_notifications(server):
    alice, bob, carol = register(server), register(server), register(server)

    # follow -> relationship on both sides and a follow notification for bob
    rel = alice.api.account_follow(bob.id)
    assert str(rel.id) == bob.id and rel.following is True
    [back] = bob.api.account_relationships(alice.id)
    assert str(back.id) == alice.id and back.followed_by is True and back.following is False
    n_follow = find_notification(bob.api, "follow", alice.id)
    assert_recent(n_follow.created_at, "notification.created_at")
    assert n_follow.get("status") is None
    assert alice.api.account_verify_credentials().following_count == 1
    assert bob.api.account(bob.id).followers_count == 1

    # post
    word = uuid.uuid4().hex[:10]
    s = bob.api.status_post(f"hello from bob {word}")
    sid = str(s.id)
    assert word in plain(s.content)
    assert str(s.account.id) == bob.id and s.account.username == bob.username
    assert s.visibility == "public"
    assert (s.reblogs_count, s.favourites_count, s.replies_count) == (0, 0, 0)
    assert s.reblog is None and s.in_reply_to_id is None
    assert_recent(s.created_at, "status.created_at")
    snowflake_time = s.id.to_datetime()
    assert snowflake_time is not None and abs(snowflake_time - datetime.now()) < timedelta(minutes=10), \
        f"status id {sid} is not a Mastodon-style snowflake (ms << 16)"
    assert str(bob.api.status(sid).id) == sid

    # the follower's home timeline and the public timeline show it
    assert sid in ids(alice.api.timeline_home())
    assert sid in ids(carol.api.timeline_public())
    assert sid in ids(carol.api.timeline_public(local=True))
    assert sid in ids(bob.api.account_statuses(bob.id))

    # reply with a mention -> mention notification, thread context
    r = alice.api.status_reply(s, f"replying {word}")
    rid = str(r.id)
    assert str(r.in_reply_to_id) == sid
    assert str(r.in_reply_to_account_id) == bob.id
    assert f"@{bob.username}" in plain(r.content)
    assert [str(m.id) for m in r.mentions] == [bob.id]
    assert r.mentions[0].acct == bob.username
    n_mention = find_notification(bob.api, "mention", alice.id, rid)
    assert str(n_mention.status.in_reply_to_id) == sid
    ctx = bob.api.status_context(sid)
    assert rid in ids(ctx.descendants) and ctx.ancestors == []
    assert sid in ids(alice.api.status_context(rid).ancestors)
    assert bob.api.status(sid).replies_count == 1

    # favourite
    fav = alice.api.status_favourite(sid)
    assert str(fav.id) == sid and fav.favourited is True and fav.favourites_count == 1
    assert alice.api.status_favourite(sid).favourites_count == 1  # idempotent
    find_notification(bob.api, "favourite", alice.id, sid)
    assert [str(a.id) for a in bob.api.status_favourited_by(sid)] == [alice.id]
    assert sid in ids(alice.api.favourites())

    # carol follows alice, so alice's reblog reaches carol's home timeline
    carol.api.account_follow(alice.id)
    rb = alice.api.status_reblog(sid)
    assert rb.reblog is not None and str(rb.reblog.id) == sid
    assert str(rb.account.id) == alice.id
    assert bob.api.status(sid).reblogs_count == 1
    find_notification(bob.api, "reblog", alice.id, sid)
    carol_home = carol.api.timeline_home()
    assert any(st.reblog is not None and str(st.reblog.id) == sid for st in carol_home), ids(carol_home)

    # type filters on notifications
    only_mentions = bob.api.notifications(types=["mention"])
    assert only_mentions and all(n.type == "mention" for n in only_mentions)
    assert rid in [str(n.status.id) for n in only_mentions]
    no_follows = bob.api.notifications(exclude_types=["follow"])
    assert {n.type for n in no_follows} == {"mention", "favourite", "reblog"}
    everything = bob.api.notifications()
    assert {n.type for n in everything} == {"follow", "mention", "favourite", "reblog"}
    nids = [int(n.id) for n in everything]
    assert nids == sorted(nids, reverse=True), "notifications must be newest first"
    single = bob.api.notifications(id=everything[0].id)
    assert str(single.id) == str(everything[0].id)
    # alice got nothing from her own actions on bob's post
    assert not [n for n in alice.api.notifications() if str(n.account.id) == alice.id]

    # undo: unfavourite / unreblog / unfollow
    assert alice.api.status_unfavourite(sid).favourites_count == 0
    alice.api.status_unreblog(sid)
    assert bob.api.status(sid).reblogs_count == 0
    rel = alice.api.account_unfollow(bob.id)
    assert rel.following is False


def test_pagination_walks_without_gaps_or_duplicates(server):
    user = register(server)
    api = user.api
    posted = []
    for i in range(45):
        posted.append(str(api.status_post(f"page test {i}").id))
    assert len(set(posted)) == 45
    assert [int(x) for x in posted] == sorted(int(x) for x in posted), "ids must grow with time"
    newest_first = list(reversed(posted))

    # home timeline, 20 at a time, via Link headers (fetch_next)
    page = api.timeline_home(limit=20)
    pages = []
    for _ in range(10):  # bounded: 45 statuses need 3 pages
        if not page:
            break
        pages.append(ids(page))
        page = api.fetch_next(page)
    assert [len(p) for p in pages] == [20, 20, 5]
    assert sum(pages, []) == newest_first

    # fetch_previous from the second page returns exactly the first page (min_id)
    second = api.fetch_next(api.timeline_home(limit=20))
    assert ids(api.fetch_previous(second)) == newest_first[:20]

    # the account's statuses, 7 at a time: a bounded walk first, then Mastodon.py's
    # own fetch_remaining (which loops until an empty page or no Link "next")
    page, walked = api.account_statuses(user.id, limit=7), []
    for _ in range(12):  # 45 statuses need 7 pages
        if not page:
            break
        assert len(page) <= 7
        walked += ids(page)
        page = api.fetch_next(page)
    assert walked == newest_first
    assert ids(api.fetch_remaining(api.account_statuses(user.id, limit=7))) == newest_first

    # explicit cursors
    assert ids(api.timeline_home(max_id=posted[10], limit=5)) == list(reversed(posted[5:10]))
    assert ids(api.timeline_home(since_id=posted[40])) == list(reversed(posted[41:]))
    assert ids(api.timeline_home(min_id=posted[9], limit=5)) == list(reversed(posted[10:15]))

    # counts
    assert api.account_verify_credentials().statuses_count == 45


def test_idempotency_key_returns_first_result(server):
    user = register(server)
    key = uuid.uuid4().hex
    first = user.api.status_post(f"once only {key}", idempotency_key=key)
    again = user.api.status_post(f"once only {key}", idempotency_key=key)
    assert str(again.id) == str(first.id)
    assert user.api.account_verify_credentials().statuses_count == 1


def test_search_v2(server):
    alice, bob = register(server), register(server)
    tag = "tag" + uuid.uuid4().hex[:10]
    s = bob.api.status_post(f"search me #{tag}")
    assert [t.name for t in s.tags] == [tag]

    res = alice.api.search_v2(bob.username)
    assert set(res.keys()) >= {"accounts", "statuses", "hashtags"}
    assert bob.id in ids(res.accounts)

    only_accounts = alice.api.search_v2(bob.username, result_type="accounts")
    assert bob.id in ids(only_accounts.accounts)
    assert only_accounts.statuses == [] and only_accounts.hashtags == []

    tags = alice.api.search_v2("#" + tag, result_type="hashtags")
    assert tag in [t.name for t in tags.hashtags]

    assert alice.api.search_v2("zz" + uuid.uuid4().hex).accounts == []


def test_status_delete(server):
    user = register(server)
    keep = user.api.status_post("keep me")
    gone = user.api.status_post("delete me")
    deleted = user.api.status_delete(gone.id)
    assert str(deleted.id) == str(gone.id)
    with pytest.raises(MastodonNotFoundError):
        user.api.status(gone.id)
    remaining = ids(user.api.account_statuses(user.id))
    assert remaining == [str(keep.id)]
    assert user.api.account_verify_credentials().statuses_count == 1
    with pytest.raises(MastodonNotFoundError):
        user.api.status_delete(gone.id)

    # someone else cannot delete it
    other = register(server)
    with pytest.raises(MastodonAPIError):
        other.api.status_delete(keep.id)
    assert str(user.api.status(keep.id).id) == str(keep.id)


def test_account_update_credentials(server):
    user = register(server)
    name = "Compat Tester " + uuid.uuid4().hex[:6]
    note = "I test <clients> & things"
    updated = user.api.account_update_credentials(display_name=name, note=note)
    assert str(updated.id) == user.id
    assert updated.display_name == name
    assert plain(updated.note) == note
    assert "<clients>" not in updated.note, "note must be HTML-escaped"

    me = user.api.account_verify_credentials()
    assert me.display_name == name
    assert me.source.note == note
    assert user.api.account(user.id).display_name == name


def test_bookmarks(server):
    user, author = register(server), register(server)
    s = author.api.status_post("bookmark me")
    b = user.api.status_bookmark(s.id)
    assert str(b.id) == str(s.id) and b.bookmarked is True
    assert ids(user.api.bookmarks()) == [str(s.id)]
    assert user.api.status(s.id).bookmarked is True
    assert author.api.bookmarks() == []
    u = user.api.status_unbookmark(s.id)
    assert u.bookmarked is False
    assert user.api.bookmarks() == []


def test_markers(server):
    user, friend = register(server), register(server)
    user.api.account_follow(friend.id)
    s = friend.api.status_post("mark me")
    n = find_notification(friend.api, "follow", user.id)

    assert user.api.markers_get(["home", "notifications"]) == {}

    set_result = user.api.markers_set("home", s.id)
    assert str(set_result.home.last_read_id) == str(s.id)
    friend.api.markers_set(["notifications"], [n.id])

    got = user.api.markers_get(["home"])
    assert str(got.home.last_read_id) == str(s.id)
    assert isinstance(got.home.version, int)
    assert_recent(got.home.updated_at, "marker.updated_at")
    first_version = got.home.version

    s2 = friend.api.status_post("mark me again")
    user.api.markers_set(["home"], [s2.id])
    got = user.api.markers_get("home")
    assert str(got.home.last_read_id) == str(s2.id)
    assert got.home.version > first_version

    fgot = friend.api.markers_get(["notifications"])
    assert str(fgot.notifications.last_read_id) == str(n.id)


# ------------------------------------------------------------------- media

def _download(url):
    r = requests.get(url, timeout=TIMEOUT_S)
    assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:200]}"
    return r


def test_media_post_and_status_with_media(server):
    """media_post (PNG and JPEG bytes made by the test, with descriptions), then
    status_post(media_ids=...): the attachments render in the status, in order,
    for the author and for a follower, and only_media finds the status."""
    alice, bob = register(server), register(server)
    bob.api.account_follow(alice.id)

    png_desc, jpeg_desc = f"a PNG gradient {uuid.uuid4().hex[:8]}", "a JPEG of coloured squares"
    png = alice.api.media_post(imagegen.png(64, 48, seed=1), mime_type="image/png",
                               description=png_desc, synchronous=True)
    jpg = alice.api.media_post(imagegen.jpeg(40, 32, seed=2), mime_type="image/jpeg",
                               description=jpeg_desc, focus=(0.5, -0.25), synchronous=True)
    for media, desc, (w, h) in ((png, png_desc, (64, 48)), (jpg, jpeg_desc, (40, 32))):
        assert media.type == "image", media
        assert media.description == desc
        assert media.url and media.preview_url, media
        assert (media.meta.original.width, media.meta.original.height) == (w, h), media.meta
        assert isinstance(media.blurhash, str) and media.blurhash, media
        assert _download(media.url).headers["Content-Type"].startswith("image/")
        assert _download(media.preview_url).headers["Content-Type"].startswith("image/")
    assert str(png.id) != str(jpg.id)
    assert alice.api.media(jpg.id).description == jpeg_desc

    # a description can be changed until the media is attached (PUT /api/v1/media/:id)
    jpg = alice.api.media_update(jpg, description=jpeg_desc + " (edited)")
    assert jpg.description == jpeg_desc + " (edited)"

    text_only = alice.api.status_post("no pictures here")
    s = alice.api.status_post("two pictures", media_ids=[png, jpg.id])
    assert [str(m.id) for m in s.media_attachments] == [str(png.id), str(jpg.id)]
    assert [m.description for m in s.media_attachments] == [png_desc, jpeg_desc + " (edited)"]
    assert all(m.type == "image" and m.url for m in s.media_attachments)

    seen = bob.api.status(s.id)
    assert [str(m.id) for m in seen.media_attachments] == [str(png.id), str(jpg.id)]
    home = bob.api.timeline_home()
    [in_home] = [x for x in home if str(x.id) == str(s.id)]
    assert len(in_home.media_attachments) == 2
    assert ids(bob.api.account_statuses(alice.id, only_media=True)) == [str(s.id)]
    assert str(text_only.id) in ids(bob.api.account_statuses(alice.id))

    # media already attached cannot be attached again, and nobody else's can be
    with pytest.raises(MastodonAPIError) as taken:
        alice.api.status_post("again", media_ids=[png.id])
    assert taken.value.args[1] == 422, taken.value.args
    spare = alice.api.media_post(imagegen.png(8, 8, seed=3), mime_type="image/png")
    with pytest.raises(MastodonAPIError) as foreign:
        bob.api.status_post("not mine", media_ids=[spare.id])
    assert foreign.value.args[1] == 422, foreign.value.args


def test_media_post_refuses_what_is_not_an_image(server):
    user = register(server)
    with pytest.raises(MastodonAPIError) as err:
        user.api.media_post(b"this is text, not a PNG" * 10, mime_type="image/png", file_name="fake.png")
    assert err.value.args[1] == 422, err.value.args
    assert user.api.status_post("still works").id


def test_account_update_credentials_avatar_and_header(server):
    user = register(server)
    before = user.api.account_verify_credentials()
    me = user.api.account_update_credentials(
        display_name="With a face", avatar=imagegen.png(96, 96, seed=4), avatar_mime_type="image/png",
        header=imagegen.jpeg(120, 40, seed=5), header_mime_type="image/jpeg")
    assert me.display_name == "With a face"
    assert me.avatar != before.avatar and me.header != before.header, (me.avatar, me.header)
    for url in (me.avatar, me.avatar_static, me.header, me.header_static):
        assert _download(url).headers["Content-Type"].startswith("image/")
    # others see the same picture
    assert user.api.account(user.id).avatar == me.avatar

    # a new avatar replaces the old one; deleting goes back to the default
    again = user.api.account_update_credentials(avatar=imagegen.jpeg(64, 64, seed=6), avatar_mime_type="image/jpeg")
    assert again.avatar != me.avatar and again.header == me.header
    gone = user.api.account_delete_avatar()
    assert gone.avatar == before.avatar and gone.header == me.header
