"""Web Push (issue 12): /api/v1/push/subscription as Mastodon has it, and
delivery to a loopback push service (tests/http/pushreceiver.py) that
decrypts each message with the subscription's own keys and checks the VAPID
signature; retries, the attempt bound, dead subscriptions removed on 410,
alerts and policies, and the inputs refused with 422 (bad keys, plain http,
private addresses)."""
import time

import pytest
import requests

from conftest import Server, sign_up, suite_config_with
from helpers import assert_error, scoped_token, metric
from pushreceiver import PushReceiver

ALERTS = ["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll",
          "update", "admin.sign_up", "admin.report"]


@pytest.fixture(scope="module")
def push_server():
    """A server that may push to 127.0.0.1 (the test receivers), polls its
    queue often and retries soon, so the tests are quick."""
    s = Server(("--config", suite_config_with(push_allowed_hosts=["127.0.0.1"], push_poll_interval_ms=100,
                                        push_retry_base_ms=200, push_attempts_max=3)))
    yield s
    s.stop()


@pytest.fixture
def receiver():
    r = PushReceiver()
    yield r
    r.stop()


def subscribe(client, receiver, alerts=("mention", "follow"), policy=None, path="/push/abc"):
    data = {"alerts": {a: True for a in alerts}}
    if policy:
        data["policy"] = policy
    return client.post("/api/v1/push/subscription", json={
        "subscription": {"endpoint": receiver.endpoint(path), "keys": receiver.keys()}, "data": data})


def server_key(server):
    return requests.get(server.url("/api/v2/instance"), timeout=10).json()["configuration"]["vapid"]["public_key"]

def test_subscription_crud_in_mastodons_shapes(push_server, receiver):
    alice = sign_up(push_server)
    assert_error(alice.get("/api/v1/push/subscription"), 404)
    r = subscribe(alice, receiver)
    assert r.status_code == 200, r.text
    sub = r.json()
    key = server_key(push_server)
    assert len(key) > 80 and sub["server_key"] == key
    assert sub["endpoint"] == receiver.endpoint()
    assert sub["policy"] == "all" and sub["standard"] is True
    assert sub["alerts"] == {a: a in ("mention", "follow") for a in ALERTS}
    assert isinstance(sub["id"], str)
    assert alice.get("/api/v1/push/subscription").json() == sub
    # PUT replaces alerts and policy; the endpoint stays.
    r = alice.put("/api/v1/push/subscription", json={"data": {"alerts": {"favourite": True}, "policy": "follower"}})
    assert r.status_code == 200, r.text
    assert r.json()["alerts"]["favourite"] is True and r.json()["alerts"]["mention"] is False
    assert r.json()["policy"] == "follower" and r.json()["endpoint"] == receiver.endpoint()
    # Form encoding, as Rails names it, replaces the token's subscription.
    r = alice.post("/api/v1/push/subscription", data={
        "subscription[endpoint]": receiver.endpoint("/second"),
        "subscription[keys][p256dh]": receiver.keys()["p256dh"],
        "subscription[keys][auth]": receiver.keys()["auth"],
        "data[alerts][reblog]": "true", "data[policy]": "none"})
    assert r.status_code == 200, r.text
    assert r.json()["endpoint"].endswith("/second") and r.json()["id"] != sub["id"]
    assert r.json()["alerts"]["reblog"] is True and r.json()["policy"] == "none"
    # Another token of the same account has its own (none yet).
    other = scoped_token(push_server, alice, "read push")
    r = requests.get(push_server.url("/api/v1/push/subscription"),
                     headers={"Authorization": f"Bearer {other}"}, timeout=10)
    assert_error(r, 404)
    assert alice.delete("/api/v1/push/subscription").json() == {}
    assert_error(alice.get("/api/v1/push/subscription"), 404)
    assert_error(alice.put("/api/v1/push/subscription", json={"data": {"policy": "all"}}), 404)


def test_the_push_scope_is_required(push_server, receiver):
    alice = sign_up(push_server)
    token = scoped_token(push_server, alice, "read write")
    r = requests.get(push_server.url("/api/v1/push/subscription"),
                     headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert_error(r, 403)
    assert_error(requests.get(push_server.url("/api/v1/push/subscription"), timeout=10), 401)


@pytest.mark.parametrize("change", [
    {"endpoint": "http://8.8.8.8/push"},                       # not https
    {"endpoint": "https://10.1.2.3/push"},                     # private
    {"endpoint": "https://169.254.169.254/latest/meta-data"},  # link-local (cloud metadata)
    {"endpoint": "https://[::1]:9/push"},                      # loopback, not on the allow-list
    {"endpoint": "https://localhost/push"},                    # a name that resolves to loopback
    {"endpoint": "gopher://example.com/"},
    {"endpoint": "https://example.com/" + "a" * 3000},
    {"p256dh": "bm90IGEga2V5"},
    {"p256dh": "B" + "A" * 86},                                # 65 bytes, not on the curve
    {"auth": "c2hvcnQ"},
    {"policy": "everyone"},
])
def test_bad_inputs_are_refused_with_422_and_change_nothing(push_server, receiver, change):
    alice = sign_up(push_server)
    keys = receiver.keys()
    body = {"subscription": {"endpoint": change.get("endpoint", receiver.endpoint()),
                             "keys": {"p256dh": change.get("p256dh", keys["p256dh"]),
                                      "auth": change.get("auth", keys["auth"])}},
            "data": {"alerts": {"mention": True}, "policy": change.get("policy", "all")}}
    assert_error(alice.post("/api/v1/push/subscription", json=body), 422)
    assert_error(alice.get("/api/v1/push/subscription"), 404)


def test_missing_fields_are_refused(push_server):
    alice = sign_up(push_server)
    assert_error(alice.post("/api/v1/push/subscription", json={}), 422)
    assert_error(alice.post("/api/v1/push/subscription", json={"subscription": {"endpoint": "https://e.x/"}}), 422)


def test_a_notification_arrives_encrypted_for_the_subscription(push_server, receiver):
    alice, bob = sign_up(push_server), sign_up(push_server)
    assert subscribe(alice, receiver).status_code == 200
    bob_id = bob.get("/api/v1/accounts/verify_credentials").json()["id"]
    alice_id = alice.get("/api/v1/accounts/verify_credentials").json()["id"]
    assert bob.post(f"/api/v1/accounts/{alice_id}/follow").status_code == 200
    [request] = receiver.wait_for(1)
    assert request["path"] == "/push/abc"
    h = request["headers"]
    assert h["content-encoding"] == "aes128gcm"
    assert int(h["ttl"]) > 0
    claims = receiver.check_vapid(request, server_key(push_server))
    assert claims["aud"] == receiver.origin
    assert claims["exp"] > time.time() and claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"]
    payload = receiver.decrypt(request["body"])
    assert payload["notification_type"] == "follow"
    assert bob.username in payload["title"] and "followed you" in payload["title"]
    note = alice.get(f"/api/v1/notifications/{payload['notification_id']}").json()
    assert note["type"] == "follow" and note["account"]["id"] == bob_id
    # A mention carries the status text.
    bob.status(f"@{alice.username} the push works")
    second = receiver.wait_for(2)[1]
    payload = receiver.decrypt(second["body"])
    assert payload["notification_type"] == "mention"
    assert "the push works" in payload["body"]


def test_alerts_and_policy_choose_what_is_pushed(push_server, receiver):
    alice, friend, stranger = sign_up(push_server), sign_up(push_server), sign_up(push_server)
    friend_id = friend.get("/api/v1/accounts/verify_credentials").json()["id"]
    alice_id = alice.get("/api/v1/accounts/verify_credentials").json()["id"]
    assert alice.post(f"/api/v1/accounts/{friend_id}/follow").status_code == 200
    assert subscribe(alice, receiver, alerts=("mention",), policy="followed").status_code == 200
    # Not pushed: a follow (alert off), a stranger's mention (policy).
    assert stranger.post(f"/api/v1/accounts/{alice_id}/follow").status_code == 200
    stranger.status(f"@{alice.username} from a stranger")
    # Pushed: the followed account's mention.
    friend.status(f"@{alice.username} from a friend")
    receiver.wait_for(1)
    time.sleep(1.0)  # ten poll intervals: anything else queued would have come
    assert len(receiver.requests) == 1
    payload = receiver.decrypt(receiver.requests[0]["body"])
    assert payload["notification_type"] == "mention" and "from a friend" in payload["body"]


def test_a_failed_delivery_is_retried_then_succeeds(push_server):
    receiver = PushReceiver(statuses=[500, 429])
    try:
        alice, bob = sign_up(push_server), sign_up(push_server)
        assert subscribe(alice, receiver).status_code == 200
        alice_id = alice.get("/api/v1/accounts/verify_credentials").json()["id"]
        before = metric(push_server, "holdfast_push_deliveries_total", outcome="retried")
        assert bob.post(f"/api/v1/accounts/{alice_id}/follow").status_code == 200
        requests_ = receiver.wait_for(3)
        # The same message content each time (freshly encrypted), and the gaps grow.
        payloads = [receiver.decrypt(r["body"]) for r in requests_]
        assert len({p["notification_id"] for p in payloads}) == 1
        assert metric(push_server, "holdfast_push_deliveries_total", outcome="retried") >= before + 2
        time.sleep(1.0)
        assert len(receiver.requests) == 3  # delivered once, not again
    finally:
        receiver.stop()


def test_attempts_are_bounded(push_server):
    receiver = PushReceiver(statuses=[503] * 50)
    try:
        alice, bob = sign_up(push_server), sign_up(push_server)
        assert subscribe(alice, receiver).status_code == 200
        alice_id = alice.get("/api/v1/accounts/verify_credentials").json()["id"]
        assert bob.post(f"/api/v1/accounts/{alice_id}/follow").status_code == 200
        receiver.wait_for(3)
        time.sleep(2.0)  # past a fourth attempt's time (200 + 400 + 800 ms)
        assert len(receiver.requests) == 3  # push_attempts_max
        # The subscription itself stays: only the message was given up.
        assert alice.get("/api/v1/push/subscription").status_code == 200
    finally:
        receiver.stop()


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(push_server, status):
    receiver = PushReceiver(statuses=[status])
    try:
        alice, bob = sign_up(push_server), sign_up(push_server)
        assert subscribe(alice, receiver).status_code == 200
        alice_id = alice.get("/api/v1/accounts/verify_credentials").json()["id"]
        assert bob.post(f"/api/v1/accounts/{alice_id}/follow").status_code == 200
        receiver.wait_for(1)
        deadline = time.monotonic() + 10
        while alice.get("/api/v1/push/subscription").status_code != 404:
            assert time.monotonic() < deadline, "the gone subscription was not removed"
            time.sleep(0.1)
        # Later notifications are not sent anywhere.
        bob.status(f"@{alice.username} after")
        time.sleep(1.0)
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()


def test_a_default_server_refuses_loopback_endpoints(server, receiver):
    """Without the allow-list, the test receiver itself is refused."""
    alice = sign_up(server)
    body = assert_error(subscribe(alice, receiver), 422)
    assert "https" in body["error"] or "private" in body["error"]
