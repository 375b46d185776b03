"""max_id / since_id / min_id / limit and Link headers."""
import pytest

from conftest import sign_up
from helpers import (anon_get, assert_error, desc, ids, link_params, parse_link,
                     path_and_query)

N = 45


@pytest.fixture(scope="module")
def poster(server):
    """One account with 45 statuses (oldest first in .posted), shared by this module."""
    c = sign_up(server)
    c.posted = [c.status(f"status number {i}")["id"] for i in range(N)]
    return c


@pytest.fixture(scope="module")
def reader(server, poster):
    c = sign_up(server)
    assert c.post(f"/api/v1/accounts/{poster.id}/follow").status_code == 200
    return c


def walk(get, first_path, params, max_pages=10):
    """Follow rel="next" links, returning (all ids in order, pages)."""
    r = get(first_path, params=params)
    assert r.status_code == 200, r.text
    pages = [r.json()]
    seen = ids(r.json())
    link = parse_link(r).get("next")
    while link and len(pages) < max_pages:
        r = get(path_and_query(link))
        assert r.status_code == 200, r.text
        if not r.json():
            break
        pages.append(r.json())
        seen += ids(r.json())
        link = parse_link(r).get("next")
    return seen, pages


def test_walk_account_statuses_via_link_next(server, poster):
    path = f"/api/v1/accounts/{poster.id}/statuses"
    seen, pages = walk(lambda p, **kw: anon_get(server, p, **kw), path, {"limit": 20})
    assert [len(p) for p in pages] == [20, 20, 5]
    assert seen == list(reversed(poster.posted))  # newest first, no gaps, no duplicates
    assert len(set(seen)) == N


def test_walk_home_timeline_via_link_next(reader, poster):
    seen, pages = walk(reader.get, "/api/v1/timelines/home", {"limit": 20})
    assert seen == list(reversed(poster.posted))
    assert [len(p) for p in pages] == [20, 20, 5]


def test_link_header_shape(server, poster):
    path = f"/api/v1/accounts/{poster.id}/statuses"
    r = anon_get(server, path, params={"limit": 20})
    links = parse_link(r)
    assert set(links) == {"next", "prev"}, r.headers.get("Link")
    page = ids(r.json())
    nxt, prv = link_params(links["next"]), link_params(links["prev"])
    assert nxt["max_id"] == page[-1]
    assert prv["min_id"] == page[0]
    assert links["next"].startswith("http")
    assert path in links["next"] and path in links["prev"]
    assert nxt.get("limit") in (None, "20")
    # The prev link from the first page finds nothing newer.
    r2 = anon_get(server, path_and_query(links["prev"]))
    assert r2.status_code == 200 and r2.json() == []


def test_default_limit_is_20(server, poster):
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses")
    assert r.status_code == 200
    assert ids(r.json()) == list(reversed(poster.posted))[:20]


def test_limit_is_capped_at_40(server, poster):
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses", params={"limit": 1000})
    assert r.status_code == 200
    assert ids(r.json()) == list(reversed(poster.posted))[:40]


def test_small_limit(server, poster):
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses", params={"limit": 1})
    assert ids(r.json()) == [poster.posted[-1]]
    assert "next" in parse_link(r)


def test_max_id(server, poster):
    p = poster.posted
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                 params={"max_id": p[10], "limit": 5})
    assert ids(r.json()) == [p[9], p[8], p[7], p[6], p[5]]


def test_since_id_returns_newest(server, poster):
    p = poster.posted
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                 params={"since_id": p[10], "limit": 5})
    assert ids(r.json()) == [p[44], p[43], p[42], p[41], p[40]]


def test_min_id_returns_page_immediately_newer(server, poster):
    p = poster.posted
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                 params={"min_id": p[10], "limit": 5})
    assert r.status_code == 200
    assert ids(r.json()) == [p[15], p[14], p[13], p[12], p[11]]  # still newest first
    links = parse_link(r)
    assert link_params(links["prev"])["min_id"] == p[15]
    assert link_params(links["next"])["max_id"] == p[11]


def test_walk_backwards_with_min_id(server, poster):
    """Following rel="prev" from an old page walks forward in time without gaps."""
    p = poster.posted
    path = f"/api/v1/accounts/{poster.id}/statuses"
    r = anon_get(server, path, params={"max_id": p[5], "limit": 5})
    got = ids(r.json())
    assert got == [p[4], p[3], p[2], p[1], p[0]]
    collected = list(reversed(got))
    for _ in range(20):
        prev = parse_link(r).get("prev")
        assert prev
        r = anon_get(server, path_and_query(prev))
        page = ids(r.json())
        if not page:
            break
        assert desc(page)
        collected += list(reversed(page))
    assert collected == p


def test_max_id_and_since_id_together(server, poster):
    p = poster.posted
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                 params={"max_id": p[20], "since_id": p[17]})
    assert ids(r.json()) == [p[19], p[18]]


def test_max_id_of_oldest_is_empty(server, poster):
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                 params={"max_id": poster.posted[0]})
    assert r.status_code == 200 and r.json() == []


def test_home_min_id(reader, poster):
    p = poster.posted
    r = reader.get("/api/v1/timelines/home", params={"min_id": p[30], "limit": 3})
    assert ids(r.json()) == [p[33], p[32], p[31]]


def test_public_timeline_pagination(server, poster):
    p = poster.posted
    r = anon_get(server, "/api/v1/timelines/public",
                 params={"max_id": p[40], "since_id": p[35], "local": "true"})
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [p[39], p[38], p[37], p[36]]


def test_non_numeric_limit_gives_the_default_page(server, poster):
    # Mastodon never refuses a bad `limit`; garbage means the default page (20 statuses).
    for path in (f"/api/v1/accounts/{poster.id}/statuses", "/api/v1/timelines/public"):
        r = anon_get(server, path, params={"limit": "lots"})
        assert r.status_code == 200, r.text
        assert len(r.json()) == 20 and desc(ids(r.json()))
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses", params={"limit": "3x"})
    assert r.status_code == 200 and len(r.json()) == 3  # Ruby's to_i: the leading number


def test_limit_above_the_maximum_is_clamped(server, poster):
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                 params={"limit": "100000000000000000000"})
    assert r.status_code == 200, r.text
    assert len(r.json()) == 40  # statuses_page_max


@pytest.mark.parametrize("param", ["max_id", "since_id", "min_id"])
def test_non_numeric_cursor_is_ignored(server, poster, param):
    plain = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses", params={"limit": 5})
    for bad in ("abc", "-1", "12abc", ""):
        r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses",
                     params={param: bad, "limit": 5})
        assert r.status_code == 200, r.text
        assert ids(r.json()) == ids(plain.json()), (param, bad)


def test_negative_limit_counts_as_positive(server, poster):
    # Mastodon reads `limit` as `to_i.abs`.
    r = anon_get(server, f"/api/v1/accounts/{poster.id}/statuses", params={"limit": "-5"})
    assert r.status_code == 200, r.text
    assert ids(r.json()) == list(reversed(poster.posted))[:5]


def test_zero_limit_is_an_empty_page(server, poster, reader):
    # Mastodon's `limit(0)`: an empty page, and no Link header to follow.
    for get in (lambda p, **kw: anon_get(server, p, **kw), reader.get):
        for path in (f"/api/v1/accounts/{poster.id}/statuses", "/api/v1/timelines/home"):
            if get is not reader.get and path.endswith("home"):
                continue
            r = get(path, params={"limit": "0"})
            assert r.status_code == 200, r.text
            assert r.json() == [] and "Link" not in r.headers


def test_notifications_pagination(server):
    target = sign_up(server)
    fans = [sign_up(server) for _ in range(5)]
    for f in fans:
        f.post(f"/api/v1/accounts/{target.id}/follow")
    seen, pages = walk(target.get, "/api/v1/notifications", {"limit": 2})
    assert [len(x) for x in pages] == [2, 2, 1]
    assert desc(seen) and len(set(seen)) == 5
    accounts = [n["account"]["id"] for pg in pages for n in pg]
    assert accounts == [f.id for f in reversed(fans)]


def test_favourites_pagination_uses_link(server, poster):
    c = sign_up(server)
    for sid in poster.posted[:5]:
        c.post(f"/api/v1/statuses/{sid}/favourite")
    seen, pages = walk(c.get, "/api/v1/favourites", {"limit": 2})
    assert seen == list(reversed(poster.posted[:5]))
    assert [len(x) for x in pages] == [2, 2, 1]
