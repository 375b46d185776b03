//! Store conformance for the server rules (webui, issue 13): seeded once from
//! the config with ids 1..n (also by two nodes at once), added, edited,
//! reordered and deleted with their audit entries, bounded, and a deleted
//! rule kept (marked) for the reports that cite it. Each case runs on SQLite
//! and on PostgreSQL, as in `conformance.rs`.

mod support;

use std::sync::Arc;

use holdfast_store::*;
use support::common::*;
use support::Backend;

conformance!(
    rules_seed_once_with_ids_one_to_n,
    rules_add_edit_reorder_delete_keep_their_ids,
    rules_are_bounded_in_force_and_kept,
);

fn rule(text: &str) -> NewRule {
    NewRule {
        text: text.into(),
        hint: format!("{text}, explained"),
    }
}

fn audit(action: &str, target_id: Option<Id>) -> NewAudit {
    NewAudit {
        actor: None,
        action: action.into(),
        target_type: "rule",
        target_id,
        target_name: "a rule".into(),
        detail: String::new(),
    }
}

async fn texts(s: &Arc<dyn Store>, include_deleted: bool) -> Vec<(Id, String)> {
    s.rules(include_deleted)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.text))
        .collect()
}

const ROOMY: RuleBounds = RuleBounds {
    live_max: 10,
    kept_max: 10,
};

async fn rules_seed_once_with_ids_one_to_n(b: Backend) {
    let s = &b.store;
    assert!(s.rules(true).await.unwrap().is_empty());
    // Two nodes starting at once both seed: the same rows, once.
    let other = b.second_node().await;
    let (x, y) = tokio::join!(
        s.seed_rules(vec![rule("one"), rule("two")]),
        other.seed_rules(vec![rule("one"), rule("two")]),
    );
    x.unwrap();
    y.unwrap();
    let seeded = s.rules(false).await.unwrap();
    assert_eq!(
        seeded
            .iter()
            .map(|r| (r.id, r.priority))
            .collect::<Vec<_>>(),
        [(1, 1), (2, 2)]
    );
    assert_eq!(seeded[0].hint, "one, explained");
    assert_eq!(seeded[0].deleted_at_ms, None);
    // A table that holds rules is the admins': the config never seeds it again,
    // not even after every rule was deleted.
    s.seed_rules(vec![rule("changed config")]).await.unwrap();
    assert_eq!(
        texts(s, false).await,
        [(1, "one".into()), (2, "two".into())]
    );
    s.delete_rule(1, audit("delete_rule", Some(1)))
        .await
        .unwrap();
    s.delete_rule(2, audit("delete_rule", Some(2)))
        .await
        .unwrap();
    s.seed_rules(vec![rule("changed config")]).await.unwrap();
    assert!(s.rules(false).await.unwrap().is_empty());
    assert_eq!(s.rules(true).await.unwrap().len(), 2);
}

async fn rules_add_edit_reorder_delete_keep_their_ids(b: Backend) {
    let s = &b.store;
    s.seed_rules(vec![rule("one"), rule("two")]).await.unwrap();
    let three = s
        .create_rule(rule("three"), ROOMY, audit("create_rule", None))
        .await
        .unwrap();
    assert!(three.id > 2, "a new rule never takes a seeded id");
    assert_eq!(three.priority, 3);

    let edited = s
        .update_rule(1, rule("one, edited"), audit("update_rule", Some(1)))
        .await
        .unwrap();
    assert_eq!((edited.id, edited.text.as_str()), (1, "one, edited"));
    assert_eq!(edited.hint, "one, edited, explained");

    // Up one place; at either end nothing moves.
    s.move_rule(three.id, true, audit("move_rule", Some(three.id)))
        .await
        .unwrap();
    let order = |v: Vec<(Id, String)>| v.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(order(texts(s, false).await), [1, three.id, 2]);
    s.move_rule(1, true, audit("move_rule", Some(1)))
        .await
        .unwrap();
    s.move_rule(2, false, audit("move_rule", Some(2)))
        .await
        .unwrap();
    assert_eq!(order(texts(s, false).await), [1, three.id, 2]);
    s.move_rule(1, false, audit("move_rule", Some(1)))
        .await
        .unwrap();
    assert_eq!(order(texts(s, false).await), [three.id, 1, 2]);

    // Deleted: out of the list, kept (marked) for reports; its id is not reused.
    s.delete_rule(1, audit("delete_rule", Some(1)))
        .await
        .unwrap();
    assert_eq!(order(texts(s, false).await), [three.id, 2]);
    let kept = s.rules(true).await.unwrap();
    let gone = kept.iter().find(|r| r.id == 1).expect("kept");
    assert!(gone.deleted_at_ms.is_some());
    assert_eq!(gone.text, "one, edited");
    for refused in [
        s.delete_rule(1, audit("delete_rule", Some(1))).await.err(),
        s.update_rule(1, rule("back"), audit("update_rule", Some(1)))
            .await
            .err(),
        s.move_rule(1, true, audit("move_rule", Some(1)))
            .await
            .err(),
        s.update_rule(999, rule("nobody"), audit("update_rule", Some(999)))
            .await
            .err(),
    ] {
        assert!(matches!(refused, Some(StoreError::NotFound)), "{refused:?}");
    }
    // Moving past a deleted rule skips it.
    s.move_rule(2, true, audit("move_rule", Some(2)))
        .await
        .unwrap();
    assert_eq!(order(texts(s, false).await), [2, three.id]);

    // Each change wrote its audit entry (the refused ones none).
    let actions: Vec<String> = s
        .audit_log(page(40))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.item.target_type == "rule")
        .map(|p| p.item.action)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "move_rule").count(),
        3,
        "moves at an end record nothing: {actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| *a == "create_rule").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "update_rule").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "delete_rule").count(), 1);
    let created = s
        .audit_log(page(40))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.item.action == "create_rule")
        .unwrap();
    assert_eq!(created.item.target_id, Some(three.id));
}

async fn rules_are_bounded_in_force_and_kept(b: Backend) {
    let s = &b.store;
    let bounds = RuleBounds {
        live_max: 2,
        kept_max: 3,
    };
    let a = s
        .create_rule(rule("a"), bounds, audit("create_rule", None))
        .await
        .unwrap();
    s.create_rule(rule("b"), bounds, audit("create_rule", None))
        .await
        .unwrap();
    let too_many = s
        .create_rule(rule("c"), bounds, audit("create_rule", None))
        .await;
    assert!(
        matches!(too_many, Err(StoreError::Rejected(_))),
        "{too_many:?}"
    );
    s.delete_rule(a.id, audit("delete_rule", Some(a.id)))
        .await
        .unwrap();
    s.create_rule(rule("c"), bounds, audit("create_rule", None))
        .await
        .unwrap();
    // Two in force, three kept: the deleted rule still counts.
    let c_id = s.rules(false).await.unwrap().last().unwrap().id;
    s.delete_rule(c_id, audit("delete_rule", Some(c_id)))
        .await
        .unwrap();
    let kept_full = s
        .create_rule(rule("d"), bounds, audit("create_rule", None))
        .await;
    assert!(
        matches!(kept_full, Err(StoreError::Rejected(_))),
        "{kept_full:?}"
    );
    assert_eq!(texts(s, false).await.len(), 1);
    // A refused rule wrote nothing, audit entry included.
    let created = s
        .audit_log(page(40))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.item.action == "create_rule")
        .count();
    assert_eq!(created, 3);
}
