"""Client compatibility, relationships and lists: the real Mastodon.py drives
follow requests on a locked account, blocks and mutes lists, and lists with
their members and timeline, exactly as an app would."""
from datetime import datetime

import pytest
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from test_mastodon_py import ids, register


def test_follow_requests_on_a_locked_account(server):
    me, asker, other = register(server), register(server), register(server)
    me.api.account_update_credentials(locked=True)
    assert asker.api.account_follow(me.id).requested
    other.api.account_follow(me.id)
    requests = me.api.follow_requests()
    assert ids(requests) == [other.id, asker.id]
    rel = me.api.follow_request_authorize(asker.id)
    assert rel.followed_by and not rel.requested_by
    assert asker.api.account_relationships(me.id)[0].following
    rel = me.api.follow_request_reject(other.id)
    assert not rel.followed_by
    assert me.api.follow_requests() == []
    with pytest.raises(MastodonNotFoundError):
        me.api.follow_request_authorize(other.id)
    assert ids(me.api.account_followers(me.id)) == [asker.id]
    me.api.account_remove_from_followers(asker.id)
    assert me.api.account_followers(me.id) == []


def test_blocks_and_mutes_lists(server):
    me, a, b = register(server), register(server), register(server)
    me.api.account_block(a.id)
    assert ids(me.api.blocks()) == [a.id]
    me.api.account_mute(b.id, notifications=False, duration=3600)
    mutes = me.api.mutes()
    assert ids(mutes) == [b.id]
    assert isinstance(mutes[0].mute_expires_at, datetime)
    rel = me.api.account_relationships(b.id)[0]
    assert rel.muting and not rel.muting_notifications
    me.api.account_unmute(b.id)
    assert me.api.mutes() == []


def test_lists_members_and_timeline(server):
    me, friend, other = register(server), register(server), register(server)
    me.api.account_follow(friend.id)
    me.api.account_follow(other.id)
    lst = me.api.list_create("friends", replies_policy="none", exclusive=True)
    assert lst.title == "friends" and lst.replies_policy == "none" and lst.exclusive is True
    me.api.list_accounts_add(lst, [friend.id])
    assert ids(me.api.list_accounts(lst)) == [friend.id]
    assert ids(me.api.account_lists(friend.id)) == [str(lst.id)]
    with pytest.raises(MastodonAPIError):
        me.api.list_accounts_add(lst, [register(server).id])  # not followed: 422

    posted = friend.api.status_post("for the list")
    outside = other.api.status_post("not in the list")
    assert ids(me.api.timeline_list(lst)) == [str(posted.id)]
    home = ids(me.api.timeline_home())
    assert str(posted.id) not in home and str(outside.id) in home  # exclusive

    updated = me.api.list_update(lst, "close friends", replies_policy="list", exclusive=False)
    assert updated.title == "close friends" and updated.exclusive is False
    assert [l.title for l in me.api.lists()] == ["close friends"]
    with pytest.raises(MastodonNotFoundError):
        friend.api.list(lst.id)  # someone else's list
    me.api.list_accounts_delete(lst, [friend.id])
    assert me.api.list_accounts(lst) == []
    me.api.list_delete(lst)
    assert me.api.lists() == []
