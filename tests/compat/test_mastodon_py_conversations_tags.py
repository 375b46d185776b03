"""Client compatibility, direct conversations and hashtags: the real
Mastodon.py lists and reads conversations, follows and unfollows tags (and
sees a followed tag's posts in home), and features tags on a profile,
exactly as an app would."""
import uuid

from test_mastodon_py import eventually, ids, register


def test_conversations_list_and_read(server):
    me, friend, third = register(server), register(server), register(server)
    me.api.account_follow(friend.id)
    sent = friend.api.status_post(f"@{me.username} just between us", visibility="direct")
    convs = eventually(lambda: me.api.conversations(), lambda cs: len(cs) == 1, "one conversation")
    conv = convs[0]
    assert conv.unread is True
    assert str(conv.last_status.id) == str(sent.id)
    assert [str(a.id) for a in conv.accounts] == [str(friend.id)]
    read = me.api.conversations_read(conv.id)
    assert read.unread is False and str(read.id) == str(conv.id)
    assert me.api.conversations()[0].unread is False
    # The sender sees the same conversation, already read (it wrote the last message).
    theirs = friend.api.conversations()
    assert len(theirs) == 1 and theirs[0].unread is False
    assert [str(a.id) for a in theirs[0].accounts] == [str(me.id)]
    # A reply makes it unread for the other side again.
    me.api.status_post(f"@{friend.username} sure", visibility="direct", in_reply_to_id=sent.id)
    assert eventually(lambda: friend.api.conversations(), lambda cs: cs and cs[0].unread, "unread again")[0].unread
    # Someone outside sees none of it.
    assert third.api.conversations() == []


def test_followed_tags_reach_home(server):
    me, stranger = register(server), register(server)
    tag = "mpy" + uuid.uuid4().hex[:8]
    followed = me.api.tag_follow(tag)
    assert followed.name == tag and followed.following is True
    assert [t.name for t in me.api.followed_tags()] == [tag]
    assert me.api.tag(tag).following is True
    st = stranger.api.status_post(f"something about #{tag}")
    home = eventually(lambda: me.api.timeline_home(), lambda ss: str(st.id) in ids(ss), "the tag's post in home")
    assert str(st.id) in ids(home)
    unfollowed = me.api.tag_unfollow(tag)
    assert unfollowed.following is False
    assert me.api.followed_tags() == []


def test_featured_tags_on_a_profile(server):
    me, viewer = register(server), register(server)
    tag = "feat" + uuid.uuid4().hex[:8]
    me.api.status_post(f"first post with #{tag}")
    featured = me.api.featured_tag_create(tag)
    assert featured.name == tag and int(featured.statuses_count) == 1
    assert [t.name for t in me.api.featured_tags()] == [tag]
    assert [t.name for t in viewer.api.account_featured_tags(me.id)] == [tag]
    me.api.featured_tag_delete(featured.id)
    assert me.api.featured_tags() == []
