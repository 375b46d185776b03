//! The web pages a person with only a browser sees. For now: the front page
//! with the public timeline; the full web UI grows here.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use holdfast_service::lists::Timeline;
use holdfast_service::text::escape;
use holdfast_service::PageRequest;

use crate::entities::iso8601;
use crate::error::ApiResult;
use crate::AppState;

pub const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}\
    label{display:block;margin:.5rem 0}input{display:block;width:100%;padding:.4rem;box-sizing:border-box}\
    button{margin-top:.8rem;padding:.5rem 1.2rem}.error{color:#a00}article{border-top:1px solid #ddd;padding:.6rem 0}\
    .meta{color:#666;font-size:.85rem}code{word-break:break-all}\
    .media img{max-width:100%;max-height:20rem;margin:.3rem .3rem 0 0;border-radius:4px}";

pub async fn home(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let svc = &state.service;
    let page = svc
        .timeline(
            Timeline::Public {
                viewer: None,
                only_media: false,
            },
            PageRequest {
                limit: Some(20),
                ..Default::default()
            },
        )
        .await?;
    let mut posts = String::new();
    for b in &page.items {
        let s = &b.status;
        let name = if b.account.display_name.is_empty() {
            &b.account.username
        } else {
            &b.account.display_name
        };
        let body = if s.spoiler_text.is_empty() {
            s.content.clone() // sanitized when it was posted
        } else {
            format!(
                "<details><summary>{}</summary>{}</details>",
                escape(&s.spoiler_text),
                s.content
            )
        };
        // Pictures: the preview, linking to the full size, with the author's description as alt text.
        let mut pictures = String::new();
        for m in &b.media {
            pictures += &format!(
                "<a href=\"{}\"><img src=\"{}\" alt=\"{}\" loading=\"lazy\"></a>",
                escape(&state.urls.media(&m.file_key)),
                escape(&state.urls.media(&m.preview_key)),
                escape(m.description.as_deref().unwrap_or("")),
            );
        }
        if !pictures.is_empty() {
            pictures = format!("<div class=\"media\">{pictures}</div>");
        }
        posts += &format!(
            "<article><div class=\"meta\"><strong>{}</strong> @{} · <time datetime=\"{t}\">{t}</time></div>{body}{pictures}</article>",
            escape(name),
            escape(&b.account.username),
            t = iso8601(s.created_at_ms),
        );
    }
    if posts.is_empty() {
        posts = "<p>Nothing posted yet.</p>".into();
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{domain} · holdfast</title><style>{STYLE}</style></head><body><main><h1>{domain}</h1>\
         <p>A holdfast server. Sign in with any Mastodon app (Tusky, Elk, toot, …) using this server's address.</p>\
         <h2>Public timeline</h2>{posts}</main></body></html>",
        domain = escape(&svc.config.domain),
    );
    Ok(Html(html))
}

pub async fn missing_image() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_bytes!("missing.png").as_slice(),
    )
}
