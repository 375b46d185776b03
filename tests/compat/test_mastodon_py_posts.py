"""Client compatibility, statuses after posting: the real Mastodon.py edits a
status (and reads its history and source), pins one, votes in a poll and
schedules, moves and cancels a status, exactly as an app would."""
from datetime import datetime, timedelta, timezone

import pytest
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from test_mastodon_py import ids, register


def test_status_update_history_and_source(server):
    me = register(server)
    st = me.api.status_post("first words", spoiler_text="cw")
    edited = me.api.status_update(st.id, "second words", spoiler_text="", sensitive=True)
    assert edited.id == st.id and "second words" in edited.content
    assert isinstance(edited.edited_at, datetime) and edited.sensitive
    history = me.api.status_history(st.id)
    assert [h.spoiler_text for h in history] == ["cw", ""]
    assert "first words" in history[0].content
    source = me.api.status_source(st.id)
    assert source.text == "second words" and source.spoiler_text == ""
    other = register(server)
    with pytest.raises(MastodonNotFoundError):
        other.api.status_update(st.id, "not yours")


def test_pin_and_pinned_statuses(server):
    me = register(server)
    st = me.api.status_post("pin me")
    assert me.api.status_pin(st.id).pinned is True
    assert ids(me.api.account_statuses(me.id, pinned=True)) == [str(st.id)]
    assert me.api.status_unpin(st.id).pinned is False
    assert me.api.account_statuses(me.id, pinned=True) == []


def test_poll_vote_and_refusals(server):
    author, voter = register(server), register(server)
    poll = author.api.make_poll(["tea", "coffee", "water"], expires_in=600, multiple=True)
    st = author.api.status_post("what to drink?", poll=poll)
    assert [o.title for o in st.poll.options] == ["tea", "coffee", "water"]
    voted = voter.api.poll_vote(st.poll.id, [0, 2])
    assert voted.voted and voted.own_votes == [0, 2] and voted.votes_count == 2
    assert author.api.poll(st.poll.id).votes_count == 2
    with pytest.raises(MastodonAPIError):
        voter.api.poll_vote(st.poll.id, [1])  # already voted
    with pytest.raises(MastodonAPIError):
        author.api.poll_vote(st.poll.id, [1])  # own poll


def test_scheduled_status_move_and_cancel(server):
    me = register(server)
    at = datetime.now(timezone.utc) + timedelta(hours=2)
    sched = me.api.status_post("in two hours", scheduled_at=at)
    assert sched.params.text == "in two hours"
    assert abs((sched.scheduled_at - at).total_seconds()) < 1
    assert ids(me.api.scheduled_statuses()) == [str(sched.id)]
    later = at + timedelta(hours=1)
    moved = me.api.scheduled_status_update(sched.id, later)
    assert abs((moved.scheduled_at - later).total_seconds()) < 1
    assert me.api.scheduled_status(sched.id).id == sched.id
    with pytest.raises(MastodonAPIError):
        me.api.status_post("too soon", scheduled_at=datetime.now(timezone.utc) + timedelta(minutes=1))
    me.api.scheduled_status_delete(sched.id)
    assert me.api.scheduled_statuses() == []
    assert me.api.account_statuses(me.id) == []
