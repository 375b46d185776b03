"""The admins' web pages about the instance (/admin/announcements,
/admin/domain_blocks, /admin/ip_blocks, /admin/rules) at the HTTP level: only admins get
in, every form needs its CSRF token, bad input is refused and changes
nothing, and what an admin does there is what the admin API sees (the same
service calls, the same audit log)."""
import re

import requests

from conftest import sign_up
from test_reports_admin import areq, staff_without_sign_up
from test_web_moderation import moderator
from webclient import WebUser

T = 30
PAGES = ["/admin/announcements", "/admin/domain_blocks", "/admin/ip_blocks"]


def created_id(response, prefix):
    """The id a create form's redirect points at (`...#prefix-ID`)."""
    assert response.status_code == 303, response.text[:500]
    m = re.search(rf"#{prefix}-(\d+)$", response.headers["Location"])
    assert m, response.headers["Location"]
    return m.group(1)


def test_only_admins_get_in(server):
    mod = moderator(server)
    admin = moderator(server, "admin")
    for path in PAGES:
        r = mod.get(path, allow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
        assert 'id="error"' in r.text
        assert admin.get(path).status_code == 200, path
        r = requests.get(server.url(path), timeout=T, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].startswith("/auth/sign_in")
    # A moderator's well-formed post is refused too, and creates nothing.
    r = mod.post("/admin/domain_blocks", {"csrf_token": mod.csrf(), "domain": "mod-tried.example", "severity": "silence"})
    assert r.status_code == 403
    assert "mod-tried.example" not in admin.get("/admin/domain_blocks").text
    # Only admins see the tabs.
    assert 'href="/admin/announcements"' in admin.get("/admin/reports").text
    assert 'href="/admin/announcements"' not in mod.get("/admin/reports").text


def test_announcements_are_published_edited_and_deleted(make_server):
    server = make_server()  # its own: other tests expect no announcements on the shared one
    admin = moderator(server, "admin")
    reader = sign_up(server)
    text = f"Maintenance <b>tonight</b> {admin.username}"
    r = admin.submit("/admin/announcements", 'id="new-announcement"', text=text)
    assert r.status_code == 303, r.text[:500]
    aid = created_id(r, "announcement")
    page = admin.get("/admin/announcements").text
    assert f'id="announcement-{aid}"' in page
    assert "&lt;b&gt;tonight&lt;/b&gt;" in page  # the text is shown escaped
    [a] = [a for a in reader.get("/api/v1/announcements").json() if a["id"] == aid]
    assert "&lt;b&gt;tonight" in a["content"]

    r = admin.submit("/admin/announcements", f'action="/admin/announcements/{aid}/update"',
                     text="Maintenance moved to Friday", starts_at="", ends_at="")
    assert r.status_code == 303, r.text[:500]
    [a] = [a for a in reader.get("/api/v1/announcements").json() if a["id"] == aid]
    assert "Friday" in a["content"]

    # Bad input: an end before the start is refused and changes nothing.
    r = admin.submit("/admin/announcements", f'action="/admin/announcements/{aid}/update"',
                     text="never saved", starts_at="2030-01-02T10:00", ends_at="2030-01-01T10:00")
    assert r.status_code == 422 and 'id="error"' in r.text
    r = admin.submit("/admin/announcements", 'id="new-announcement"', text="   ")
    assert r.status_code == 422
    assert "never saved" not in admin.get("/admin/announcements").text

    # A draft: only admins see it, until it is published.
    r = admin.submit("/admin/announcements", 'id="new-announcement"', text="Draft for later", publish="false")
    did = created_id(r, "announcement")
    assert did not in [a["id"] for a in reader.get("/api/v1/announcements").json()]
    assert reader.post(f"/api/v1/announcements/{did}/dismiss").status_code == 404
    assert "draft" in admin.get("/admin/announcements").text.split(f'id="announcement-{did}"')[1][:2000]
    r = admin.submit("/admin/announcements", f'action="/admin/announcements/{did}/publish"')
    assert r.status_code == 303
    assert did in [a["id"] for a in reader.get("/api/v1/announcements").json()]
    r = admin.submit("/admin/announcements", f'action="/admin/announcements/{did}/unpublish"')
    assert r.status_code == 303
    assert did not in [a["id"] for a in reader.get("/api/v1/announcements").json()]
    admin.submit("/admin/announcements", f'action="/admin/announcements/{did}/delete"')

    r = admin.submit("/admin/announcements", f'action="/admin/announcements/{aid}/delete"')
    assert r.status_code == 303
    assert aid not in [a["id"] for a in reader.get("/api/v1/announcements").json()]
    audit = admin.get("/admin/audit").text
    for action in ["create_announcement", "update_announcement", "publish_announcement",
                   "unpublish_announcement", "delete_announcement"]:
        assert f"<td>{action}</td>" in audit, action


def test_domain_blocks_through_the_web_are_the_admin_apis(make_server):
    server = make_server()  # its own: others expect no domain blocks on the shared one
    admin = moderator(server, "admin")
    api = staff_without_sign_up(server)
    domain = f"{admin.username.replace('_', '-')}.example"
    r = admin.submit("/admin/domain_blocks", 'id="new-domain-block"', domain=domain.upper(),
                     severity="suspend", reject_media="true", public_comment="spam <script>")
    bid = created_id(r, "domain-block")
    b = areq(api, "GET", f"/api/v1/admin/domain_blocks/{bid}").json()
    assert b["domain"] == domain
    assert b["severity"] == "suspend" and b["reject_media"] and not b["reject_reports"]
    assert b["public_comment"] == "spam <script>"
    page = admin.get("/admin/domain_blocks").text
    assert "spam &lt;script&gt;" in page and "<script>" not in page.split("<main")[1]

    r = admin.submit("/admin/domain_blocks", f'action="/admin/domain_blocks/{b["id"]}/update"',
                     severity="silence", public_comment="")
    # The box left unticked is absent from the post, as a browser sends it: the flag goes off.
    assert r.status_code == 303
    after = areq(api, "GET", f"/api/v1/admin/domain_blocks/{b['id']}").json()
    assert after["severity"] == "silence" and after["domain"] == domain and not after["reject_media"]

    # Bad input is refused with the service's message and creates nothing.
    for bad in [{"domain": "not a domain"}, {"domain": f"x.{domain}", "severity": "obliterate"}]:
        r = admin.submit("/admin/domain_blocks", 'id="new-domain-block"', **bad)
        assert r.status_code == 422 and 'id="error"' in r.text, bad
    assert f"x.{domain}" not in admin.get("/admin/domain_blocks").text

    r = admin.submit("/admin/domain_blocks", f'action="/admin/domain_blocks/{b["id"]}/delete"')
    assert r.status_code == 303
    assert areq(api, "GET", f"/api/v1/admin/domain_blocks/{b['id']}").status_code == 404
    audit = admin.get("/admin/audit").text
    for action in ["create_domain_block", "update_domain_block", "delete_domain_block"]:
        assert f"<td>{action}</td>" in audit, action


def test_address_blocks_through_the_web_stop_sign_ups(make_server):
    s = make_server()
    admin = WebUser(s)
    res = s.cli("user", "create", admin.username, "--email", admin.email, input=admin.password + "\n")
    assert res.returncode == 0, res.stderr
    assert s.cli("user", "grant", admin.username, "admin").returncode == 0
    assert admin.sign_in().status_code == 303

    # Without its CSRF token: refused, nothing blocked.
    r = admin.post("/admin/ip_blocks", {"ip": "127.0.0.0/8", "severity": "sign_up_block"})
    assert r.status_code == 403
    assert WebUser(s).sign_up().status_code == 303

    r = admin.submit("/admin/ip_blocks", 'id="new-ip-block"', ip="127.0.0.1/8", severity="sign_up_block",
                     expires_in_days="14", comment="flood from here")
    bid = created_id(r, "ip-block")
    page = admin.get("/admin/ip_blocks").text
    assert "127.0.0.0/8" in page and "flood from here" in page  # normalized by the service
    u = WebUser(s)
    r = u.sign_up()
    assert r.status_code == 403 and 'id="error"' in r.text

    r = admin.submit("/admin/ip_blocks", f'action="/admin/ip_blocks/{bid}/update"',
                     severity="sign_up_requires_approval", expires_in_days="keep")
    assert r.status_code == 303
    assert 'id="pending"' in WebUser(s).sign_up().text
    r = admin.submit("/admin/ip_blocks", 'id="new-ip-block"', ip="300.1.2.3", severity="sign_up_block")
    assert r.status_code == 422
    r = admin.submit("/admin/ip_blocks", 'id="new-ip-block"', ip="10.0.0.0/8", expires_in_days="9999")
    assert r.status_code == 422

    r = admin.submit("/admin/ip_blocks", f'action="/admin/ip_blocks/{bid}/delete"')
    assert r.status_code == 303
    assert WebUser(s).sign_up().status_code == 303
    audit = admin.get("/admin/audit").text
    for action in ["create_ip_block", "update_ip_block", "delete_ip_block"]:
        assert f"<td>{action}</td>" in audit, action


def test_rules_page_shows_the_configured_rules(make_server):
    from conftest import suite_config_with
    from test_reports_admin import RULES
    s = make_server("--config", suite_config_with(RULES))
    mod, user = moderator(s), WebUser(s)
    # The sign-up form lists them above the agreement.
    form = user.get("/auth/sign_up").text
    assert form.index('id="sign-up-rules"') < form.index("No spam") < form.index("Be kind") \
        < form.index('id="agreement"')
    assert user.sign_up().status_code == 303
    page = mod.get("/admin/rules")
    assert page.status_code == 200
    assert rule_texts(page.text) == ["No spam", "Be kind"], page.text[:2000]
    assert 'id="new-rule"' not in page.text  # moderators read them; admins change them
    assert user.get("/admin/rules", allow_redirects=False).status_code == 403


def rule_texts(page_html):
    """The rules' texts as /admin/rules lists them, in order."""
    listed = page_html.split('id="rules"')[1].split("</ol>")[0]
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r'<span class="text">(.*?)</span>', listed, re.S)]


def api_rules(server):
    v1 = requests.get(server.url("/api/v1/instance/rules"), timeout=T).json()
    v2 = requests.get(server.url("/api/v2/instance"), timeout=T).json()["rules"]
    assert v1 == v2
    return [(r["id"], r["text"]) for r in v1]


def test_admins_edit_the_rules_and_reports_keep_citing_them(make_server):
    """Rules seeded from the config (ids 1..n) are added, edited, reordered and
    deleted from /admin/rules; apps see each change; a report keeps the rule
    it cited by id, and shows it after the rule is deleted; every change is
    audit-logged; bad input and people without the role change nothing."""
    from conftest import suite_config_with
    from test_reports_admin import RULES, aget
    s = make_server("--config", suite_config_with(RULES))
    admin, mod = moderator(s, "admin"), moderator(s)
    staff = staff_without_sign_up(s)
    reporter, target = WebUser(s), WebUser(s)
    assert reporter.sign_up().status_code == 303 and target.sign_up().status_code == 303
    assert api_rules(s) == [("1", "No spam"), ("2", "Be kind")]

    # A person reports, citing rule 2 from the web form.
    form = reporter.get(f"/@{target.username}/report").text
    assert 'id="report-rule-2"' in form
    r = reporter.submit(f"/@{target.username}/report", 'id="report-form"', **{"rule_ids[]": "2", "comment": "rude"})
    assert r.status_code == 303, r.text[:500]
    target_id = requests.get(s.url("/api/v1/accounts/lookup"), params={"acct": target.username}, timeout=T).json()["id"]
    [report] = aget(staff, "/api/v1/admin/reports", params={"target_account_id": target_id}).json()
    assert report["category"] == "violation" and [x["id"] for x in report["rules"]] == ["2"]

    # Add, edit, move.
    r = admin.submit("/admin/rules", 'id="new-rule"', text="No <script>bots</script>", hint="Label them")
    new = created_id(r, "rule")
    assert api_rules(s) == [("1", "No spam"), ("2", "Be kind"), (new, "No <script>bots</script>")]
    assert "&lt;script&gt;bots" in admin.get("/admin/rules").text
    r = admin.submit("/admin/rules", 'action="/admin/rules/2/update"', text="Be kind, always", hint="")
    assert r.status_code == 303, r.text[:500]
    r = admin.submit("/admin/rules", f'action="/admin/rules/{new}/up"')
    assert r.status_code == 303
    assert api_rules(s) == [("1", "No spam"), (new, "No <script>bots</script>"), ("2", "Be kind, always")]
    assert rule_texts(admin.get("/admin/rules").text) == ["No spam", "No &lt;script&gt;bots&lt;/script&gt;", "Be kind, always"]

    # Refused, changing nothing: blank or too long text, a missing CSRF token,
    # a moderator, an unknown rule.
    before = api_rules(s)
    for bad in [{"text": "  "}, {"text": "x" * 301}]:
        r = admin.submit("/admin/rules", 'id="new-rule"', **bad)
        assert r.status_code == 422 and 'id="error"' in r.text, (bad, r.status_code)
    assert admin.post("/admin/rules", {"text": "no token"}).status_code == 403
    r = mod.post("/admin/rules", {"csrf_token": mod.csrf(), "text": "a moderator's rule"})
    assert r.status_code == 403
    r = mod.post("/admin/rules/1/delete", {"csrf_token": mod.csrf()})
    assert r.status_code == 403
    assert admin.post("/admin/rules/999/delete", {"csrf_token": admin.csrf()}).status_code == 404
    assert api_rules(s) == before

    # Delete rule 2: it leaves the list, and the report still shows it.
    r = admin.submit("/admin/rules", 'action="/admin/rules/2/delete"')
    assert r.status_code == 303
    assert api_rules(s) == [("1", "No spam"), (new, "No <script>bots</script>")]
    full = aget(staff, f"/api/v1/admin/reports/{report['id']}").json()
    assert [(x["id"], x["text"]) for x in full["rules"]] == [("2", "Be kind, always")]
    reports_page = mod.get("/admin/reports").text
    cited = reports_page.split(f'id="report-{report["id"]}-rule-2"')[1].split("</li>")[0]
    assert "Be kind, always" in cited and "deleted" in cited
    # A new report cannot cite it, through the API or the page.
    api_reporter = sign_up(s)
    r = api_reporter.post("/api/v1/reports", json={"account_id": target_id, "rule_ids": ["2"]})
    assert r.status_code == 422, r.text
    assert 'id="report-rule-2"' not in reporter.get(f"/@{target.username}/report").text

    audit = admin.get("/admin/audit").text
    for action in ["create_rule", "update_rule", "move_rule", "delete_rule"]:
        assert f"<td>{action}</td>" in audit, action
