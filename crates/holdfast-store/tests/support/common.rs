//! What every conformance file shares: the macro that runs each case on
//! both backends, and the helpers cases start from.

use std::sync::Arc;

use holdfast_store::*;

/// Runs each named case once per backend: `sqlite::name` and `postgres::name`.
/// Each case is an `async fn name(b: Backend)` in the calling file.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::support::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::support::postgres().await).await
                }
            )*
        }
    };
}

pub async fn account(s: &Arc<dyn Store>, name: &str) -> AccountRow {
    s.create_account(NewAccount {
        username: name.into(),
        email: format!("{name}@example.com"),
        password_hash: "hash".into(),
        approved: true,
        locale: Some("en".into()),
    })
    .await
    .unwrap()
}

/// A public status in English with nothing attached.
pub fn new_status(author: Id, text: &str) -> NewStatus {
    NewStatus {
        language: Some("en".into()),
        ..NewStatus::plain(author, text)
    }
}

pub async fn post(s: &Arc<dyn Store>, author: Id, text: &str) -> Id {
    post_with(s, new_status(author, text)).await
}

/// An edit to plain `text`: no mentions, tags, media or poll.
pub fn edit_to(text: &str) -> StatusEdit {
    StatusEdit {
        text: text.into(),
        content: format!("<p>{text}</p>"),
        spoiler_text: String::new(),
        sensitive: false,
        language: None,
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        media_attributes: vec![],
        poll: None,
    }
}

pub async fn post_with(s: &Arc<dyn Store>, new: NewStatus) -> Id {
    s.create_status(new, 3600).await.unwrap()
}

/// The newest `limit` items.
pub fn page(limit: u32) -> Page {
    Page {
        limit,
        ..Page::default()
    }
}
