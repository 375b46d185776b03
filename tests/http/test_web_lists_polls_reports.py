"""Web UI pages added for people with only a browser: lists, polls (shown and
voted), reporting an account or a post, and the live home timeline's event
stream (`/home/live`), at the HTTP level. The browser flows are in
tests/browser/."""
import re

import requests

from conftest import sign_up
from streamclient import SSE
from test_web_moderation import moderator
from webclient import signed_up

T = 30


def test_lists_are_made_filled_renamed_and_deleted(server):
    owner, friend, stranger = signed_up(server), signed_up(server), signed_up(server)
    assert owner.submit(f"/@{friend.username}", 'action="/accounts/').status_code == 303
    r = owner.submit("/lists", 'id="new-list"', title='Friends <img src=x onerror=alert(1)>')
    assert r.status_code == 303, r.text[:500]
    lid = re.search(r"#list-(\d+)$", r.headers["Location"]).group(1)
    page = owner.get("/lists").text
    assert "Friends &lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    # Someone else's list is not there for them.
    assert stranger.get(f"/lists/{lid}").status_code == 404
    r = owner.submit(f"/lists/{lid}", f'action="/lists/{lid}/add"', username=friend.username)
    assert r.status_code == 303, r.text[:500]
    assert friend.post_status("from a friend on a list").status_code == 303
    shown = owner.get(f"/lists/{lid}").text
    assert "from a friend on a list" in shown and f"@{friend.username}" in shown
    r = owner.submit(f"/lists/{lid}", f'action="/lists/{lid}/add"', username="nobody-at-all")
    assert r.status_code == 404
    r = owner.submit("/lists", f'action="/lists/{lid}/rename"', title="Close friends")
    assert r.status_code == 303 and "Close friends" in owner.get("/lists").text
    r = owner.submit("/lists", f'action="/lists/{lid}/rename"', title="  ")
    assert r.status_code == 422 and "Close friends" in owner.get("/lists").text
    r = owner.submit(f"/lists/{lid}", f'action="/lists/{lid}/remove')
    assert r.status_code == 303
    assert "from a friend on a list" not in owner.get(f"/lists/{lid}").text
    assert owner.submit("/lists", f'action="/lists/{lid}/delete"').status_code == 303
    assert owner.get(f"/lists/{lid}").status_code == 404


def test_polls_are_shown_and_voted_on(server):
    author = sign_up(server)
    st = author.status("Tea or coffee?", visibility="public",
                       poll={"options": ["Tea <b>", "Coffee"], "expires_in": 3600})
    voter = signed_up(server)
    thread = f"/@{author.username}/{st['id']}"
    page = voter.get(thread).text
    assert "Tea &lt;b&gt;" in page and f'action="/polls/{st["poll"]["id"]}/vote"' in page
    r = voter.submit(thread, f'action="/polls/{st["poll"]["id"]}/vote"', **{"choices[]": "1"})
    assert r.status_code == 303, r.text[:500]
    page = voter.get(thread).text
    assert "/vote" not in page, "no second vote form"
    assert "your choice" in page and "1 person voted" in page
    poll = author.get(f"/api/v1/polls/{st['poll']['id']}").json()
    assert poll["votes_count"] == 1 and poll["options"][1]["votes_count"] == 1
    # A choice that is not an option is refused, as by the API.
    other = signed_up(server)
    r = other.submit(thread, f'action="/polls/{st["poll"]["id"]}/vote"', **{"choices[]": "7"})
    assert r.status_code == 422 and 'id="error"' in r.text


def test_a_report_from_the_web_reaches_the_moderators(server):
    target = sign_up(server)
    st = target.status("buy cheap watches", visibility="public")
    reporter = signed_up(server)
    thread = f"/@{target.username}/{st['id']}"
    assert f'href="/@{target.username}/report?status={st["id"]}"' in reporter.get(thread).text
    form = f"/@{target.username}/report?status={st['id']}"
    # Without its token: refused, nothing filed.
    r = reporter.post(f"/@{target.username}/report", {"comment": "forged", "category": "spam"})
    assert r.status_code == 403
    comment = "spam <script>alert(1)</script> again"
    r = reporter.submit(form, 'id="report-form"', comment=comment, category="spam")
    assert r.status_code == 303, r.text[:500]
    assert 'id="report-sent"' in reporter.get(r.headers["Location"]).text
    mod = moderator(server)
    queue = mod.get("/admin/reports").text
    assert "spam &lt;script&gt;alert(1)&lt;/script&gt; again" in queue
    assert f'id="status-{st["id"]}"' in queue and "forged" not in queue
    # Reporting yourself is refused by the service, as in the API.
    r = reporter.submit(f"/@{reporter.username}/report", 'id="report-form"', comment="me")
    assert r.status_code == 422


def test_live_home_stream_needs_a_session_and_carries_new_posts(server):
    r = requests.get(server.url("/home/live"), timeout=T, allow_redirects=False)
    assert r.status_code == 401
    home = signed_up(server).get("/home")
    assert 'data-live="/home/live"' in home.text
    assert "connect-src 'self'" in home.headers["Content-Security-Policy"]
    reader, author = signed_up(server), sign_up(server)
    reader.submit(f"/@{author.username}", 'action="/accounts/')
    cookie = reader.http.cookies["holdfast_session"]
    stream = SSE(server, "/home/live", headers={"Cookie": f"holdfast_session={cookie}"})
    try:
        assert stream.status == 200
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        st = author.status("live on the web", visibility="public")
        kind, data = stream.next({"update"})
        assert st["id"] in data
        # An older page does not take live updates.
        assert "data-live" not in reader.get(f"/home?max_id={st['id']}").text
    finally:
        stream.close()
    # Logged out, the session's stream ends and a new one is refused.
    reader.submit("/home", 'action="/auth/sign_out"')
    r = requests.get(server.url("/home/live"), headers={"Cookie": f"holdfast_session={cookie}"},
                     timeout=T, allow_redirects=False)
    assert r.status_code == 401
