//! List: a user's named group of accounts, with its own timeline.

use holdfast_store::ListRow;
use serde::Serialize;

use super::id;

#[derive(Serialize)]
pub struct List {
    pub id: String,
    pub title: String,
    /// Which replies show in the list's timeline (`followed`, `list` or `none`).
    pub replies_policy: &'static str,
    /// Members' posts stay out of the owner's home timeline.
    pub exclusive: bool,
}

impl List {
    pub fn new(l: &ListRow) -> List {
        List {
            id: id(l.id),
            title: l.title.clone(),
            replies_policy: l.replies_policy.as_str(),
            exclusive: l.exclusive,
        }
    }
}
