//! The oEmbed answer for a status (`GET /api/oembed`; oEmbed 1.0, "rich").

use holdfast_store::StatusBundle;
use serde::Serialize;

use super::Urls;

#[derive(Serialize)]
pub struct OEmbed {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    pub title: String,
    pub author_name: String,
    pub author_url: String,
    pub provider_name: String,
    pub provider_url: String,
    pub cache_age: u64,
    /// The status as a self-contained quote (see `web::embed`).
    pub html: String,
    pub width: u32,
    /// As the consumer asked (`maxheight`), else null; Mastodon echoes the
    /// parameter, a string.
    pub height: Option<String>,
}

impl OEmbed {
    pub fn new(
        urls: &Urls,
        b: &StatusBundle,
        html: String,
        width: u32,
        height: Option<u32>,
        cache_age_s: u64,
    ) -> OEmbed {
        let author = &b.account;
        let provider_name = urls
            .base()
            .split_once("://")
            .map_or(urls.base(), |(_, host)| host)
            .to_owned();
        OEmbed {
            kind: "rich",
            version: "1.0",
            title: format!("New status by {}", author.username),
            author_name: if author.display_name.is_empty() {
                author.username.clone()
            } else {
                author.display_name.clone()
            },
            author_url: urls.account(&author.username),
            provider_name,
            provider_url: format!("{}/", urls.base()),
            cache_age: cache_age_s,
            html,
            width,
            height: height.map(|h| h.to_string()),
        }
    }
}
