"""Proved bearer tokens are kept in memory (issue 10, post), checked against
the auth epoch (migration 0026) on every request: the first request after a
token ends (revoked, its account suspended, also by `holdfast user suspend`,
a process of its own that sends no event, or its password changed) is 401,
on this node and, over one PostgreSQL, on another node."""
import re

import pytest
import requests

from conftest import BACKEND, pg_cluster, sign_up
from helpers import assert_error, bearer
from webclient import WebUser

T = 30
ME = "/api/v1/accounts/verify_credentials"


def served(server, token, times=3):
    """Uses the token a few times on `server`, so it is in that node's cache."""
    for _ in range(times):
        r = requests.get(server.url(ME), headers=bearer(token), timeout=T)
        assert r.status_code == 200, r.text


def refused(server, token):
    assert_error(requests.get(server.url(ME), headers=bearer(token), timeout=T), 401)
    r = requests.post(server.url("/api/v1/statuses"), headers=bearer(token), timeout=T,
                      json={"status": "after the token ended"})
    assert_error(r, 401)


def revoke(server, user):
    r = requests.post(server.url("/oauth/revoke"), timeout=T, data={
        "token": user.token, "client_id": user.app["client_id"],
        "client_secret": user.app["client_secret"]})
    assert r.status_code == 200, r.text


def change_password(server, user):
    web = WebUser(server, username=user.username, password=user.password)
    assert web.sign_in().status_code == 303
    r = web.submit("/settings", 'id="password-form"', current_password=user.password,
                   password="a-new-password-1")
    assert r.status_code == 303, r.text


def token_cache_hits(server):
    text = requests.get(server.url("/metrics"), timeout=T).text
    m = re.search(r'^holdfast_token_cache_total\{outcome="hit"\} (\d+)$', text, re.M)
    assert m, "the token cache's hits are in /metrics"
    return int(m.group(1))


def test_a_token_in_use_is_served_from_the_cache(server):
    user = sign_up(server)
    before = token_cache_hits(server)
    served(server, user.token, times=5)
    assert token_cache_hits(server) >= before + 4


def test_revoked_token_is_refused_by_the_next_request(server):
    user = sign_up(server)
    served(server, user.token)
    revoke(server, user)
    refused(server, user.token)


def test_suspension_by_the_cli_is_seen_by_the_next_request(server):
    user = sign_up(server)
    served(server, user.token)
    res = server.cli("user", "suspend", user.username)
    assert res.returncode == 0, res.stderr
    refused(server, user.token)


def test_password_change_ends_api_tokens_at_once(server):
    user = sign_up(server)
    other = sign_up(server)
    served(server, user.token)
    served(server, other.token)
    change_password(server, user)
    refused(server, user.token)
    # Everyone's copy was dropped, but the others' tokens are still good.
    served(server, other.token)


@pytest.mark.skipif(BACKEND != "postgres", reason="two nodes need HOLDFAST_TEST_BACKEND=postgres")
def test_a_token_ended_on_one_node_is_refused_by_the_other(make_server):
    cluster = pg_cluster()
    url = cluster.url(cluster.create_database())
    node1 = make_server(database=url)
    node2 = make_server(database=url)
    revoked, suspended, changed = sign_up(node1), sign_up(node1), sign_up(node1)
    for user in (revoked, suspended, changed):
        served(node1, user.token)
        served(node2, user.token)
    revoke(node1, revoked)
    refused(node2, revoked.token)
    res = node1.cli("user", "suspend", suspended.username)
    assert res.returncode == 0, res.stderr
    refused(node2, suspended.token)
    refused(node1, suspended.token)
    change_password(node2, changed)
    refused(node1, changed.token)
