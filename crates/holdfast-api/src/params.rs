//! Request parameters the way Mastodon (Rails) takes them: from the query
//! string and a JSON, URL-encoded or `multipart/form-data` body, merged into
//! one map (body wins over query, key by key). Names follow Rack's nesting
//! rules in every encoding: `id[]=1&id[]=2` is a list, `source[privacy]=x` an
//! object, `fields_attributes[0][name]=x` an object keyed by index, and
//! `poll[options][]=a` a list inside an object. File parts of a multipart body
//! are kept apart as [`Upload`]s (`params.file("file")`). Typed getters turn
//! a wrong type into a 422 naming the field.
//!
//! Bodies are read through the route's `DefaultBodyLimit` (the same cap for
//! every encoding), streamed: a declared `Content-Length` over the cap is
//! refused with 413 before any byte is read, and an undeclared (chunked) body
//! is refused as soon as it passes the cap.

use std::collections::HashMap;
use std::fmt;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::RequestExt;
use holdfast_service::PageRequest;
use holdfast_store::Id;
use http_body_util::LengthLimitError;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// One file part of a multipart body.
#[derive(Clone)]
pub struct Upload {
    /// The `filename` the client gave (never trusted for the type).
    pub file_name: Option<String>,
    /// The `Content-Type` the client claimed for the part (never trusted either).
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// The request's parameters: `.0` is the merged map of every non-file value.
#[derive(Debug, Default)]
pub struct Params(pub Map<String, Value>, Files);

#[derive(Debug, Default)]
struct Files(HashMap<String, Upload>);

/// Bounds on parsing, from `Limits`.
#[derive(Clone, Copy, Debug)]
pub struct ParseBounds {
    /// Most bracket levels in one parameter name (`a[b][c]` has 2).
    pub depth_max: usize,
    /// Most parts in one multipart body.
    pub parts_max: usize,
}

impl ParseBounds {
    pub fn from_limits(limits: &holdfast_config::Limits) -> ParseBounds {
        ParseBounds {
            depth_max: limits.param_depth_max,
            parts_max: limits.multipart_parts_max,
        }
    }
}

enum Encoding {
    Json,
    Form,
    Multipart,
}

impl<S> FromRequest<S> for Params
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limits = AppState::from_ref(state).service.limits().clone();
        let bounds = ParseBounds::from_limits(&limits);
        // Only files may be large: JSON and form bodies keep the ordinary cap
        // even on the upload routes, so nobody makes the server parse
        // megabytes of JSON values.
        let text_cap = limits.request_body_max_bytes;
        let mut params = Params::default();
        if let Some(q) = req.uri().query() {
            params.0 = parse_form(q.as_bytes(), bounds)?;
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        // hyper knows the declared length; the limited body knows the route's cap.
        let declared = http_body::Body::size_hint(req.body()).exact();
        if declared == Some(0) {
            return Ok(params);
        }
        let body = req.into_limited_body();
        if let (Some(n), Some(cap)) = (declared, http_body::Body::size_hint(&body).upper()) {
            if n > cap {
                return Err(too_large());
            }
        }
        let lower = content_type.to_ascii_lowercase();
        let encoding = if lower.starts_with("multipart/form-data") {
            Some(Encoding::Multipart)
        } else if lower.starts_with("application/json") {
            Some(Encoding::Json)
        } else if lower.starts_with("application/x-www-form-urlencoded") {
            Some(Encoding::Form)
        } else if lower.is_empty() {
            None // sniffed below: `{` means JSON, anything else a form
        } else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Unsupported content type {}: send JSON, a URL-encoded form or multipart/form-data",
                    lower.split(';').next().unwrap_or("").trim()
                ),
            ));
        };
        let from_body = match encoding {
            Some(Encoding::Multipart) => {
                read_multipart(body, &content_type, bounds, &mut params.1).await?
            }
            _ => {
                if declared.is_some_and(|n| n > text_cap as u64) {
                    return Err(too_large());
                }
                let bytes = axum::body::to_bytes(body, text_cap)
                    .await
                    .map_err(|e| body_error(&e))?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    Map::new()
                } else if matches!(encoding, Some(Encoding::Json))
                    || (encoding.is_none() && bytes.first() == Some(&b'{'))
                {
                    match serde_json::from_slice::<Value>(&bytes) {
                        Ok(Value::Object(obj)) => obj,
                        Ok(_) => {
                            return Err(ApiError::unprocessable("The JSON body must be an object"))
                        }
                        Err(e) => {
                            return Err(ApiError::bad_request(format!("Malformed JSON body: {e}")))
                        }
                    }
                } else {
                    parse_form(&bytes, bounds)?
                }
            }
        };
        params.0.extend(from_body);
        Ok(params)
    }
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
}

/// Did reading the body fail because it passed the cap (rather than, say, a cut connection)?
fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    // Bounded: error chains are short, but a cycle must not spin forever.
    for _ in 0..16 {
        match current {
            Some(e) if e.is::<LengthLimitError>() => return true,
            Some(e) => current = e.source(),
            None => return false,
        }
    }
    false
}

fn body_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
    if is_length_limit(error) {
        too_large()
    } else {
        ApiError::bad_request("Could not read the request body")
    }
}

async fn read_multipart(
    body: Body,
    content_type: &str,
    bounds: ParseBounds,
    files: &mut Files,
) -> ApiResult<Map<String, Value>> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::bad_request("The multipart content type has no boundary"))?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut map = Map::new();
    let mut parts = 0usize;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        parts += 1;
        if parts > bounds.parts_max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "Too many parts in the multipart body (at most {})",
                    bounds.parts_max
                ),
            ));
        }
        let name = match field.name() {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => return Err(ApiError::bad_request("A multipart part has no name")),
        };
        let file_name = field.file_name().map(str::to_owned);
        let part_type = field.content_type().map(|m| m.essence_str().to_owned());
        let bytes = field.bytes().await.map_err(multipart_error)?;
        // As Rack: a part with a file name, or with a type other than text, is a file.
        let is_file = file_name.is_some()
            || part_type
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case("text/plain"));
        if is_file {
            // A browser sends an empty, unnamed file for a file input left blank.
            if file_name.as_deref() == Some("") && bytes.is_empty() {
                continue;
            }
            files.0.insert(
                name,
                Upload {
                    file_name: file_name.filter(|f| !f.is_empty()),
                    content_type: part_type,
                    bytes,
                },
            );
        } else {
            let text = String::from_utf8(bytes.into()).map_err(|_| {
                ApiError::bad_request(format!("The multipart part {name} is not UTF-8 text"))
            })?;
            insert_nested(&mut map, &name, Value::String(text), bounds)?;
        }
    }
    Ok(map)
}

fn multipart_error(e: multer::Error) -> ApiError {
    if let multer::Error::StreamReadFailed(source) = &e {
        return body_error(source.as_ref());
    }
    ApiError::bad_request(format!("Malformed or truncated multipart body: {e}"))
}

fn parse_form(bytes: &[u8], bounds: ParseBounds) -> ApiResult<Map<String, Value>> {
    let mut map = Map::new();
    for (key, value) in form_urlencoded::parse(bytes) {
        insert_nested(&mut map, &key, Value::String(value.into_owned()), bounds)?;
    }
    Ok(map)
}

/// One bracket level of a Rails-style name: `[key]` or `[]`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seg<'a> {
    Key(&'a str),
    Push,
}

/// `a[b][]` → (`a`, [Key(b), Push]). A name that does not have the bracket
/// shape (`a[b`, `[a]`, `a[b]c`) is taken whole as a plain name, as before.
fn split_name(name: &str) -> (&str, Vec<Seg<'_>>) {
    let plain = (name, Vec::new());
    let Some(open) = name.find('[') else {
        return plain;
    };
    if open == 0 {
        return plain;
    }
    let mut segs = Vec::new();
    let mut rest = &name[open..];
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return plain;
        };
        let Some(close) = inner.find(']') else {
            return plain;
        };
        let key = &inner[..close];
        if key.contains('[') {
            return plain;
        }
        segs.push(if key.is_empty() {
            Seg::Push
        } else {
            Seg::Key(key)
        });
        rest = &inner[close + 1..];
    }
    (&name[..open], segs)
}

/// Puts one value at its Rails-style name; a name that contradicts an earlier
/// one (`a=1&a[b]=2`) or nests too deep is a 400, as in Rails.
fn insert_nested(
    map: &mut Map<String, Value>,
    name: &str,
    value: Value,
    bounds: ParseBounds,
) -> ApiResult<()> {
    let (base, segs) = split_name(name);
    if segs.len() > bounds.depth_max {
        return Err(ApiError::bad_request(format!(
            "Parameter {name} is nested too deeply (at most {} levels)",
            bounds.depth_max
        )));
    }
    insert_at(map, base, &segs, value, name)
}

fn conflict(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Parameter {name} conflicts with another parameter of the same name"
    ))
}

fn insert_at(
    target: &mut Map<String, Value>,
    key: &str,
    segs: &[Seg<'_>],
    value: Value,
    name: &str,
) -> ApiResult<()> {
    match segs.split_first() {
        None => {
            target.insert(key.to_owned(), value);
            Ok(())
        }
        Some((Seg::Key(child), rest)) => {
            let slot = target
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(obj) = slot else {
                return Err(conflict(name));
            };
            insert_at(obj, child, rest, value, name)
        }
        Some((Seg::Push, rest)) => {
            let slot = target
                .entry(key.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = slot else {
                return Err(conflict(name));
            };
            match rest.split_first() {
                None => {
                    list.push(value);
                    Ok(())
                }
                // `a[][b]=1&a[][c]=2&a[][b]=3` → [{b:1, c:2}, {b:3}], as Rack does:
                // a new object starts when the last one already has this path.
                Some((Seg::Key(child), deeper)) => {
                    let reuse = matches!(list.last(), Some(Value::Object(o)) if !has_path(o, child, deeper));
                    if !reuse {
                        list.push(Value::Object(Map::new()));
                    }
                    let Some(Value::Object(obj)) = list.last_mut() else {
                        return Err(conflict(name));
                    };
                    insert_at(obj, child, deeper, value, name)
                }
                Some((Seg::Push, _)) => Err(ApiError::bad_request(format!(
                    "Parameter {name}: lists of lists are not supported"
                ))),
            }
        }
    }
}

/// Whether `obj` already holds a value at `child` + `deeper` (Rack's
/// `params_hash_has_key?`): a path through a list never counts as taken.
fn has_path(obj: &Map<String, Value>, child: &str, deeper: &[Seg<'_>]) -> bool {
    let mut current = match obj.get(child) {
        Some(v) => v,
        None => return false,
    };
    for seg in deeper {
        match (seg, current) {
            (Seg::Key(k), Value::Object(o)) => match o.get(*k) {
                Some(v) => current = v,
                None => return false,
            },
            (Seg::Key(_), _) => return true,
            (Seg::Push, _) => return false,
        }
    }
    true
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
            Some(Value::Object(o)) => Ok(Some(Params(o.clone(), Files::default()))),
            Some(_) => Err(ApiError::unprocessable(format!("{key} must be an object"))),
        }
    }

    /// A list of objects, as Rails accepts it: a JSON array of objects,
    /// `key[][name]=…` (a list), or `key[0][name]=…&key[1][name]=…` (an
    /// object keyed by index, taken in index order).
    pub fn object_list(&self, key: &str) -> ApiResult<Vec<Params>> {
        let bad = || ApiError::unprocessable(format!("{key} must be a list of objects"));
        let as_params = |v: &Value| match v {
            Value::Object(o) => Ok(Params(o.clone(), Files::default())),
            _ => Err(bad()),
        };
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(as_params).collect(),
            Some(Value::Object(by_index)) => {
                let mut indexed = by_index
                    .iter()
                    .map(|(k, v)| Ok((k.parse::<u32>().map_err(|_| bad())?, v)))
                    .collect::<ApiResult<Vec<_>>>()?;
                indexed.sort_by_key(|(i, _)| *i);
                indexed.into_iter().map(|(_, v)| as_params(v)).collect()
            }
            Some(_) => Err(bad()),
        }
    }

    /// A file part of a multipart body, by its part name.
    pub fn file(&self, key: &str) -> Option<&Upload> {
        self.1 .0.get(key)
    }

    /// Takes a file part out (no copy of its bytes is made either way; `Bytes` is shared).
    pub fn take_file(&mut self, key: &str) -> Option<Upload> {
        self.1 .0.remove(key)
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
    (digits > 0).then_some(value as u32)
}

/// Ids in paths and parameters: decimal digits only, no sign, fits in i64.
pub fn parse_id(s: &str) -> Option<Id> {
    // fact: i64::MAX has 19 digits
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BOUNDS: ParseBounds = ParseBounds {
        depth_max: 4,
        parts_max: 8,
    };

    fn form(body: &str) -> ApiResult<Value> {
        parse_form(body.as_bytes(), BOUNDS).map(Value::Object)
    }

    #[test]
    fn rails_style_form_keys() {
        let m = form("id[]=1&id[]=2&home[last_read_id]=5&status=hi+there").unwrap();
        assert_eq!(m["id"], json!(["1", "2"]));
        assert_eq!(m["home"]["last_read_id"], "5");
        assert_eq!(m["status"], "hi there");
    }

    #[test]
    fn nested_names_as_rails_parses_them() {
        let m = form(
            "poll[options][]=a&poll[options][]=b&poll[expires_in]=60\
             &fields_attributes[0][name]=n0&fields_attributes[0][value]=v0\
             &fields_attributes[1][name]=n1&source[privacy]=private&media_ids[]=7",
        )
        .unwrap();
        assert_eq!(
            m,
            json!({
                "poll": {"options": ["a", "b"], "expires_in": "60"},
                "fields_attributes": {"0": {"name": "n0", "value": "v0"}, "1": {"name": "n1"}},
                "source": {"privacy": "private"},
                "media_ids": ["7"],
            })
        );
    }

    #[test]
    fn lists_of_objects_start_a_new_object_when_the_key_repeats() {
        let m = form("a[][b]=1&a[][c]=2&a[][b]=3&x[][y][]=1&x[][y][]=2").unwrap();
        assert_eq!(m["a"], json!([{"b": "1", "c": "2"}, {"b": "3"}]));
        assert_eq!(m["x"], json!([{"y": ["1", "2"]}]));
    }

    #[test]
    fn odd_names_are_plain_keys_and_later_plain_values_win() {
        let m = form("a[b=1&[c]=2&d[e]f=3&g=1&g=2&h[i]=1&h=4").unwrap();
        assert_eq!(m["a[b"], "1");
        assert_eq!(m["[c]"], "2");
        assert_eq!(m["d[e]f"], "3");
        assert_eq!(m["g"], "2");
        assert_eq!(m["h"], "4");
    }

    #[test]
    fn conflicting_and_too_deep_names_are_400() {
        for bad in [
            "a=1&a[b]=2",
            "a[]=1&a[b]=2",
            "a[b]=1&a[]=2",
            "a[][]=1",
            "a[b][c][d][e][f]=1",
        ] {
            let e = form(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
        }
        assert!(form("a[b][c][d][e]=1").is_ok());
    }

    #[test]
    fn object_lists_from_every_shape() {
        let by_index = Params(
            form("f[1][name]=b&f[0][name]=a&f[10][name]=c")
                .unwrap()
                .as_object()
                .unwrap()
                .clone(),
            Files::default(),
        );
        let names: Vec<_> = by_index
            .object_list("f")
            .unwrap()
            .iter()
            .map(|p| p.str("name").unwrap().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        let listed = Params(
            json!({"f": [{"name": "x"}], "g": {"zero": {}}, "h": "s"})
                .as_object()
                .unwrap()
                .clone(),
            Files::default(),
        );
        assert_eq!(listed.object_list("f").unwrap().len(), 1);
        assert!(listed.object_list("g").is_err());
        assert!(listed.object_list("h").is_err());
        assert!(listed.object_list("missing").unwrap().is_empty());
    }

    async fn multipart(
        body: &'static str,
        parts_max: usize,
    ) -> ApiResult<(Map<String, Value>, Files)> {
        let body = body.replace('\n', "\r\n");
        let mut files = Files::default();
        let map = read_multipart(
            Body::from(body),
            "multipart/form-data; boundary=XyZ",
            ParseBounds {
                depth_max: 4,
                parts_max,
            },
            &mut files,
        )
        .await?;
        Ok((map, files))
    }

    const GOOD: &str = "--XyZ\n\
Content-Disposition: form-data; name=\"status\"\n\n\
hello\n\
--XyZ\n\
Content-Disposition: form-data; name=\"source[privacy]\"\n\n\
private\n\
--XyZ\n\
Content-Disposition: form-data; name=\"media_ids[]\"\n\n\
1\n\
--XyZ\n\
Content-Disposition: form-data; name=\"media_ids[]\"\n\n\
2\n\
--XyZ\n\
Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\n\
Content-Type: image/png\n\n\
\u{89}PNG\n\
--XyZ\n\
Content-Disposition: form-data; name=\"blank\"; filename=\"\"\n\
Content-Type: application/octet-stream\n\n\
\n\
--XyZ--\n";

    #[tokio::test]
    async fn multipart_text_nested_and_files() {
        let (map, files) = multipart(GOOD, 8).await.unwrap();
        assert_eq!(
            Value::Object(map),
            json!({"status": "hello", "source": {"privacy": "private"}, "media_ids": ["1", "2"]})
        );
        let file = &files.0["file"];
        assert_eq!(file.file_name.as_deref(), Some("a.png"));
        assert_eq!(file.content_type.as_deref(), Some("image/png"));
        assert_eq!(&file.bytes[..], "\u{89}PNG".as_bytes());
        assert!(
            !files.0.contains_key("blank"),
            "an empty file input is no file"
        );
    }

    #[tokio::test]
    async fn multipart_refusals() {
        assert_eq!(
            multipart(GOOD, 5).await.unwrap_err().status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let truncated = "--XyZ\nContent-Disposition: form-data; name=\"status\"\n\nhel";
        assert_eq!(
            multipart(truncated, 8).await.unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let no_end = "--XyZ\nContent-Disposition: form-data; name=\"status\"\n\nhello\n";
        assert_eq!(
            multipart(no_end, 8).await.unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let nameless = "--XyZ\nContent-Disposition: form-data\n\nhello\n--XyZ--\n";
        let e = multipart(nameless, 8).await.unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.error.contains("no name"), "{}", e.error);
        let mut bytes = b"--XyZ\r\nContent-Disposition: form-data; name=\"s\"\r\n\r\n".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"\r\n--XyZ--\r\n");
        let mut files = Files::default();
        let e = read_multipart(
            Body::from(bytes),
            "multipart/form-data; boundary=XyZ",
            BOUNDS,
            &mut files,
        )
        .await
        .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn body_past_the_cap_is_413_not_400() {
        let limited = Body::new(http_body_util::Limited::new(
            Body::from(GOOD.replace('\n', "\r\n")),
            40,
        ));
        let mut files = Files::default();
        let e = read_multipart(
            limited,
            "multipart/form-data; boundary=XyZ",
            BOUNDS,
            &mut files,
        )
        .await
        .unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn typed_getters_refuse_wrong_types() {
        let p = Params(
            json!({"sensitive": "banana", "limit": "-1", "in_reply_to_id": "12x", "ok": "true"})
                .as_object()
                .unwrap()
                .clone(),
            Files::default(),
        );
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
            Files::default(),
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
            Files::default(),
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
