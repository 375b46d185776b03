"""Routes only a signed-in user may call: the caller is proved once, before
the handler runs (`User<Scope>` in holdfast-api/src/auth.rs), with
Mastodon's refusals in Mastodon's order: no token 401, a token without the
route's scope 403 (an app token too: the scope is checked first), an app
token with the scope 422. The route's own scope is enough to get past."""

import pytest
import requests

from conftest import app_token, create_app
from helpers import assert_error, bearer, scoped_token

NO_SUCH = "1"  # an id nothing has: a caller who gets past authentication gets 404

# (method, path, the scope the route demands, form body)
ROUTES = [
    ("GET", "/api/v1/timelines/home", "read:statuses", None),
    ("GET", "/api/v1/favourites", "read:favourites", None),
    ("GET", "/api/v1/bookmarks", "read:bookmarks", None),
    ("GET", "/api/v1/notifications", "read:notifications", None),
    ("GET", "/api/v2/notifications", "read:notifications", None),
    ("POST", "/api/v1/notifications/clear", "write:notifications", None),
    ("GET", "/api/v1/markers", "read:statuses", None),
    ("GET", "/api/v1/accounts/verify_credentials", "read:accounts", None),
    ("GET", "/api/v1/preferences", "read:accounts", None),
    ("GET", "/api/v1/accounts/relationships", "read:follows", None),
    ("POST", f"/api/v1/accounts/{NO_SUCH}/follow", "write:follows", None),
    ("POST", f"/api/v1/accounts/{NO_SUCH}/block", "write:blocks", None),
    ("POST", f"/api/v1/accounts/{NO_SUCH}/mute", "write:mutes", None),
    ("POST", "/api/v1/statuses", "write:statuses", {"status": "proved once"}),
    ("DELETE", f"/api/v1/statuses/{NO_SUCH}", "write:statuses", None),
    ("POST", f"/api/v1/statuses/{NO_SUCH}/favourite", "write:favourites", None),
    ("POST", f"/api/v1/statuses/{NO_SUCH}/reblog", "write:statuses", None),
    ("POST", f"/api/v1/statuses/{NO_SUCH}/bookmark", "write:bookmarks", None),
    ("DELETE", "/api/v1/profile/avatar", "write:accounts", None),
]


def call(server, method, path, token=None, body=None):
    headers = bearer(token) if token else {}
    return requests.request(method, server.url(path), headers=headers, data=body, timeout=30)


@pytest.fixture
def tokens(server, alice):
    app = create_app(server)
    return {
        "app": app_token(server, app),
        # `push` covers none of the routes above.
        "app_push": app_token(server, app, scopes="push"),
        "user_push": scoped_token(server, alice, "push"),
    }


@pytest.mark.parametrize("method,path,scope,body", ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_refusals_come_in_mastodons_order(server, alice, tokens, method, path, scope, body):
    assert_error(call(server, method, path, body=body), 401)
    assert_error(call(server, method, path, "not-a-token", body), 401)
    assert_error(call(server, method, path, tokens["user_push"], body), 403)
    # An app token: its missing scope first, then its missing account.
    assert_error(call(server, method, path, tokens["app_push"], body), 403)
    body422 = assert_error(call(server, method, path, tokens["app"], body), 422)
    assert body422["error"] == "This method requires an authenticated user"
    # Exactly the route's scope gets past authentication.
    r = call(server, method, path, scoped_token(server, alice, scope), body)
    assert r.status_code in (200, 404), (r.status_code, r.text)
