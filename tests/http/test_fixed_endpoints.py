"""Small documented endpoints with a fixed or derived answer (issue 14):
Mastodon's JSON health check, OpenID userinfo, identity proofs, the 4.4
names of endorsements, annual reports and async refreshes (holdfast makes
neither, so the documented empty forms), the trending-link timeline (no
link trends: 404, as Mastodon answers for a URL that is not trending), and
the deprecated `vapid_key` that apps still read."""
import requests

from helpers import assert_error, scoped_token


def test_health_is_json(server):
    r = requests.get(server.url("/health"), timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "UP"}


def test_userinfo_is_advertised_and_answers_for_the_user(server, alice):
    meta = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=10).json()
    assert meta["userinfo_endpoint"] == server.url("/oauth/userinfo")
    for method in ("GET", "POST"):
        r = alice.session.request(method, server.url("/oauth/userinfo"), timeout=10)
        assert r.status_code == 200, r.text
        info = r.json()
        assert info["iss"] == meta["issuer"]
        assert info["preferred_username"] == alice.username
        assert info["profile"] == alice.account["url"] and info["sub"] == alice.account["uri"]
        assert info["picture"] == alice.account["avatar"]
    assert_error(requests.get(server.url("/oauth/userinfo"), timeout=10), 401)
    # A token without read:accounts or profile may not ask who it is.
    write_only = scoped_token(server, alice, "write")
    assert_error(requests.get(server.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {write_only}"},
                              timeout=10), 403)


def test_apps_carry_the_vapid_key(server, alice):
    key = requests.get(server.url("/api/v2/instance"), timeout=10).json()["configuration"]["vapid"]["public_key"]
    app = requests.post(server.url("/api/v1/apps"), data={"client_name": "v", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
                        timeout=10).json()
    assert app["vapid_key"] == key
    assert alice.get("/api/v1/apps/verify_credentials").json()["vapid_key"] == key


def test_identity_proofs_are_empty_for_a_real_account(server, alice, bob):
    assert alice.get(f"/api/v1/accounts/{bob.id}/identity_proofs").json() == []
    assert_error(alice.get("/api/v1/accounts/999999999/identity_proofs"), 404)


def test_endorse_is_pin_and_endorsements_of_any_account(server, alice, bob, carol):
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    r = alice.post(f"/api/v1/accounts/{bob.id}/endorse")
    assert r.status_code == 200 and r.json()["endorsed"] is True
    # Anyone (even without a token) sees whom alice features.
    listed = requests.get(server.url(f"/api/v1/accounts/{alice.id}/endorsements"), timeout=10).json()
    assert [a["id"] for a in listed] == [bob.id]
    assert carol.get(f"/api/v1/accounts/{carol.id}/endorsements").json() == []
    r = alice.post(f"/api/v1/accounts/{bob.id}/unendorse")
    assert r.status_code == 200 and r.json()["endorsed"] is False
    assert alice.get(f"/api/v1/accounts/{alice.id}/endorsements").json() == []
    assert_error(alice.get("/api/v1/accounts/999999999/endorsements"), 404)


def test_annual_reports_and_async_refreshes_have_documented_empty_forms(server, alice):
    assert alice.get("/api/v1/annual_reports").json() == {"annual_reports": [], "accounts": [], "statuses": []}
    assert alice.get("/api/v1/annual_reports/2025/state").json() == {"state": "ineligible"}
    assert alice.post("/api/v1/annual_reports/2025/generate").status_code == 200
    assert_error(alice.get("/api/v1/annual_reports/2025"), 404)
    assert_error(alice.post("/api/v1/annual_reports/2025/read"), 404)
    assert_error(requests.get(server.url("/api/v1/annual_reports"), timeout=10), 401)
    assert_error(alice.get("/api/v1_alpha/async_refreshes/1"), 404)
    assert_error(alice.get("/api/v1/timelines/link", params={"url": "https://example.com/"}), 404)
