"""Rendered statuses and accounts are kept between pages by row version
(issue 10, `holdfast-api` `rendered`, migration 0024): whatever changes a
status or its author (a favourite, a reply, an edit, a new display name, a
delete) shows on the very next read, on the node that made the change and,
on PostgreSQL, on another node that had the old JSON kept."""
import pytest
import requests

from conftest import BACKEND, pg_cluster, sign_up

T = 30


def home(client, node=None):
    url = (node or client.server).url("/api/v1/timelines/home")
    r = client.session.get(url, timeout=T)
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()}


def rendered_hits(node):
    hits = 0
    for line in requests.get(node.url("/metrics"), timeout=T).text.splitlines():
        if line.startswith("holdfast_rendered_json_cache_total") and 'outcome="hit"' in line:
            hits += float(line.split()[-1])
    return hits


def changes_show_at_once(reader, author, other, node):
    """`author`'s status read by `reader` on `node` after each change made on
    the author's own node; `node` keeps the JSON it rendered between reads."""
    reader.post(f"/api/v1/accounts/{author.id}/follow")
    st = author.status("first words")
    first = home(reader, node)[st["id"]]
    assert (first["favourites_count"], first["favourited"], first["replies_count"]) == (0, False, 0)
    again = home(reader, node)[st["id"]]
    assert again == first, "nothing changed, the same JSON"

    assert other.post(f"/api/v1/statuses/{st['id']}/favourite").status_code == 200
    seen = home(reader, node)[st["id"]]
    assert (seen["favourites_count"], seen["favourited"]) == (1, False)
    assert reader.post(f"/api/v1/statuses/{st['id']}/favourite").status_code == 200
    seen = home(reader, node)[st["id"]]
    assert (seen["favourites_count"], seen["favourited"]) == (2, True)
    assert reader.post(f"/api/v1/statuses/{st['id']}/bookmark").status_code == 200
    assert home(reader, node)[st["id"]]["bookmarked"] is True

    other.status(f"@{author.username} a reply", in_reply_to_id=st["id"])
    assert home(reader, node)[st["id"]]["replies_count"] == 1

    r = author.put(f"/api/v1/statuses/{st['id']}", json={"status": "second words"})
    assert r.status_code == 200, r.text
    seen = home(reader, node)[st["id"]]
    assert "second words" in seen["content"] and seen["edited_at"] is not None

    r = author.patch("/api/v1/accounts/update_credentials", json={"display_name": "Renamed Author"})
    assert r.status_code == 200, r.text
    seen = home(reader, node)[st["id"]]
    assert seen["account"]["display_name"] == "Renamed Author"
    # The author's counts are in the account too: a new post moves them.
    before = seen["account"]["statuses_count"]
    newer = author.status("another one")
    page = home(reader, node)
    assert page[st["id"]]["account"]["statuses_count"] == before + 1
    assert page[newer["id"]]["account"]["statuses_count"] == before + 1

    # A reblog carries the original, also fresh.
    assert other.post(f"/api/v1/accounts/{author.id}/follow").status_code == 200
    assert reader.post(f"/api/v1/accounts/{other.id}/follow").status_code == 200
    rb = other.post(f"/api/v1/statuses/{st['id']}/reblog").json()
    seen = home(reader, node)[rb["id"]]
    assert seen["reblog"]["id"] == st["id"] and seen["reblog"]["reblogs_count"] == 1

    assert author.delete(f"/api/v1/statuses/{st['id']}").status_code == 200
    page = home(reader, node)
    assert st["id"] not in page and rb["id"] not in page
    assert newer["id"] in page


def test_a_changed_status_or_author_renders_fresh_on_the_next_read(server):
    reader, author, other = sign_up(server), sign_up(server), sign_up(server)
    hits = rendered_hits(server)
    changes_show_at_once(reader, author, other, server)
    assert rendered_hits(server) > hits, "the kept JSON was never used"


@pytest.mark.skipif(BACKEND != "postgres", reason="two nodes share a database on PostgreSQL only")
def test_kept_json_on_another_node_is_never_stale(make_server):
    cluster = pg_cluster()
    url = cluster.url(cluster.create_migrated_database())
    a = make_server(database=url)
    b = make_server(database=url)
    reader, author, other = sign_up(a), sign_up(a), sign_up(a)
    # Changes are made on node A; the reader reads on node B, which keeps
    # what it rendered and hears of no change: only the row versions tell.
    changes_show_at_once(reader, author, other, b)
    assert rendered_hits(b) > 0


def test_the_readers_own_part_is_read_fresh_beside_kept_json(server):
    """A home status whose JSON is kept comes from it without its rows being
    read (issue 10, `holdfast-store` `kept`); the reader's own part (a vote
    in its poll, a bookmark, a reblog) is read on every page all the same."""
    reader, author, other = sign_up(server), sign_up(server), sign_up(server)
    reader.post(f"/api/v1/accounts/{author.id}/follow")
    reader.post(f"/api/v1/accounts/{other.id}/follow")
    st = author.status("pick one", poll={"options": ["a", "b"], "expires_in": 3600})
    boost = other.post(f"/api/v1/statuses/{st['id']}/reblog").json()
    first = home(reader)
    assert first[st["id"]]["poll"]["voted"] is False
    hits = rendered_hits(server)
    again = home(reader)
    assert again == first, "nothing changed, the same JSON"
    assert rendered_hits(server) > hits, "the kept JSON was used"

    r = reader.post(f"/api/v1/polls/{st['poll']['id']}/votes", json={"choices": [1]})
    assert r.status_code == 200, r.text
    assert reader.post(f"/api/v1/statuses/{st['id']}/bookmark").status_code == 200
    page = home(reader)
    for shown in (page[st["id"]], page[boost["id"]]["reblog"]):
        poll = shown["poll"]
        assert (poll["voted"], poll["own_votes"], poll["votes_count"]) == (True, [1], 1)
        assert shown["bookmarked"] is True
    assert page[boost["id"]]["bookmarked"] is False, "the reblog is a status of its own"
    # The same statuses, read by the author: their own (empty) part, not the reader's.
    assert author.post(f"/api/v1/accounts/{other.id}/follow").status_code == 200
    mine = home(author)
    assert mine[st["id"]]["poll"]["own_votes"] == [] and mine[st["id"]]["bookmarked"] is False
