//! The HTML other sites embed for a status (`GET /api/oembed`'s `html`): a
//! self-contained quote of the status with a link back, readable without any
//! script or frame (holdfast serves no embed page: its pages refuse framing).

use holdfast_store::StatusBundle;
use maud::html;

use super::trusted;
use crate::entities::{iso8601, Urls};

pub fn status_html(urls: &Urls, b: &StatusBundle) -> String {
    let author = &b.account;
    let status_url = urls.status(&author.username, b.status.id);
    let name = if author.display_name.is_empty() {
        author.username.as_str()
    } else {
        author.display_name.as_str()
    };
    html! {
        blockquote.mastodon-embed cite=(status_url) {
            @if b.status.spoiler_text.is_empty() {
                (trusted::status_content(&b.status.content))
            } @else {
                p { (b.status.spoiler_text) }
            }
            p {
                "— " a href=(urls.account(&author.username)) { (name) " (@" (author.username) ")" }
                " " a href=(status_url) { (iso8601(b.status.created_at_ms)) }
            }
        }
    }
    .into_string()
}
