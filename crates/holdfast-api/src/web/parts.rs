//! Pieces several pages share: a status, an account line, the pager, the
//! compose box, and the small POST forms that act on things.

use holdfast_service::PageOf;
use holdfast_store::{AccountRow, StatusBundle, Visibility};
use maud::{html, Markup};

use super::layout::csrf_field;
use super::session::Viewer;
use super::trusted;
use crate::entities::iso8601;

/// Where a media key is served, as a path on this site (pages never name
/// another origin, so the strict Content-Security-Policy holds).
pub fn media_path(key: &str) -> String {
    format!("/system/media/{key}")
}

pub fn avatar_path(a: &AccountRow) -> String {
    match &a.avatar_key {
        Some(k) => media_path(k),
        None => "/avatars/original/missing.png".into(),
    }
}

pub fn header_path(a: &AccountRow) -> String {
    match &a.header_key {
        Some(k) => media_path(k),
        None => "/headers/original/missing.png".into(),
    }
}

pub fn profile_path(a: &AccountRow) -> String {
    format!("/@{}", a.username)
}

pub fn status_path(b: &StatusBundle) -> String {
    format!("/@{}/{}", b.account.username, b.status.id)
}

pub fn display_name(a: &AccountRow) -> &str {
    if a.display_name.trim().is_empty() {
        &a.username
    } else {
        &a.display_name
    }
}

/// A time as people read it, with the exact one for machines.
pub fn time(ms: i64) -> Markup {
    let iso = iso8601(ms);
    let shown = iso.get(..16).unwrap_or(&iso).replace('T', " ");
    html! { time datetime=(iso) { (shown) " UTC" } }
}

/// A small form that POSTs one action and comes back to `back`.
pub fn action(
    viewer: &Viewer,
    path: &str,
    back: &str,
    label: Markup,
    pressed: Option<bool>,
    class: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(path) {
            (csrf_field(viewer))
            input type="hidden" name="back" value=(back);
            @match pressed {
                Some(p) => button class=(class) type="submit" aria-pressed=(p) { (label) },
                None => button class=(class) type="submit" { (label) },
            }
        }
    }
}

/// One account, one line: avatar, names, link to the profile.
pub fn account_line(a: &AccountRow) -> Markup {
    html! {
        div.account {
            img.avatar src=(avatar_path(a)) alt="" width="48" height="48";
            " "
            a href=(profile_path(a)) { strong { (display_name(a)) } }
            " "
            span.meta { "@" (a.username) }
        }
    }
}

/// A status as a person sees it, with what they may do to it.
pub fn status(b: &StatusBundle, viewer: Option<&Viewer>, back: &str, focused: bool) -> Markup {
    // A reblog shows the status it reblogged, under "X boosted".
    let (shown, booster) = match &b.reblog {
        Some(original) => (original.as_ref(), Some(&b.account)),
        None => (b, None),
    };
    let s = &shown.status;
    let id = s.id;
    let base = format!("/statuses/{id}");
    html! {
        article.status.focus[focused] id={ "status-" (id) } aria-label={ "Post by " (display_name(&shown.account)) } {
            @if let Some(by) = booster {
                p.reblogged-by { a href=(profile_path(by)) { (display_name(by)) } " boosted" }
            }
            header {
                img.avatar src=(avatar_path(&shown.account)) alt="" width="48" height="48";
                div {
                    a href=(profile_path(&shown.account)) { strong.name { (display_name(&shown.account)) } }
                    " " span.meta { "@" (shown.account.username) }
                    br;
                    a.meta href=(status_path(shown)) { (time(s.created_at_ms)) }
                    " · " span.meta.visibility { (visibility_word(s.visibility)) }
                }
            }
            @if s.spoiler_text.is_empty() {
                div.content { (trusted::status_content(&s.content)) }
                (pictures(shown))
                (poll(shown, viewer, back))
            } @else {
                details {
                    summary { (s.spoiler_text) }
                    div.content { (trusted::status_content(&s.content)) }
                    (pictures(shown))
                    (poll(shown, viewer, back))
                }
            }
            footer.actions {
                a href=(status_path(shown)) { span.replies { (s.replies_count) } " replies" }
                @if let Some(v) = viewer {
                    @let fav = if shown.favourited { "unfavourite" } else { "favourite" };
                    (action(v, &format!("{base}/{fav}"), back,
                        html! { @if shown.favourited { "Unfavourite" } @else { "Favourite" } " (" span.favourites { (s.favourites_count) } ")" },
                        Some(shown.favourited), "quiet"))
                    @if s.visibility == Visibility::Public || s.visibility == Visibility::Unlisted {
                        @let boost = if shown.reblogged { "unreblog" } else { "reblog" };
                        (action(v, &format!("{base}/{boost}"), back,
                            html! { @if shown.reblogged { "Unboost" } @else { "Boost" } " (" span.reblogs { (s.reblogs_count) } ")" },
                            Some(shown.reblogged), "quiet"))
                    }
                    @let mark = if shown.bookmarked { "unbookmark" } else { "bookmark" };
                    (action(v, &format!("{base}/{mark}"), back,
                        html! { @if shown.bookmarked { "Remove bookmark" } @else { "Bookmark" } },
                        Some(shown.bookmarked), "quiet"))
                    @if shown.account.id == v.id() {
                        (action(v, &format!("{base}/delete"), "/home", html! { "Delete" }, None, "quiet"))
                    } @else {
                        a.meta href={ (profile_path(&shown.account)) "/report?status=" (id) } { "Report" }
                    }
                } @else {
                    span.meta { (s.favourites_count) " favourites · " (s.reblogs_count) " boosts" }
                }
            }
        }
    }
}

fn pictures(b: &StatusBundle) -> Markup {
    html! {
        @if !b.media.is_empty() {
            div.media {
                @for m in &b.media {
                    a href=(media_path(&m.file_key)) {
                        img src=(media_path(&m.preview_key)) alt=(m.description.as_deref().unwrap_or("")) loading="lazy";
                    }
                }
            }
        }
    }
}

/// A status' poll: a form to vote while it is open and the viewer has not
/// voted (and is not its author), else the options with their counts (hidden
/// until the end when the author asked so).
fn poll(b: &StatusBundle, viewer: Option<&Viewer>, back: &str) -> Markup {
    let Some(p) = &b.poll else {
        return html! {};
    };
    let ended = p.expires_at_ms <= holdfast_config::time::now_ms();
    let can_vote = !ended && p.own_votes.is_empty();
    let voter = viewer.filter(|v| can_vote && v.id() != p.account_id);
    let totals = !p.hide_totals || ended;
    let kind = if p.multiple { "checkbox" } else { "radio" };
    html! {
        @if let Some(v) = voter {
            form.poll method="post" action={ "/polls/" (p.id) "/vote" } {
                (csrf_field(v))
                input type="hidden" name="back" value=(back);
                fieldset {
                    legend { @if p.multiple { "Poll: choose any" } @else { "Poll: choose one" } }
                    @for (i, o) in p.options.iter().enumerate() {
                        label.check { input type=(kind) name="choices[]" value=(i); (o.title) }
                    }
                }
                button.quiet type="submit" { "Vote" }
            }
        } @else {
            ul.poll aria-label="Poll" {
                @for (i, o) in p.options.iter().enumerate() {
                    li {
                        (o.title)
                        @if totals {
                            " · " (o.votes_count) " votes "
                            meter min="0" max=(p.votes_count.max(1)) value=(o.votes_count) {}
                        }
                        @if p.own_votes.contains(&(i as u32)) { " · " strong { "your choice" } }
                    }
                }
            }
        }
        p.meta {
            @if p.voters_count == 1 { "1 person voted" } @else { (p.voters_count) " people voted" }
            " · " @if ended { "ended " } @else { "ends " } (time(p.expires_at_ms))
        }
    }
}

pub fn visibility_word(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "Public",
        Visibility::Unlisted => "Unlisted",
        Visibility::Private => "Followers only",
        Visibility::Direct => "Mentioned people only",
    }
}

/// Statuses, newest first, or a line saying there are none.
pub fn statuses(items: &[StatusBundle], viewer: Option<&Viewer>, back: &str) -> Markup {
    html! {
        @if items.is_empty() {
            p.empty { "Nothing here yet." }
        }
        @for b in items {
            (status(b, viewer, back, false))
        }
    }
}

/// "Newer" and "Older" links for a page of a timeline at `path`.
pub fn pager<T>(path: &str, page: &PageOf<T>) -> Markup {
    let sep = if path.contains('?') { '&' } else { '?' };
    html! {
        nav.pager aria-label="Pages" {
            @if let Some(min) = page.prev_min_id {
                a rel="prev" href={ (path) (sep) "min_id=" (min) } { "← Newer" }
            } @else { span {} }
            @if let Some(max) = page.next_max_id {
                a rel="next" href={ (path) (sep) "max_id=" (max) } { "Older →" }
            }
        }
    }
}

/// The compose box: text with a live counter (progressive enhancement),
/// content warning, visibility, and a picture with its description.
pub fn compose(
    viewer: &Viewer,
    back: &str,
    reply_to: Option<&StatusBundle>,
    max_chars: usize,
) -> Markup {
    let default_visibility = viewer.account.default_visibility;
    let prefill = reply_to
        .filter(|r| r.account.id != viewer.id())
        .map(|r| format!("@{} ", r.account.username))
        .unwrap_or_default();
    html! {
        form.compose #compose method="post" action="/statuses" enctype="multipart/form-data" {
            (csrf_field(viewer))
            input type="hidden" name="back" value=(back);
            @if let Some(r) = reply_to {
                input type="hidden" name="in_reply_to_id" value=(r.status.id);
            }
            label for="status-text" { @if reply_to.is_some() { "Your reply" } @else { "What's on your mind?" } }
            textarea #status-text name="status" data-max-chars=(max_chars) data-counter="status-counter"
                aria-describedby="status-counter" { (prefill) }
            p.hint.counter #status-counter aria-live="polite" { "Up to " (max_chars) " characters" }
            div.row {
                div {
                    label for="spoiler-text" { "Content warning (optional)" }
                    input #spoiler-text type="text" name="spoiler_text" data-counts-with="status-text";
                }
                div {
                    label for="visibility" { "Who can see it" }
                    select #visibility name="visibility" {
                        @for v in [Visibility::Public, Visibility::Unlisted, Visibility::Private, Visibility::Direct] {
                            option value=(v.as_str()) selected[v == default_visibility] { (visibility_word(v)) }
                        }
                    }
                }
            }
            div.row {
                div {
                    label for="image" { "Picture (optional)" }
                    input #image type="file" name="image" accept="image/png,image/jpeg,image/gif,image/webp";
                }
                div {
                    label for="image-alt" { "Picture description, for people who cannot see it" }
                    input #image-alt type="text" name="image_description";
                }
            }
            button #post type="submit" { @if reply_to.is_some() { "Reply" } @else { "Post" } }
        }
    }
}
