//! Reading a request's cookies: the one parser, for the guard (the web
//! log-in cookie is a credential, see `tokens`) and for the web UI's
//! sessions and CSRF cookies in `holdfast-api`.

use axum::http::{header, HeaderMap};

/// The value of cookie `name`, if the request carries one: the first pair of
/// that name across every `Cookie` header, quotes trimmed. An empty value is
/// returned as it is (what to make of it is the caller's to say).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[("cookie", "a=1; sid=abc; b=2"), ("cookie", "c=3")]);
        assert_eq!(cookie(&h, "sid").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c").as_deref(), Some("3"));
        assert_eq!(cookie(&headers(&[("cookie", "x=sid")]), "sid"), None);
        assert_eq!(cookie(&headers(&[]), "sid"), None);
    }

    #[test]
    fn quotes_are_trimmed_and_an_empty_value_is_kept() {
        let h = headers(&[("cookie", "sid=\"abc\"; gone=")]);
        assert_eq!(cookie(&h, "sid").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "gone").as_deref(), Some(""));
    }
}
