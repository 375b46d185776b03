//! The one audited door for HTML that was made elsewhere.
//!
//! Everything else on a page goes through maud, which escapes every value.
//! The only HTML that enters a page as it is comes from here, and each
//! function says why it is safe. The tidy test (`user_text_reaches_html_only_escaped`)
//! refuses `PreEscaped` in any other file.

use maud::PreEscaped;

/// A status' content: rendered at posting by `text::render_html`, which
/// escapes every text segment and builds links only from escaped parts.
pub fn status_content(content: &str) -> PreEscaped<&str> {
    PreEscaped(content)
}

/// An account's bio: `text::note_html`, the same escaping renderer as statuses.
pub fn note(rendered: &str) -> PreEscaped<&str> {
    PreEscaped(rendered)
}

/// An announcement's text: rendered by the service with `text::note_html`,
/// the same escaping renderer as bios.
pub fn announcement(rendered: &str) -> PreEscaped<&str> {
    PreEscaped(rendered)
}
