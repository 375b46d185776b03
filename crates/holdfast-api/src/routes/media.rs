//! /api/v1/media, /api/v2/media, profile pictures, and serving the bytes
//! under /system/media/<key>.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::media::UploadInput;
use holdfast_store::ProfileImage;
use serde_json::Value;

use super::helpers::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

/// Both versions process synchronously and answer 200 with `url` set:
/// Mastodon's v2 may answer 202 for slow media, and 200 is what it sends
/// for images processed at once.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:media")?;
    let file = params
        .file("file")
        .ok_or_else(|| ApiError::unprocessable("Validation failed: File can't be blank"))?
        .bytes
        .clone();
    let row = state
        .service
        .upload_media(
            me,
            UploadInput {
                file,
                thumbnail: params.file("thumbnail").map(|u| u.bytes.clone()),
                description: params.str("description")?,
                focus: params.str("focus")?,
            },
        )
        .await?;
    Ok(Json(entities::media_attachment(&state.service, &row)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:media")?;
    let row = state.service.media_attachment(me, path_id(&id)?).await?;
    Ok(Json(entities::media_attachment(&state.service, &row)))
}

/// Description, focus and `thumbnail` (a new preview), while the upload is
/// not attached (404 after, as Mastodon does).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:media")?;
    let row = state
        .service
        .update_media(
            me,
            path_id(&id)?,
            params.str("description")?,
            params.str("focus")?,
            params.file("thumbnail").map(|u| u.bytes.clone()),
        )
        .await?;
    Ok(Json(entities::media_attachment(&state.service, &row)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:media")?;
    state.service.delete_media(me, path_id(&id)?).await?;
    Ok(Json(Value::Object(Default::default())))
}

pub async fn delete_avatar(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    clear(state, caller, ProfileImage::Avatar).await
}

pub async fn delete_header(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    clear(state, caller, ProfileImage::Header).await
}

async fn clear(state: AppState, caller: Caller, which: ProfileImage) -> ApiResult<Json<Value>> {
    let me = caller.user("write:accounts")?;
    let account = state.service.clear_profile_image(me, which).await?;
    Ok(Json(entities::credential_account(&state.service, &account)))
}

/// The bytes behind a media URL. Keys are unguessable and content under a
/// key never changes, so caching is for ever and the key is the ETag.
pub async fn serve(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !holdfast_store::media::valid_key(&key) {
        return ApiError::not_found().into_response();
    }
    let etag = format!("\"{key}\"");
    let content_type =
        holdfast_service::imaging::content_type_of(key.rsplit('.').next().unwrap_or(""));
    let mut fixed = HeaderMap::new();
    fixed.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    fixed.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    fixed.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "public, max-age={}, immutable",
        state.service.limits().media_cache_max_age_s
    )) {
        fixed.insert(header::CACHE_CONTROL, v);
    }
    fixed.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Public pictures: web clients on other origins may fetch them (canvas,
    // downloads), never with credentials.
    fixed.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    fixed.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        fixed.insert(header::ETAG, v);
    }
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, fixed).into_response();
    }
    let len = match state.service.media_size(&key).await {
        Ok(n) => n,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, len));
    let (status, start, end) = match range {
        Some(RangeAnswer::Unsatisfiable) => {
            // A fresh set of headers: the file's year-long cache headers and
            // ETag must not make a shared cache keep this refusal in its place.
            let mut r = ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "Range Not Satisfiable")
                .into_response();
            let h = r.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
        Some(RangeAnswer::Part(start, end)) => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                fixed.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, start, end)
        }
        Some(RangeAnswer::Whole) | None => (StatusCode::OK, 0, len.saturating_sub(1)),
    };
    let body_len = if len == 0 { 0 } else { end - start + 1 };
    fixed.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    if body_len == 0 {
        return (status, fixed, Body::empty()).into_response();
    }
    let chunk = state.service.limits().media_serve_chunk_bytes.max(1) as u64;
    let service = state.service.clone();
    // Read one chunk at a time as the client takes them: memory per download
    // is one chunk, whatever the file's size.
    let chunks = futures_util::stream::unfold(Some(start), move |next| {
        let (service, key) = (service.clone(), key.clone());
        async move {
            let pos = next?;
            let want = chunk.min(end + 1 - pos);
            match service.media_chunk(&key, pos, want as usize).await {
                Ok(bytes) if !bytes.is_empty() => {
                    let after = pos + bytes.len() as u64;
                    let next = (after <= end).then_some(after);
                    Some((Ok::<_, std::io::Error>(Bytes::from(bytes)), next))
                }
                // Shorter than announced (deleted meanwhile) or unreadable:
                // end the body early, which the client sees as a cut transfer.
                Ok(_) => Some((Err(std::io::Error::other("media file shrank")), None)),
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    (status, fixed, Body::from_stream(chunks)).into_response()
}

#[derive(Debug, PartialEq, Eq)]
enum RangeAnswer {
    /// Inclusive byte positions.
    Part(u64, u64),
    Unsatisfiable,
    /// Malformed, several ranges, or not bytes: answered with the whole body
    /// (RFC 9110 lets a server ignore Range).
    Whole,
}

/// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range against a body of `len` bytes.
fn parse_range(value: &str, len: u64) -> RangeAnswer {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => RangeAnswer::Whole,
        // The last n bytes.
        (true, false) => match num(b) {
            None => RangeAnswer::Whole,
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(_) if len == 0 => RangeAnswer::Unsatisfiable,
            Some(n) => RangeAnswer::Part(len.saturating_sub(n), len - 1),
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return RangeAnswer::Whole;
            };
            let end = if b.is_empty() { Some(u64::MAX) } else { num(b) };
            let Some(end) = end else {
                return RangeAnswer::Whole;
            };
            if end < start {
                return RangeAnswer::Whole;
            }
            if start >= len {
                return RangeAnswer::Unsatisfiable;
            }
            RangeAnswer::Part(start, end.min(len - 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAnswer::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=-1000", 100), RangeAnswer::Part(0, 99));
        assert_eq!(parse_range("bytes=50-1000", 100), RangeAnswer::Part(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAnswer::Whole);
        assert_eq!(parse_range("bytes=9-1", 100), RangeAnswer::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeAnswer::Whole);
        assert_eq!(parse_range("bytes=x-1", 100), RangeAnswer::Whole);
    }
}
