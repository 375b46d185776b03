//! Request parameters the way Mastodon takes them: from the query string, a
//! form body or a JSON body, merged into one map (body wins). Form keys
//! follow Rails conventions: `id[]=1&id[]=2` is a list, `home[last_read_id]=5`
//! a nested object. Typed getters turn a wrong type into a 422 naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use holdfast_service::PageRequest;
use holdfast_store::Id;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Default)]
pub struct Params(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut map = Map::new();
        if let Some(q) = req.uri().query() {
            merge_pairs(&mut map, q.as_bytes());
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        // `Bytes` honours the body limit layer and answers 413 past it.
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
            } else {
                ApiError::bad_request("Could not read the request body")
            }
        })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(map));
        }
        if content_type.starts_with("application/json")
            || (content_type.is_empty() && body.first() == Some(&b'{'))
        {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(obj)) => map.extend(obj),
                Ok(_) => return Err(ApiError::unprocessable("The JSON body must be an object")),
                Err(e) => return Err(ApiError::bad_request(format!("Malformed JSON body: {e}"))),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded")
            || content_type.is_empty()
        {
            merge_pairs(&mut map, &body);
        } else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported content type {content_type}: send JSON or a URL-encoded form"),
            ));
        }
        Ok(Params(map))
    }
}

fn merge_pairs(map: &mut Map<String, Value>, bytes: &[u8]) {
    for (key, value) in form_urlencoded::parse(bytes) {
        let value = Value::String(value.into_owned());
        if let Some(base) = key.strip_suffix("[]") {
            match map
                .entry(base.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(list) => list.push(value),
                other => *other = Value::Array(vec![value]),
            }
        } else if let Some((base, inner)) = key
            .split_once('[')
            .and_then(|(b, rest)| Some((b, rest.strip_suffix(']')?)))
        {
            match map
                .entry(base.to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                Value::Object(obj) => {
                    obj.insert(inner.to_owned(), value);
                }
                other => *other = Value::Object(Map::from_iter([(inner.to_owned(), value)])),
            }
        } else {
            map.insert(key.into_owned(), value);
        }
    }
}

impl Params {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn str(&self, key: &str) -> ApiResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::unprocessable(format!("{key} must be a string"))),
        }
    }

    pub fn required_str(&self, key: &str) -> ApiResult<String> {
        self.str(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::unprocessable(format!("{key} is required")))
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" | "t" => Ok(Some(true)),
                "false" | "0" | "off" | "no" | "f" | "" => Ok(Some(false)),
                _ => Err(ApiError::unprocessable(format!("{key} must be a boolean"))),
            },
            Some(_) => Err(ApiError::unprocessable(format!("{key} must be a boolean"))),
        }
    }

    /// An id: a string of digits (as Mastodon sends them) or a JSON number.
    pub fn id(&self, key: &str) -> ApiResult<Option<Id>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => parse_id(s)
                .map(Some)
                .ok_or_else(|| ApiError::unprocessable(format!("{key} must be an id"))),
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|i| *i >= 0)
                .map(Some)
                .ok_or_else(|| ApiError::unprocessable(format!("{key} must be an id"))),
            Some(_) => Err(ApiError::unprocessable(format!("{key} must be an id"))),
        }
    }

    pub fn u32(&self, key: &str) -> ApiResult<Option<u32>> {
        let bad = || ApiError::bad_request(format!("{key} must be a non-negative integer"));
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<u32>().map(Some).map_err(|_| bad()),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .map(Some)
                .ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    }

    /// A list: `key[]=a&key[]=b`, a JSON array, or a single value.
    pub fn list(&self, key: &str) -> ApiResult<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(ApiError::unprocessable(format!(
                        "{key} must be a list of strings"
                    ))),
                })
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(_) => Err(ApiError::unprocessable(format!(
                "{key} must be a list of strings"
            ))),
        }
    }

    /// A nested object, `key[field]=…` or `{"key": {…}}`.
    pub fn object(&self, key: &str) -> ApiResult<Option<Params>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Params(o.clone()))),
            Some(_) => Err(ApiError::unprocessable(format!("{key} must be an object"))),
        }
    }

    /// `max_id`, `since_id`, `min_id`, `limit`, read leniently as Mastodon
    /// does: a cursor that is not an id is ignored; `limit` is [`Params::limit`].
    pub fn page(&self) -> ApiResult<PageRequest> {
        let cursor = |key: &str| self.id(key).ok().flatten();
        Ok(PageRequest {
            max_id: cursor("max_id"),
            since_id: cursor("since_id"),
            min_id: cursor("min_id"),
            limit: self.limit("limit"),
        })
    }

    /// A page size the way Mastodon reads one (`params[:limit].to_i.abs`):
    /// the leading integer, sign dropped (`-5` is 5, `0` an empty page);
    /// a value with no leading number at all is ignored (the default page),
    /// never a 400. The caller caps it at its maximum.
    pub fn limit(&self, key: &str) -> Option<u32> {
        match self.get(key)? {
            Value::Number(n) => n
                .as_i64()
                .map(|i| i.unsigned_abs())
                .or_else(|| n.as_u64())
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.abs() as u64))
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
            Value::String(s) => leading_integer(s),
            _ => None,
        }
    }
}

/// Ruby's `String#to_i`, minus its "0 for garbage": optional spaces, an
/// optional sign, then digits (`_` between them allowed); None when there are
/// no digits. Saturates at `u32::MAX`; the sign is dropped.
fn leading_integer(s: &str) -> Option<u32> {
    let s = s.trim_start();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut value: u64 = 0;
    let mut digits = 0;
    let mut last_underscore = false;
    for c in s.chars() {
        match c {
            '0'..='9' => {
                value = (value * 10 + u64::from(c as u8 - b'0')).min(u64::from(u32::MAX));
                digits += 1;
                last_underscore = false;
            }
            '_' if digits > 0 && !last_underscore => last_underscore = true,
            _ => break,
        }
    }
    (digits > 0).then(|| value as u32)
}

/// Ids in paths and parameters: decimal digits only, no sign, fits in i64.
pub fn parse_id(s: &str) -> Option<Id> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_style_form_keys() {
        let mut m = Map::new();
        merge_pairs(
            &mut m,
            b"id[]=1&id[]=2&home[last_read_id]=5&status=hi+there",
        );
        assert_eq!(m["id"], serde_json::json!(["1", "2"]));
        assert_eq!(m["home"]["last_read_id"], "5");
        assert_eq!(m["status"], "hi there");
    }

    #[test]
    fn typed_getters_refuse_wrong_types() {
        let p = Params(serde_json::json!({"sensitive": "banana", "limit": "-1", "in_reply_to_id": "12x", "ok": "true"}).as_object().unwrap().clone());
        assert_eq!(
            p.bool("sensitive").unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(p.u32("limit").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert!(p.id("in_reply_to_id").is_err());
        assert_eq!(p.bool("ok").unwrap(), Some(true));
    }

    #[test]
    fn paging_is_lenient_as_in_mastodon() {
        let p = Params(
            serde_json::json!({"limit": "-5", "max_id": "abc", "since_id": "-1", "min_id": "12"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let page = p.page().unwrap();
        assert_eq!(page.limit, Some(5));
        assert_eq!(
            (page.max_id, page.since_id, page.min_id),
            (None, None, Some(12))
        );
        assert_eq!(leading_integer("abc"), None);
        assert_eq!(leading_integer(""), None);
        assert_eq!(leading_integer(" 12abc"), Some(12));
        assert_eq!(leading_integer("0"), Some(0));
        assert_eq!(leading_integer("99999999999999999999"), Some(u32::MAX));
        let n = Params(
            serde_json::json!({"limit": -3})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(n.limit("limit"), Some(3));
    }

    #[test]
    fn ids_are_digits_only() {
        assert_eq!(parse_id("123"), Some(123));
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("99999999999999999999"), None);
    }
}
