//! Rendered account notes, kept so a timeline page does not render the same
//! bio once per status on every request (issue 10: the author's note HTML
//! was rendered for every status of every page).
//!
//! Keyed by the note's text, not by account: a changed note is a new key, so
//! nothing ever needs invalidating, on this node or any other, and two
//! accounts with the same note share one entry. Bounded by
//! `rendered_notes_max` entries; when full, the table starts over (a page
//! touches a few dozen notes, so it refills at once, and no access
//! bookkeeping sits on the read path).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct RenderedNotes {
    table: Mutex<HashMap<Box<str>, Arc<str>>>,
    max: usize,
}

impl RenderedNotes {
    pub fn new(max: usize) -> RenderedNotes {
        RenderedNotes {
            table: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// The HTML for `note`, rendered by `render` at most once while cached.
    pub fn get_or_render(&self, note: &str, render: impl FnOnce(&str) -> String) -> Arc<str> {
        if self.max == 0 {
            return render(note).into();
        }
        if let Some(html) = self.lock().get(note) {
            return html.clone();
        }
        // Rendered outside the lock: a miss never holds up other readers.
        let html: Arc<str> = render(note).into();
        let mut table = self.lock();
        if table.len() >= self.max {
            table.clear();
        }
        table.insert(note.into(), html.clone());
        html
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<str>>> {
        // A panic while holding the lock leaves a valid map (inserts are whole).
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_once_and_stays_bounded() {
        let notes = RenderedNotes::new(2);
        let mut calls = 0;
        for _ in 0..3 {
            let html = notes.get_or_render("hi", |n| {
                calls += 1;
                format!("<p>{n}</p>")
            });
            assert_eq!(&*html, "<p>hi</p>");
        }
        assert_eq!(calls, 1);
        notes.get_or_render("b", |n| n.to_owned());
        notes.get_or_render("c", |n| n.to_owned());
        assert!(notes.len() <= 2, "never more than the bound");
        // A changed note is another key: the old HTML is never served for it.
        assert_eq!(
            &*notes.get_or_render("hi there", |n| n.to_owned()),
            "hi there"
        );
    }

    #[test]
    fn zero_disables_the_cache() {
        let notes = RenderedNotes::new(0);
        notes.get_or_render("x", |n| n.to_owned());
        assert!(notes.is_empty());
    }
}
