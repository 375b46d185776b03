//! Store conformance for what comes after posting: edits and their history,
//! pins, conversation mutes, polls, scheduled statuses and the due jobs that
//! end polls and publish scheduled statuses (exactly once, also with two
//! nodes racing). Each case runs on SQLite and on PostgreSQL, as in
//! `conformance.rs`.

mod support;

use std::sync::Arc;

use holdfast_store::ids::now_ms;
use holdfast_store::*;
use support::common::*;
use support::Backend;

conformance!(
    edit_keeps_history_moves_mentions_and_tells_rebloggers,
    pins_are_own_bounded_and_listed,
    muted_conversation_notifies_nothing,
    polls_vote_rules_counts_and_one_end,
    poll_end_is_told_in_bounded_runs,
    scheduled_statuses_bounds_reservations_and_one_publication,
);

// ---- helpers ----

async fn kinds(s: &Arc<dyn Store>, account_id: Id) -> Vec<NotificationType> {
    s.notifications(account_id, &NotificationType::ALL, page(40))
        .await
        .unwrap()
        .iter()
        .map(|n| n.item.kind)
        .collect()
}

fn edit(text: &str) -> StatusEdit {
    StatusEdit {
        text: text.into(),
        content: format!("<p>{text}</p>"),
        spoiler_text: String::new(),
        sensitive: false,
        language: Some("en".into()),
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        media_attributes: vec![],
        poll: None,
    }
}

fn poll(options: &[&str], expires_in_s: i64, multiple: bool) -> NewPoll {
    NewPoll {
        options: options.iter().map(|o| o.to_string()).collect(),
        expires_in_s,
        multiple,
        hide_totals: false,
    }
}

fn rejected<T: std::fmt::Debug>(r: StoreResult<T>, what: &str) {
    match r {
        Err(StoreError::Rejected(why)) => assert!(why.contains(what), "{why} should say {what}"),
        other => panic!("expected Rejected({what}), got {other:?}"),
    }
}

async fn bundle(s: &Arc<dyn Store>, viewer: Id, id: Id) -> StatusBundle {
    s.status_bundles(Some(viewer), &[id])
        .await
        .unwrap()
        .remove(0)
}

// ---- edits ----

async fn edit_keeps_history_moves_mentions_and_tells_rebloggers(b: Backend) {
    let s = &b.store;
    let a = account(s, "ed_author").await;
    let r = account(s, "ed_booster").await;
    let m = account(s, "ed_mentioned").await;
    let mut first = new_status(a.id, "first #old");
    first.tags = vec!["old".into()];
    let id = post_with(s, first).await;
    s.reblog(r.id, id, Visibility::Public).await.unwrap();
    assert!(s.status_history(id).await.unwrap().is_empty());
    assert_eq!(s.status(id).await.unwrap().edited_at_ms, None);

    // Only the author edits; a reblog is not editable either.
    assert!(matches!(
        s.edit_status(r.id, id, edit("hijack"), 10).await,
        Err(StoreError::NotFound)
    ));

    let mut second = edit("second @ed_mentioned #new");
    second.mentions = vec![m.id];
    second.tags = vec!["new".into()];
    second.sensitive = true;
    let told = s.edit_status(a.id, id, second, 10).await.unwrap();
    assert_eq!(told, vec![r.id]);
    let row = s.status(id).await.unwrap();
    assert_eq!(row.text, "second @ed_mentioned #new");
    assert!(row.sensitive && row.edited_at_ms.is_some());
    let b1 = bundle(s, a.id, id).await;
    assert_eq!(b1.mentions.len(), 1);
    assert_eq!(
        b1.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
    assert_eq!(kinds(s, m.id).await, [NotificationType::Mention]);

    s.edit_status(a.id, id, edit("third"), 10).await.unwrap();
    let history = s.status_history(id).await.unwrap();
    let contents: Vec<&str> = history.iter().map(|v| v.content.as_str()).collect();
    assert_eq!(
        contents,
        [
            "<p>first #old</p>",
            "<p>second @ed_mentioned #new</p>",
            "<p>third</p>"
        ]
    );
    assert!(history[1].sensitive && !history[2].sensitive);
    assert!(history
        .windows(2)
        .all(|w| w[0].created_at_ms <= w[1].created_at_ms));
    assert!(
        bundle(s, a.id, id).await.mentions.is_empty(),
        "the mention left with the text"
    );
    // One `update` for the booster however many edits (the newest one).
    assert_eq!(
        kinds(s, r.id).await,
        [NotificationType::Update],
        "one update notification for the latest edit"
    );
    // The search index follows the text.
    assert_eq!(
        s.search_statuses(Some(a.id), "third", 10, 0).await.unwrap(),
        [id]
    );
    assert!(s
        .search_statuses(Some(a.id), "first", 10, 0)
        .await
        .unwrap()
        .is_empty());

    // Bounded: three versions now, a bound of three refuses a fourth.
    rejected(s.edit_status(a.id, id, edit("fourth"), 3).await, "edited");
    assert_eq!(s.status(id).await.unwrap().text, "third");
}

// ---- pins ----

async fn pins_are_own_bounded_and_listed(b: Backend) {
    let s = &b.store;
    let a = account(s, "pin_a").await;
    let o = account(s, "pin_other").await;
    let p1 = post_with(s, new_status(a.id, "one")).await;
    let p2 = post_with(s, new_status(a.id, "two")).await;
    let p3 = post_with(s, new_status(a.id, "three")).await;
    let mut dm = new_status(a.id, "secret");
    dm.visibility = Visibility::Direct;
    let dm = post_with(s, dm).await;
    let theirs = post_with(s, new_status(o.id, "theirs")).await;

    rejected(s.pin_status(a.id, theirs, 2).await, "own");
    rejected(s.pin_status(a.id, dm, 2).await, "private");
    s.pin_status(a.id, p1, 2).await.unwrap();
    s.pin_status(a.id, p1, 2).await.unwrap(); // twice is one pin
    s.pin_status(a.id, p3, 2).await.unwrap();
    rejected(s.pin_status(a.id, p2, 2).await, "maximum");
    assert!(bundle(s, a.id, p1).await.pinned);
    assert!(!bundle(s, a.id, p2).await.pinned);

    let pinned = |viewer: Option<Id>| {
        let s = s.clone();
        async move {
            s.account_statuses(
                viewer,
                a.id,
                AccountStatusesFilter {
                    pinned: true,
                    ..Default::default()
                },
                None,
                page(10),
            )
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.item)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        pinned(None).await,
        [p3, p1],
        "newest pin first, anyone may see"
    );
    s.unpin_status(a.id, p3).await.unwrap();
    assert_eq!(pinned(Some(o.id)).await, [p1]);
    // A deleted status leaves the pins with it.
    s.delete_status(a.id, p1).await.unwrap();
    assert!(pinned(None).await.is_empty());
}

// ---- conversation mutes ----

async fn muted_conversation_notifies_nothing(b: Backend) {
    let s = &b.store;
    let a = account(s, "cm_a").await;
    let f = account(s, "cm_f").await;
    let root = post_with(s, new_status(a.id, "root")).await;
    let mut reply = new_status(f.id, "reply");
    reply.in_reply_to = Some(root);
    let reply = post_with(s, reply).await;
    let other = post_with(s, new_status(a.id, "elsewhere")).await;
    assert_eq!(kinds(s, a.id).await.len(), 0);

    // Muting through a reply mutes the whole thread.
    s.mute_conversation(a.id, reply).await.unwrap();
    s.mute_conversation(a.id, reply).await.unwrap();
    assert!(bundle(s, a.id, root).await.muted);
    assert!(!bundle(s, a.id, other).await.muted);
    assert!(
        !bundle(s, f.id, root).await.muted,
        "a mute is the muter's own"
    );
    s.favourite(f.id, root).await.unwrap();
    let g = account(s, "cm_g").await;
    let mut deeper = new_status(f.id, "@cm_a @cm_g deeper");
    deeper.in_reply_to = Some(reply);
    deeper.mentions = vec![a.id, g.id];
    let deeper = post_with(s, deeper).await;
    assert!(
        kinds(s, a.id).await.is_empty(),
        "nothing from a muted thread"
    );
    assert_eq!(
        kinds(s, g.id).await,
        [NotificationType::Mention],
        "the mute is a's alone: others mentioned with a are told"
    );
    assert!(
        bundle(s, a.id, deeper).await.muted,
        "a new reply joins the thread"
    );

    s.favourite(f.id, other).await.unwrap();
    assert_eq!(kinds(s, a.id).await, [NotificationType::Favourite]);

    s.unmute_conversation(a.id, root).await.unwrap();
    s.favourite(f.id, reply).await.unwrap(); // f's own: no notification
    s.reblog(f.id, root, Visibility::Public).await.unwrap();
    assert_eq!(
        kinds(s, a.id).await,
        [NotificationType::Reblog, NotificationType::Favourite]
    );
}

// ---- polls ----

async fn polls_vote_rules_counts_and_one_end(b: Backend) {
    let s = &b.store;
    let a = account(s, "poll_a").await;
    let v1 = account(s, "poll_v1").await;
    let v2 = account(s, "poll_v2").await;
    let mut single = new_status(a.id, "pick one");
    single.poll = Some(poll(&["yes", "no"], 600, false));
    let single = post_with(s, single).await;
    let mut many = new_status(a.id, "pick any");
    many.poll = Some(poll(&["a", "b", "c"], 600, true));
    let many = post_with(s, many).await;
    let single_poll = bundle(s, a.id, single).await.poll.unwrap();
    let many_poll = bundle(s, a.id, many).await.poll.unwrap();
    assert_eq!(s.poll_status(many_poll.id).await.unwrap(), many);
    let now = now_ms();

    rejected(s.vote(a.id, single_poll.id, &[0], now).await, "own");
    rejected(
        s.vote(v1.id, single_poll.id, &[2], now).await,
        "does not exist",
    );
    rejected(
        s.vote(v1.id, single_poll.id, &[0, 1], now).await,
        "one choice",
    );
    s.vote(v1.id, single_poll.id, &[1], now).await.unwrap();
    rejected(
        s.vote(v1.id, single_poll.id, &[0], now).await,
        "already voted",
    );
    s.vote(v1.id, many_poll.id, &[0, 2], now).await.unwrap();
    s.vote(v2.id, many_poll.id, &[2], now).await.unwrap();
    let seen = bundle(s, v1.id, many).await.poll.unwrap();
    assert_eq!(seen.own_votes, [0, 2]);
    assert_eq!((seen.votes_count, seen.voters_count), (3, 2));
    assert_eq!(
        seen.options
            .iter()
            .map(|o| o.votes_count)
            .collect::<Vec<_>>(),
        [1, 0, 2]
    );
    assert!(bundle(s, a.id, many)
        .await
        .poll
        .unwrap()
        .own_votes
        .is_empty());

    let ends = seen.expires_at_ms;
    assert!(ends > now);
    rejected(s.vote(v2.id, single_poll.id, &[0], ends + 1).await, "ended");

    // Editing the options resets the votes; keeping them keeps the votes.
    let mut keep = edit("pick any");
    keep.poll = Some(poll(&["a", "b", "c"], 600, true));
    s.edit_status(a.id, many, keep, 10).await.unwrap();
    assert_eq!(bundle(s, a.id, many).await.poll.unwrap().votes_count, 3);
    let mut change = edit("pick any");
    change.poll = Some(poll(&["a", "b"], 600, true));
    s.edit_status(a.id, many, change, 10).await.unwrap();
    assert_eq!(bundle(s, a.id, many).await.poll.unwrap().votes_count, 0);
    assert_eq!(
        s.status_history(many).await.unwrap()[0].poll_options,
        Some(vec!["a".into(), "b".into(), "c".into()])
    );

    // Nothing is due yet; past the end, each poll ends once, even with two nodes racing.
    assert_eq!(s.run_due_job(now, 3600).await.unwrap(), None);
    let later = now + 3_600_000;
    let other = b.second_node().await;
    let (x, y) = tokio::join!(
        async {
            let mut done = Vec::new();
            while let Some(d) = s.run_due_job(later, 3600).await.unwrap() {
                done.push(d);
            }
            done
        },
        async {
            let mut done = Vec::new();
            while let Some(d) = other.run_due_job(later, 3600).await.unwrap() {
                done.push(d);
            }
            done
        }
    );
    let mut ended: Vec<JobDone> = x.into_iter().chain(y).collect();
    ended.sort_by_key(|d| match d {
        JobDone::PollEnded { status_id, .. } => *status_id,
        _ => 0,
    });
    assert_eq!(ended.len(), 2, "{ended:?}");
    assert_eq!(
        ended[0],
        JobDone::PollEnded {
            status_id: single,
            notified: vec![a.id, v1.id]
        }
    );
    assert!(
        matches!(&ended[1], JobDone::PollEnded { status_id, notified } if *status_id == many && notified == &vec![a.id])
    );
    assert_eq!(s.run_due_job(later, 3600).await.unwrap(), None);
    assert_eq!(kinds(s, v1.id).await, [NotificationType::Poll]);
    assert_eq!(kinds(s, a.id).await, [NotificationType::Poll; 2]);
    assert_eq!(
        kinds(s, v2.id).await,
        [],
        "v2's votes were reset by the edit"
    );

    // A deleted status takes its poll; its job is dropped, not retried.
    let mut gone = new_status(a.id, "gone");
    gone.poll = Some(poll(&["x", "y"], 300, false));
    let gone = post_with(s, gone).await;
    s.delete_status(a.id, gone).await.unwrap();
    assert!(matches!(
        s.run_due_job(later, 3600).await.unwrap(),
        Some(JobDone::Dropped { .. })
    ));
    assert_eq!(s.run_due_job(later, 3600).await.unwrap(), None);
}

// ---- scheduled statuses ----

fn scheduled(author: Id, text: &str, at_ms: i64) -> NewScheduledStatus {
    NewScheduledStatus {
        status: new_status(author, text),
        scheduled_at_ms: at_ms,
    }
}

/// A poll's end tells at most `poll_end_notified_per_job_max` accounts per
/// run of its job (one transaction each): the author first, then the
/// voters in id order, each once; the job is due again until all are told.
async fn poll_end_is_told_in_bounded_runs(b: Backend) {
    // Every write through the one store opened with the small batch (a
    // second SQLite store on a file mints its own ids).
    let s = &b
        .reopened_with(holdfast_config::Limits {
            poll_end_notified_per_job_max: 2,
            ..support::limits()
        })
        .await;
    let a = account(s, "batch_a").await;
    let mut voters = Vec::new();
    for i in 0..5 {
        voters.push(account(s, &format!("batch_v{i}")).await.id);
    }
    voters.sort_unstable();
    let mut st = new_status(a.id, "a big poll");
    st.poll = Some(poll(&["yes", "no"], 300, false));
    let st = post_with(s, st).await;
    let p = bundle(s, a.id, st).await.poll.unwrap();
    let now = now_ms();
    for v in &voters {
        s.vote(*v, p.id, &[0], now).await.unwrap();
    }
    let later = now + 3_600_000;
    let mut runs = Vec::new();
    while let Some(done) = s.run_due_job(later, 3600).await.unwrap() {
        runs.push(done);
        assert!(runs.len() <= 10, "the job ends: {runs:?}");
    }
    let told: Vec<Vec<Id>> = runs
        .iter()
        .map(|d| match d {
            JobDone::PollEnded {
                status_id,
                notified,
            } if *status_id == st => notified.clone(),
            other => panic!("unexpected job {other:?}"),
        })
        .collect();
    assert_eq!(
        told,
        [
            vec![a.id, voters[0]],
            vec![voters[1], voters[2]],
            vec![voters[3], voters[4]]
        ]
    );
    for who in voters.iter().chain([&a.id]) {
        assert_eq!(kinds(s, *who).await, [NotificationType::Poll], "{who}");
    }
}

async fn scheduled_statuses_bounds_reservations_and_one_publication(b: Backend) {
    let s = &b.store;
    let a = account(s, "sch_a").await;
    let o = account(s, "sch_other").await;
    let bounds = ScheduleBounds {
        total_max: 3,
        per_day_max: 2,
    };
    let day = 24 * 3600 * 1000;
    let base = (now_ms() / day + 2) * day; // midnight, two days ahead
    let upload = s
        .create_media(NewMedia {
            account_id: a.id,
            kind: "image".into(),
            description: None,
            focus: None,
            meta: "{}".into(),
            blurhash: None,
            file_key: "sch-original.jpg".into(),
            preview_key: "sch-small.jpg".into(),
        })
        .await
        .unwrap();

    let mut first = scheduled(a.id, "with a picture and a poll-free body", base + 1000);
    first.status.media_ids = vec![upload.id];
    first.status.idempotency_key = Some("k1".into());
    let first_id = s
        .create_scheduled_status(first.clone(), bounds)
        .await
        .unwrap();
    assert_eq!(
        s.create_scheduled_status(first, bounds).await.unwrap(),
        first_id,
        "the same idempotency key is the same scheduled status"
    );
    // The upload is reserved: not swept, not attachable elsewhere.
    assert!(s
        .take_expired_media(now_ms() + day, 10)
        .await
        .unwrap()
        .is_empty());
    let mut steal = new_status(a.id, "now");
    steal.media_ids = vec![upload.id];
    assert!(s.create_status(steal, 3600).await.is_err());

    let mut with_poll = scheduled(a.id, "vote later", base + 2000);
    with_poll.status.poll = Some(poll(&["x", "y"], 900, false));
    let second_id = s.create_scheduled_status(with_poll, bounds).await.unwrap();
    rejected(
        s.create_scheduled_status(scheduled(a.id, "third that day", base + 3000), bounds)
            .await,
        "for that day",
    );
    let third_id = s
        .create_scheduled_status(scheduled(a.id, "next day", base + day), bounds)
        .await
        .unwrap();
    rejected(
        s.create_scheduled_status(scheduled(a.id, "fourth", base + 2 * day), bounds)
            .await,
        "limit",
    );

    let listed: Vec<Id> = s
        .scheduled_statuses(a.id, page(10))
        .await
        .unwrap()
        .iter()
        .map(|p| p.item.id)
        .collect();
    assert_eq!(listed, [third_id, second_id, first_id]);
    let row = s.scheduled_status(a.id, first_id).await.unwrap();
    assert_eq!(
        (row.media_ids.clone(), row.media.len()),
        (vec![upload.id], 1)
    );
    assert_eq!(row.idempotency_key.as_deref(), Some("k1"));
    assert_eq!(
        s.scheduled_status(a.id, second_id).await.unwrap().poll,
        Some(poll(&["x", "y"], 900, false))
    );
    // Someone else's scheduled status does not exist for them.
    assert!(matches!(
        s.scheduled_status(o.id, first_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.cancel_scheduled_status(o.id, first_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s
        .scheduled_statuses(o.id, page(10))
        .await
        .unwrap()
        .is_empty());

    // Moving one onto a full day is refused; onto the day it is on, fine.
    rejected(
        s.reschedule_status(a.id, third_id, base + 5000, bounds)
            .await,
        "for that day",
    );
    let moved = s
        .reschedule_status(a.id, third_id, base + day + 60_000, bounds)
        .await
        .unwrap();
    assert_eq!(moved.scheduled_at_ms, base + day + 60_000);
    s.cancel_scheduled_status(a.id, third_id).await.unwrap();

    // Published at their time, each once, with two nodes racing.
    assert_eq!(s.run_due_job(base, 3600).await.unwrap(), None);
    let other = b.second_node().await;
    let at = base + 10_000;
    let (x, y) = tokio::join!(
        async {
            let mut done = Vec::new();
            while let Some(d) = s.run_due_job(at, 3600).await.unwrap() {
                done.push(d);
            }
            done
        },
        async {
            let mut done = Vec::new();
            while let Some(d) = other.run_due_job(at, 3600).await.unwrap() {
                done.push(d);
            }
            done
        }
    );
    let published: Vec<Id> = x
        .into_iter()
        .chain(y)
        .filter_map(|d| match d {
            JobDone::Published {
                account_id,
                status_id,
            } if account_id == a.id => Some(status_id),
            _ => None,
        })
        .collect();
    assert_eq!(published.len(), 2, "each scheduled status once");
    let mine: Vec<StatusBundle> = s.status_bundles(Some(a.id), &published).await.unwrap();
    let pictured = mine.iter().find(|b| !b.media.is_empty()).unwrap();
    assert_eq!(pictured.media[0].id, upload.id);
    let polled = mine.iter().find(|b| b.poll.is_some()).unwrap();
    assert_eq!(polled.status.text, "vote later");
    assert!(s
        .scheduled_statuses(a.id, page(10))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.run_due_job(at, 3600).await.unwrap(), None);

    // A scheduled reply whose parent was deleted is dropped, not retried.
    let parent = post_with(s, new_status(o.id, "parent")).await;
    let mut reply = scheduled(a.id, "reply", base + day);
    reply.status.in_reply_to = Some(parent);
    s.create_scheduled_status(reply, bounds).await.unwrap();
    s.delete_status(o.id, parent).await.unwrap();
    assert!(matches!(
        s.run_due_job(base + day + 1, 3600).await.unwrap(),
        Some(JobDone::Dropped { .. })
    ));
    assert!(s
        .scheduled_statuses(a.id, page(10))
        .await
        .unwrap()
        .is_empty());
}
