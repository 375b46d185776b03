"""Client compatibility, filters and notification requests: the real
Mastodon.py drives v2 filters (keywords, statuses), v1 filters, and the
notification policy and requests, and reads `filtered` on statuses."""
import pytest
from mastodon.errors import MastodonNotFoundError

from test_mastodon_py import register


def test_filters_v2_and_v1(server):
    me, them = register(server), register(server)
    me.api.account_follow(them.id)
    post = them.api.status_post("durian season is here")
    f = me.api.create_filter_v2("fruit", ["home", "public"], "warn",
                                keywords_attributes=[{"keyword": "durian", "whole_word": True}])
    assert f.title == "fruit" and f.filter_action == "warn"
    assert [k.keyword for k in f.keywords] == ["durian"]
    assert [x.id for x in me.api.filters_v2()] == [f.id]
    home = me.api.timeline_home()
    shown = [s for s in home if s.id == post.id][0]
    assert shown.filtered[0].filter.id == f.id
    assert shown.filtered[0].keyword_matches == ["durian"]

    kw = me.api.add_filter_keyword_v2(f.id, "mango", whole_word=False)
    assert sorted(k.keyword for k in me.api.filter_keywords_v2(f.id)) == ["durian", "mango"]
    me.api.delete_filter_keyword_v2(kw.id)
    fs = me.api.add_filter_status_v2(f.id, post.id)
    assert me.api.filter_status_v2(fs.id).status_id == fs.status_id
    assert [x.id for x in me.api.filter_statuses_v2(f.id)] == [fs.id]
    me.api.delete_filter_status_v2(fs.id)

    f = me.api.update_filter_v2(f.id, filter_action="hide")
    assert f.filter_action == "hide"
    assert post.id not in [s.id for s in me.api.timeline_home()]
    me.api.delete_filter_v2(f.id)
    with pytest.raises(MastodonNotFoundError):
        me.api.filter_v2(f.id)
    assert post.id in [s.id for s in me.api.timeline_home()]

    v1 = me.api.filter_create("Durian", ["home"], irreversible=False, whole_word=True)
    assert v1.phrase == "Durian" and v1.context == ["home"]
    assert [x.id for x in me.api.filters()] == [v1.id]
    v1 = me.api.filter_update(v1.id, phrase="durians")
    assert me.api.filter(v1.id).phrase == "durians"
    me.api.filter_delete(v1.id)
    assert me.api.filters() == []


def test_notification_policy_and_requests(server):
    me, stranger = register(server), register(server)
    policy = me.api.update_notifications_policy(for_not_following="filter")
    assert policy.for_not_following == "filter"
    stranger.api.status_post(f"@{me.username} hello")
    assert me.api.notifications(types=["mention"]) == []
    assert me.api.notifications_policy().summary.pending_requests_count == 1
    [req] = me.api.notification_requests()
    assert req.account.id == stranger.id
    assert me.api.notification_request(req.id).id == req.id
    me.api.accept_notification_request(req.id)
    assert [n.account.id for n in me.api.notifications(types=["mention"])] == [stranger.id]
    assert me.api.notification_requests() == []
    assert me.api.notifications_merged() is True
