"""The web UI's moderation pages (/admin/reports, /admin/accounts,
/admin/audit) at the HTTP level: only moderators and admins get in, every
form needs its CSRF token, and what a moderator does there is what the admin
API does (the same service calls, the same audit log). The browser flow is
in tests/browser/test_moderation_in_browser.py."""
import html
import re

import requests

from conftest import sign_up
from test_reports_admin import apost, staff_without_sign_up
from webclient import WebUser, signed_up

T = 30
PAGES = ["/admin/reports", "/admin/reports?resolved=true", "/admin/accounts", "/admin/audit"]


def moderator(server, role="moderator"):
    u = signed_up(server)
    res = server.cli("user", "grant", u.username, role)
    assert res.returncode == 0, res.stderr
    return u


def posted(server, text):
    """An API user who posted `text` publicly; returns (client, status id)."""
    c = sign_up(server)
    r = c.post("/api/v1/statuses", json={"status": text, "visibility": "public"})
    assert r.status_code == 200, r.text
    return c, r.json()["id"]


def public_page(server):
    return requests.get(server.url("/"), timeout=T).text


def test_people_without_the_role_are_refused(server):
    u = signed_up(server)
    target, _ = posted(server, "still here")
    for path in PAGES:
        r = u.get(path, allow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
        assert 'id="error"' in r.text and "text/html" in r.headers["Content-Type"]
    assert 'href="/admin/reports"' not in u.get("/home").text
    # A well-formed post with the person's own valid token is still refused, and changes nothing.
    for what in ["suspend", "silence"]:
        r = u.post(f"/admin/accounts/{target.id}/{what}", {"csrf_token": u.csrf()})
        assert r.status_code == 403, (what, r.status_code)
    assert "still here" in public_page(server)
    # Signed out: sent to log in, not shown anything.
    r = requests.get(server.url("/admin/reports"), timeout=T, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/auth/sign_in")


def test_forms_without_their_csrf_token_are_refused_and_change_nothing(server):
    mod = moderator(server)
    other = signed_up(server)
    target, _ = posted(server, "not suspended by a forgery")
    assert 'href="/admin/reports"' in mod.get("/home").text  # staff see the link
    for token in (None, "", "x" * 43, other.csrf()):
        data = {} if token is None else {"csrf_token": token}
        for path in [f"/admin/accounts/{target.id}/suspend", f"/admin/accounts/{target.id}/silence"]:
            r = mod.post(path, data)
            assert r.status_code == 403, (token, path, r.status_code)
    assert "not suspended by a forgery" in public_page(server)
    audit = mod.get("/admin/audit").text
    assert target.username not in audit


def test_resolve_with_a_note_then_suspend_hides_the_posts(server):
    mod = moderator(server)
    target, sid = posted(server, "spam spam <b>spam</b>")
    reporter = sign_up(server)
    r = reporter.post("/api/v1/reports", json={"account_id": target.id, "status_ids": [sid],
                                                "comment": "this is spam", "category": "spam"})
    assert r.status_code == 200, r.text
    rid = r.json()["id"]

    queue = mod.get("/admin/reports")
    assert queue.status_code == 200
    assert f'id="report-{rid}"' in queue.text
    assert f'id="status-{sid}"' in queue.text  # the reported post, rendered
    assert "spam &lt;b&gt;spam&lt;/b&gt;" in queue.text and "this is spam" in queue.text

    r = mod.submit("/admin/reports", f'action="/admin/reports/{rid}/assign"')
    assert r.status_code == 303, r.text[:500]
    assert f"assigned to @{mod.username}" in mod.get("/admin/reports").text

    note = f"Warned <i>{target.username}</i>"
    r = mod.submit("/admin/reports", f'action="/admin/reports/{rid}/resolve"', note=note)
    assert r.status_code == 303 and "resolved=true" in r.headers["Location"], r.text[:500]
    assert f'id="report-{rid}"' not in mod.get("/admin/reports").text
    resolved = mod.get("/admin/reports?resolved=true").text
    assert f'id="report-{rid}"' in resolved and html.escape(note, quote=False) in resolved
    audit = mod.get("/admin/audit").text
    assert "resolve_report" in audit and html.escape(note, quote=False) in audit
    assert f"@{mod.username}" in audit

    r = mod.submit("/admin/reports?resolved=true", f'action="/admin/reports/{rid}/reopen"')
    assert r.status_code == 303
    assert f'id="report-{rid}"' in mod.get("/admin/reports").text

    # Suspend the reported account from the accounts page: its posts leave the public page.
    assert "spam &lt;b&gt;spam" in public_page(server)
    page = f"/admin/accounts?username={target.username}"
    assert f'id="account-{target.id}"' in mod.get(page).text
    r = mod.submit(page, f'action="/admin/accounts/{target.id}/suspend"')
    assert r.status_code == 303, r.text[:500]
    assert f'id="status-{sid}"' not in public_page(server)
    assert "suspended" in mod.get(page).text
    assert re.search(r"<td>suspend</td>\s*<td>account " + re.escape(target.username), mod.get("/admin/audit").text)
    # And back.
    r = mod.submit(page, f'action="/admin/accounts/{target.id}/unsuspend"')
    assert r.status_code == 303
    assert f'id="status-{sid}"' in public_page(server)


def test_pending_sign_ups_are_approved_or_rejected(make_server):
    s = make_server("--registrations", "approval")
    web_admin = WebUser(s)  # made with the CLI: web sign-ups wait for approval here
    res = s.cli("user", "create", web_admin.username, "--email", web_admin.email, input=web_admin.password + "\n")
    assert res.returncode == 0, res.stderr
    assert s.cli("user", "grant", web_admin.username, "moderator").returncode == 0
    assert web_admin.sign_in().status_code == 303
    waiting, refused = WebUser(s), WebUser(s)
    for u in (waiting, refused):
        assert 'id="pending"' in u.sign_up().text
    pending = web_admin.get("/admin/accounts?state=pending").text
    ids = {}
    for item in pending.split('<li id="account-')[1:]:
        ids[re.search(r'<span class="meta">@([^<]+)<', item).group(1)] = item.split('"')[0]
    assert waiting.username in ids and refused.username in ids, pending[:3000]
    r = web_admin.submit("/admin/accounts?state=pending", f'action="/admin/accounts/{ids[waiting.username]}/approve"')
    assert r.status_code == 303
    r = web_admin.submit("/admin/accounts?state=pending", f'action="/admin/accounts/{ids[refused.username]}/reject"')
    assert r.status_code == 303
    assert waiting.sign_in().status_code == 303
    assert refused.sign_in().status_code == 401
    audit = web_admin.get("/admin/audit").text
    assert "<td>approve</td>" in audit and "<td>reject" in audit


def test_web_sign_up_obeys_address_blocks(make_server):
    s = make_server()
    admin = staff_without_sign_up(s)
    r = apost(admin, "/api/v1/admin/ip_blocks", json={"ip": "127.0.0.0/8", "severity": "sign_up_block"})
    assert r.status_code == 200, r.text
    u = WebUser(s)
    r = u.sign_up()
    assert r.status_code == 403 and 'id="error"' in r.text
    assert "holdfast_session" not in u.http.cookies
