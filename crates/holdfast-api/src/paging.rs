//! `Link` headers the way Mastodon writes them (RFC 8288): `next` (older,
//! `max_id`) first, then `prev` (newer, `min_id`), each repeating the
//! request's other parameters. An empty page has no links, so a client
//! walking `next` stops there.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::PageOf;

const PAGING_KEYS: [&str; 3] = ["max_id", "since_id", "min_id"];

fn link_header(
    headers: &HeaderMap,
    uri: &Uri,
    next_max_id: Option<i64>,
    prev_min_id: Option<i64>,
) -> Option<String> {
    let (next, prev) = (next_max_id?, prev_min_id?);
    let (host, scheme) = origin(headers);
    let kept: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| !PAGING_KEYS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = |key: &str, id: i64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair(key, &id.to_string());
        format!("{scheme}://{host}{}?{}", uri.path(), q.finish())
    };
    Some(format!(
        "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
        url("max_id", next),
        url("min_id", prev)
    ))
}

/// `Link` for a list paged by `offset` (Mastodon's collections): `next`
/// and `prev` where there are such pages, each repeating the request's
/// other parameters.
pub fn offset_link_header(
    headers: &HeaderMap,
    uri: &Uri,
    next_offset: Option<u32>,
    prev_offset: Option<u32>,
) -> Option<HeaderValue> {
    let (host, scheme) = origin(headers);
    let kept: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "offset")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = |offset: u32| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("offset", &offset.to_string());
        format!("{scheme}://{host}{}?{}", uri.path(), q.finish())
    };
    let links: Vec<String> = [(next_offset, "next"), (prev_offset, "prev")]
        .into_iter()
        .filter_map(|(at, rel)| at.map(|o| format!("<{}>; rel=\"{rel}\"", url(o))))
        .collect();
    if links.is_empty() {
        return None;
    }
    HeaderValue::from_str(&links.join(", ")).ok()
}

/// Host and scheme the client reached us by, for absolute links.
fn origin(headers: &HeaderMap) -> (&str, &'static str) {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    (host, scheme)
}

/// What a paged answer needs of its request: the host and scheme its `Link`
/// URLs name and the query they repeat. Handlers of paged lists extract it
/// and answer with [`Paging::respond`] (or [`Paging::each`]).
pub struct Paging {
    headers: HeaderMap,
    uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let OriginalUri(uri) = OriginalUri::from_request_parts(parts, state).await?;
        Ok(Paging {
            headers: parts.headers.clone(),
            uri,
        })
    }
}

impl Paging {
    /// `body` (the page's entities, or what a grouped page renders) as JSON,
    /// with the page's `Link` header.
    pub fn respond<T, B: serde::Serialize>(&self, page: &PageOf<T>, body: B) -> Response {
        let response = Json(body).into_response();
        self.with_links(page.next_max_id, page.prev_min_id, response)
    }

    /// `json` (a page already written as JSON bytes, `crate::rendered`), with
    /// the `Link` header of the page with these cursors.
    pub fn respond_json(
        &self,
        next_max_id: Option<i64>,
        prev_min_id: Option<i64>,
        json: Vec<u8>,
    ) -> Response {
        let response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json,
        )
            .into_response();
        self.with_links(next_max_id, prev_min_id, response)
    }

    fn with_links(
        &self,
        next_max_id: Option<i64>,
        prev_min_id: Option<i64>,
        mut response: Response,
    ) -> Response {
        let link = link_header(&self.headers, &self.uri, next_max_id, prev_min_id);
        if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LINK, v);
        }
        response
    }

    /// Each item of the page as its entity: a JSON array with `Link`.
    pub fn each<T, E: serde::Serialize>(
        &self,
        page: &PageOf<T>,
        entity: impl FnMut(&T) -> E,
    ) -> Response {
        let items: Vec<E> = page.items.iter().map(entity).collect();
        self.respond(page, items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_keeps_other_params_and_replaces_cursors() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9"));
        let uri: Uri = "/api/v1/timelines/public?local=true&max_id=50&limit=2"
            .parse()
            .unwrap();
        let link = link_header(&h, &uri, Some(10), Some(20)).unwrap();
        assert_eq!(
            link,
            "<http://127.0.0.1:9/api/v1/timelines/public?local=true&limit=2&max_id=10>; rel=\"next\", \
             <http://127.0.0.1:9/api/v1/timelines/public?local=true&limit=2&min_id=20>; rel=\"prev\""
        );
        assert!(link_header(&h, &uri, None, None).is_none());
    }
}
