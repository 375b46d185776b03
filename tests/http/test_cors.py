"""CORS as Mastodon does it: `*` on the API, OAuth token/revoke, .well-known and
nodeinfo, never credentials, never on the authorize page or web pages;
preflights answered at the edge, free of rate limits and admission; the
guard's refusals readable by a browser."""
import threading
import uuid

import requests

from conftest import app_token, create_app, unique_name, suite_config_with
from helpers import bearer

T = 30
ORIGIN = "https://client.example"
EXPOSED = {"link", "x-ratelimit-reset", "x-ratelimit-limit", "x-ratelimit-remaining",
           "x-request-id", "idempotency-key", "retry-after"}


def assert_cors(r):
    h = r.headers
    assert h.get("Access-Control-Allow-Origin") == "*", (r.status_code, dict(h))
    assert "Access-Control-Allow-Credentials" not in h
    exposed = {x.strip().lower() for x in h.get("Access-Control-Expose-Headers", "").split(",")}
    assert EXPOSED <= exposed, exposed


def assert_no_cors(r):
    assert not any(k.lower().startswith("access-control-") for k in r.headers), dict(r.headers)


def preflight(server, path, method="POST",
              headers="authorization, content-type, idempotency-key"):
    return requests.options(server.url(path), timeout=T, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def assert_preflight_ok(r, headers="authorization, content-type, idempotency-key"):
    assert r.status_code in (200, 204), (r.status_code, r.text)
    h = r.headers
    assert h["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in h["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} <= methods
    assert h["Access-Control-Allow-Headers"].lower() == headers
    assert int(h["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in h


def test_api_responses_carry_cors_headers(alice):
    for path in ["/api/v1/instance", "/api/v2/instance", "/api/v1/timelines/public"]:
        r = requests.get(alice.server.url(path), headers={"Origin": ORIGIN}, timeout=T)
        assert r.status_code == 200
        assert_cors(r)
    r = alice.get("/api/v1/accounts/verify_credentials", headers={"Origin": ORIGIN})
    assert r.status_code == 200
    assert_cors(r)
    # errors too: a browser client must be able to read them
    assert_cors(requests.get(alice.server.url("/api/v1/no_such_route"), timeout=T))
    assert_cors(requests.get(alice.server.url("/api/v1/accounts/verify_credentials"), timeout=T))


def test_oauth_token_revoke_well_known_nodeinfo(server):
    r = requests.post(server.url("/oauth/token"), data={"grant_type": "nonsense"}, timeout=T,
                      headers={"Origin": ORIGIN})
    assert r.status_code >= 400
    assert_cors(r)
    assert_cors(requests.post(server.url("/oauth/revoke"), data={}, timeout=T))
    assert_cors(requests.get(server.url("/.well-known/nodeinfo"), timeout=T))
    assert_cors(requests.get(server.url("/nodeinfo/2.0"), timeout=T))


def test_no_cors_on_authorize_page_and_web_pages(server):
    for path in ["/oauth/authorize", "/", "/healthz"]:
        r = requests.get(server.url(path), headers={"Origin": ORIGIN}, timeout=T)
        assert_no_cors(r)
    # A preflight there is not blessed either.
    r = requests.options(server.url("/oauth/authorize"), timeout=T,
                         headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers
    assert r.status_code >= 400


def test_preflight_on_known_and_unknown_api_paths(server):
    for path in ["/api/v1/statuses", "/api/v1/no/such/route", "/api/v2/media",
                 "/oauth/token", "/oauth/revoke", "/api/v1/accounts/update_credentials"]:
        assert_preflight_ok(preflight(server, path))
    r = preflight(server, "/api/v1/statuses", method="DELETE", headers="authorization")
    assert_preflight_ok(r, "authorization")


def test_preflight_with_absurd_requested_headers_gets_a_fixed_list(server):
    r = preflight(server, "/api/v1/statuses", headers="x-a, " * 1000 + "x-b")
    assert r.status_code in (200, 204)
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert len(allowed) < 1024


def test_options_without_preflight_headers_is_a_json_405(alice):
    r = requests.options(alice.server.url("/api/v1/statuses"), timeout=T)
    assert r.status_code == 405
    assert r.json()["error"]
    assert_cors(r)


def test_preflight_is_free_even_with_the_budget_exhausted(make_server):
    server = make_server("--config", suite_config_with(rate_anonymous_ip_requests=3))
    codes = [requests.get(server.url("/api/v1/timelines/public"), timeout=T).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429], codes
    refused = requests.get(server.url("/api/v1/timelines/public"), headers={"Origin": ORIGIN},
                           timeout=T)
    assert refused.status_code == 429
    assert_cors(refused)
    assert "Retry-After" in refused.headers and "X-RateLimit-Remaining" in refused.headers
    for _ in range(20):
        assert_preflight_ok(preflight(server, "/api/v1/timelines/public"))
    # preflights did not touch the budget: the next real request says the same
    assert requests.get(server.url("/api/v1/timelines/public"), timeout=T).status_code == 429


def test_guard_overload_refusal_carries_cors(make_server):
    """503 from admission (one expensive slot, no queue): readable cross-origin."""
    server = make_server("--config", suite_config_with(
        admission_initial_concurrency=1, admission_min_concurrency=1,
        admission_max_concurrency=1, admission_queue_max=[0, 0, 0]))
    app = create_app(server)
    token = app_token(server, app)
    results = []

    def sign_up_one():
        name = unique_name("cors")
        r = requests.post(server.url("/api/v1/accounts"), timeout=T,
                          headers={**bearer(token), "Origin": ORIGIN}, json={
                              "username": name, "email": f"{name}@example.com",
                              "password": f"pw-{uuid.uuid4().hex}", "agreement": True})
        results.append(r)

    threads = [threading.Thread(target=sign_up_one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in results if r.status_code == 503]
    assert refused, [r.status_code for r in results]
    for r in refused:
        assert_cors(r)
        assert r.headers.get("Retry-After")
        assert r.json()["error"]
    # and a preflight at that moment is still answered
    assert_preflight_ok(preflight(server, "/api/v1/accounts"))


def test_cors_with_guard_off(make_server):
    server = make_server("--guard", "off")
    assert_cors(requests.get(server.url("/api/v1/instance"), timeout=T))
    assert_preflight_ok(preflight(server, "/api/v1/instance"))
    assert_no_cors(requests.get(server.url("/"), timeout=T))
