//! CORS the way Mastodon does it, as the outermost layer.
//!
//! Browser clients on other origins call the API with bearer tokens, never
//! cookies, so the API answers `Access-Control-Allow-Origin: *` and never
//! `Access-Control-Allow-Credentials`. Only the paths Mastodon opens get the
//! headers: `/api/*`, `/oauth/token`, `/oauth/revoke`, `/.well-known/*` and
//! `/nodeinfo/*`; the authorize page and the web pages stay same-origin.
//!
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) on those paths
//! is answered here at once: it never reaches the guard, so it spends no rate
//! budget and takes no admission slot, and it never reaches a handler. Every
//! other response on those paths, the guard's 429 and 503 refusals included,
//! leaves with the allow and expose headers, so a browser client can read
//! `Retry-After` and `X-RateLimit-*`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use holdfast_config::Limits;

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const EXPOSE_HEADERS: &str = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, \
                              X-Request-Id, Idempotency-Key, Retry-After";
/// Answered when the requested headers are too long or malformed to echo.
const DEFAULT_ALLOW_HEADERS: &str =
    "Authorization, Content-Type, Idempotency-Key, Accept, Accept-Language, X-Requested-With, \
     Cache-Control";

pub struct Cors {
    max_age: HeaderValue,
    request_headers_max_bytes: usize,
}

impl Cors {
    pub fn new(limits: &Limits) -> Arc<Cors> {
        Arc::new(Cors {
            max_age: HeaderValue::from(limits.cors_max_age_s),
            request_headers_max_bytes: limits.cors_request_headers_max_bytes,
        })
    }

    fn preflight(&self, request_headers: &HeaderMap) -> Response {
        let allow_headers = request_headers
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .filter(|v| v.len() <= self.request_headers_max_bytes && is_header_name_list(v))
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static(DEFAULT_ALLOW_HEADERS));
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        h.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        // The answer depends on what was asked; a shared cache must not mix them up.
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Access-Control-Request-Headers, Access-Control-Request-Method",
            ),
        );
        response
    }
}

/// The paths Mastodon opens to other origins.
pub fn is_cors_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/oauth/token"
        || path == "/oauth/revoke"
        || path.starts_with("/.well-known/")
        || path.starts_with("/nodeinfo/")
}

/// `Authorization, content-type, x-foo`: header names (RFC 9110 tokens) separated by commas.
fn is_header_name_list(value: &HeaderValue) -> bool {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    value
        .as_bytes()
        .split(|&b| b == b',')
        .map(|name| name.trim_ascii())
        .all(|name| !name.is_empty() && name.iter().all(|&b| is_tchar(b)))
}

fn is_preflight(request: &Request) -> bool {
    request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The axum middleware: `axum::middleware::from_fn_with_state(cors, cors::apply)`,
/// added last so that it wraps everything else.
pub async fn apply(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    if !is_cors_path(request.uri().path()) {
        return next.run(request).await;
    }
    if is_preflight(&request) {
        return cors.preflight(request.headers());
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::any;
    use axum::Router;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    fn app(handled: Arc<AtomicUsize>) -> Router {
        let limits = Limits {
            cors_request_headers_max_bytes: 64,
            ..Limits::default()
        };
        Router::new()
            .fallback(any(move || {
                handled.fetch_add(1, Ordering::SeqCst);
                async { "hello" }
            }))
            .layer(axum::middleware::from_fn_with_state(
                Cors::new(&limits),
                apply,
            ))
    }

    async fn send(app: &Router, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        app.clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn preflight_is_answered_without_the_handler() {
        let handled = Arc::new(AtomicUsize::new(0));
        let app = app(handled.clone());
        let r = send(
            &app,
            Method::OPTIONS,
            "/api/v1/no/such/route",
            &[
                ("origin", "https://client.example"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type, idempotency-key",
                ),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH"));
        assert_eq!(
            h["access-control-allow-headers"],
            "authorization, content-type, idempotency-key"
        );
        assert_eq!(h["access-control-max-age"], "7200");
        assert!(!h.contains_key("access-control-allow-credentials"));
        assert_eq!(handled.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn requested_headers_are_echoed_only_when_short_and_well_formed() {
        let app = app(Arc::default());
        let long = "x-a, ".repeat(40);
        for bad in [long.as_str(), "authorization, (bad)", "a,,b"] {
            let r = send(
                &app,
                Method::OPTIONS,
                "/oauth/token",
                &[
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", bad),
                ],
            )
            .await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
            assert_eq!(
                r.headers()["access-control-allow-headers"],
                DEFAULT_ALLOW_HEADERS
            );
        }
    }

    #[tokio::test]
    async fn actual_responses_on_open_paths_only() {
        let handled = Arc::new(AtomicUsize::new(0));
        let app = app(handled.clone());
        for path in [
            "/api/v1/instance",
            "/oauth/token",
            "/oauth/revoke",
            "/.well-known/nodeinfo",
            "/nodeinfo/2.0",
        ] {
            let r = send(&app, Method::GET, path, &[("origin", "https://c.example")]).await;
            assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
            assert!(r.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("Retry-After"));
        }
        for path in [
            "/",
            "/oauth/authorize",
            "/apix",
            "/oauth/token/../authorize",
            "/healthz",
        ] {
            let r = send(&app, Method::GET, path, &[("origin", "https://c.example")]).await;
            assert!(
                !r.headers().contains_key("access-control-allow-origin"),
                "{path}"
            );
            // and a preflight there is not answered by CORS: it reaches the app
            let r = send(
                &app,
                Method::OPTIONS,
                path,
                &[("access-control-request-method", "POST")],
            )
            .await;
            assert!(
                !r.headers().contains_key("access-control-allow-origin"),
                "{path}"
            );
        }
        assert_eq!(handled.load(Ordering::SeqCst), 15);
    }
}
