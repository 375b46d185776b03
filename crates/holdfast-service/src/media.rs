//! Media: uploads and their rules, avatars and headers, and the clean-up of
//! uploads nobody attached.
//!
//! Order of a write, so that "a 2xx means durable" and nothing half-done is
//! served: process (bounded pool) → bytes into the media store (durable when
//! `put` returns) → the row in one transaction. A failure after the bytes
//! landed removes them again; a crash in between leaves bytes no row names,
//! which are never listed and cost only disk.

use std::time::Duration;

use holdfast_store::{AccountRow, Id, MediaRow, MediaUpdate, NewMedia, ProfileImage};
use serde_json::json;

use crate::imaging::{self, Encoded, ImageBounds};
use crate::threads::{DedicatedThreads, Refusal};
use crate::{Service, ServiceError, ServiceResult};

/// Decoding runs here: at most `media_decode_concurrency` at once, on that
/// many dedicated threads (see [`DedicatedThreads`] for why not tokio's
/// blocking pool); a request that cannot get a slot within
/// `media_decode_wait_ms` is refused with 503 rather than queued for ever.
#[derive(Clone)]
pub struct DecodePool(DedicatedThreads);

impl DecodePool {
    pub fn new(concurrency: usize, wait: Duration) -> DecodePool {
        DecodePool(DedicatedThreads::new("decode", concurrency, wait))
    }

    /// Decodes running now (for `/metrics`).
    pub fn busy(&self) -> usize {
        self.0.busy()
    }

    async fn run<T, F>(&self, f: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match self.0.run(f).await {
            Ok(Ok(value)) => Ok(value),
            // A decoder that panics on a file is refusing that file.
            Ok(Err(_)) => Err(ServiceError::Unprocessable(
                "Validation failed: File could not be processed as an image".into(),
            )),
            Err(Refusal::Busy) => Err(ServiceError::Unavailable(
                "Too many images are being processed, retry shortly".into(),
            )),
            Err(Refusal::Closed) => Err(ServiceError::Unavailable(
                "image processing is shut down".into(),
            )),
            Err(Refusal::Lost) => Err(ServiceError::Internal("image processing stopped".into())),
        }
    }
}

pub struct UploadInput<B> {
    pub file: B,
    /// A picture to use as the preview instead of one made from `file`.
    pub thumbnail: Option<B>,
    pub description: Option<String>,
    /// `"x,y"` as Mastodon takes it.
    pub focus: Option<String>,
}

/// `"x,y"`, each in -1.0..=1.0.
pub fn parse_focus(raw: &str) -> ServiceResult<(f64, f64)> {
    let bad = || {
        ServiceError::Unprocessable(
            "Validation failed: focus must be two numbers x,y between -1.0 and 1.0".into(),
        )
    };
    let (x, y) = raw.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
        return Err(bad());
    }
    Ok((x, y))
}

fn size_json(e: &Encoded) -> serde_json::Value {
    json!({
        "width": e.width,
        "height": e.height,
        "size": format!("{}x{}", e.width, e.height),
        "aspect": e.width as f64 / e.height.max(1) as f64,
    })
}

fn random_stem() -> ServiceResult<String> {
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw)
        .map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

impl Service {
    fn image_bounds(&self) -> ImageBounds {
        let l = self.limits();
        ImageBounds {
            max_bytes: l.media_image_max_bytes,
            max_pixels: l.media_image_max_pixels,
            original_max_pixels: l.media_original_max_pixels,
            max_side_px: l.media_image_max_side_px,
            max_alloc_bytes: l.media_decode_alloc_max_bytes,
            jpeg_quality: l.media_jpeg_quality,
        }
    }

    fn check_description(&self, d: &Option<String>) -> ServiceResult<()> {
        let max = self.limits().media_description_max_chars;
        if d.as_ref().is_some_and(|d| d.chars().count() > max) {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Description is too long (maximum is {max} characters)"
            )));
        }
        Ok(())
    }

    /// An edit's `media_attributes[]`, checked as `PUT /api/v1/media/:id`
    /// checks them; entries for media the edit does not keep are ignored
    /// (as Mastodon does), at most one per attachment.
    pub(crate) fn check_media_attributes(
        &self,
        given: Vec<crate::posts::MediaAttributes>,
        media_ids: &[Id],
    ) -> ServiceResult<Vec<(Id, MediaUpdate)>> {
        let mut checked: Vec<(Id, MediaUpdate)> = Vec::new();
        for a in given {
            if !media_ids.contains(&a.id) || checked.iter().any(|(id, _)| *id == a.id) {
                continue;
            }
            self.check_description(&a.description)?;
            let focus = a
                .focus
                .as_deref()
                .filter(|f| !f.is_empty())
                .map(parse_focus)
                .transpose()?;
            checked.push((
                a.id,
                MediaUpdate {
                    description: a.description,
                    focus,
                    preview: None,
                },
            ));
        }
        Ok(checked)
    }

    /// Stores encoded pictures under fresh keys; all or none.
    async fn put_all(&self, items: Vec<(String, Vec<u8>)>) -> ServiceResult<()> {
        let mut done: Vec<String> = Vec::new();
        for (key, bytes) in items {
            if let Err(e) = self.media.put(&key, bytes).await {
                self.forget_media(&done).await;
                return Err(e.into());
            }
            done.push(key);
        }
        Ok(())
    }

    /// Removes stored bytes; a failure is logged, not returned: the row that
    /// named them is already gone, so at worst they are unreachable garbage.
    pub async fn forget_media(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        if let Err(e) = self.media.delete(keys).await {
            tracing::warn!(error = %e, count = keys.len(), "could not remove media files");
        }
    }

    /// `POST /api/v1/media` and `/api/v2/media`: processed synchronously.
    pub async fn upload_media<B>(&self, me: Id, input: UploadInput<B>) -> ServiceResult<MediaRow>
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        self.check_description(&input.description)?;
        let focus = input
            .focus
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(parse_focus)
            .transpose()?;
        let bounds = self.image_bounds();
        let preview_px = self.limits().media_preview_side_px;
        let file = input.file;
        let thumbnail = input.thumbnail;
        let mut processed = self
            .decoder
            .run(move || {
                let mut p = imaging::process_attachment(file.as_ref(), &bounds, preview_px)?;
                if let Some(t) = thumbnail {
                    p.small = imaging::process_profile_image(
                        t.as_ref(),
                        &bounds,
                        preview_px,
                        preview_px,
                    )?;
                }
                Ok::<_, imaging::ImageError>(p)
            })
            .await?
            .map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
        let small_bytes = std::mem::take(&mut processed.small.bytes);

        let stem = random_stem()?;
        let file_key = format!("{stem}-original.{}", processed.original.ext);
        let preview_key = format!("{stem}-small.{}", processed.small.ext);
        let meta = json!({
            "original": size_json(&processed.original),
            "small": size_json(&processed.small),
        })
        .to_string();
        self.put_all(vec![
            (file_key.clone(), processed.original.bytes),
            (preview_key.clone(), small_bytes),
        ])
        .await?;
        let created = self
            .store
            .create_media(NewMedia {
                account_id: me,
                kind: "image".into(),
                description: input.description.filter(|d| !d.is_empty()),
                focus,
                meta,
                blurhash: Some(processed.blurhash),
                file_key: file_key.clone(),
                preview_key: preview_key.clone(),
            })
            .await;
        match created {
            Ok(row) => Ok(row),
            Err(e) => {
                self.forget_media(&[file_key, preview_key]).await;
                Err(e.into())
            }
        }
    }

    /// One of the caller's uploads (404 for anyone else's).
    pub async fn media_attachment(&self, me: Id, id: Id) -> ServiceResult<MediaRow> {
        Ok(self.store.media(me, id).await?)
    }

    /// `PUT /api/v1/media/:id`: description, focus and a new preview
    /// (`thumbnail`), while unattached.
    pub async fn update_media<B>(
        &self,
        me: Id,
        id: Id,
        description: Option<String>,
        focus: Option<String>,
        thumbnail: Option<B>,
    ) -> ServiceResult<MediaRow>
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        self.check_description(&description)?;
        let focus = focus
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(parse_focus)
            .transpose()?;
        let Some(thumbnail) = thumbnail else {
            let update = MediaUpdate {
                description,
                focus,
                preview: None,
            };
            return Ok(self.store.update_media(me, id, update).await?);
        };
        let before = self.store.media(me, id).await?;
        if before.status_id.is_some() {
            return Err(ServiceError::not_found());
        }
        let bounds = self.image_bounds();
        let side = self.limits().media_preview_side_px;
        let small = self
            .decoder
            .run(move || imaging::process_profile_image(thumbnail.as_ref(), &bounds, side, side))
            .await?
            .map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
        let mut meta: serde_json::Value =
            serde_json::from_str(&before.meta).unwrap_or_else(|_| json!({}));
        meta["small"] = size_json(&small);
        let key = format!("{}-small.{}", random_stem()?, small.ext);
        self.put_all(vec![(key.clone(), small.bytes)]).await?;
        let update = MediaUpdate {
            description,
            focus,
            preview: Some((key.clone(), meta.to_string())),
        };
        match self.store.update_media(me, id, update).await {
            Ok(row) => {
                self.forget_media(&[before.preview_key]).await;
                Ok(row)
            }
            Err(e) => {
                self.forget_media(&[key]).await;
                Err(e.into())
            }
        }
    }

    /// `DELETE /api/v1/media/:id`: only while no status uses it (422 otherwise).
    pub async fn delete_media(&self, me: Id, id: Id) -> ServiceResult<MediaRow> {
        let row = self.store.delete_media(me, id).await?;
        self.forget_media(&[row.file_key.clone(), row.preview_key.clone()])
            .await;
        Ok(row)
    }

    /// How many bytes are behind a media URL (404 if none).
    pub async fn media_size(&self, key: &str) -> ServiceResult<u64> {
        Ok(self.media.size(key).await?)
    }

    /// One chunk of the bytes behind a media URL.
    pub async fn media_chunk(&self, key: &str, start: u64, len: usize) -> ServiceResult<Vec<u8>> {
        Ok(self.media.read_range(key, start, len).await?)
    }

    /// Avatar or header from an uploaded picture, scaled down to its box:
    /// decoded and stored, not yet shown. Returns the new key for
    /// [`Service::use_profile_image`] (or [`Service::forget_media`] if the
    /// rest of the profile update fails).
    pub async fn store_profile_image<B>(
        &self,
        which: ProfileImage,
        file: B,
    ) -> ServiceResult<String>
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        let l = self.limits();
        let (w, h, name) = match which {
            ProfileImage::Avatar => (l.media_avatar_side_px, l.media_avatar_side_px, "avatar"),
            ProfileImage::Header => (l.media_header_width_px, l.media_header_height_px, "header"),
        };
        let bounds = self.image_bounds();
        let encoded = self
            .decoder
            .run(move || imaging::process_profile_image(file.as_ref(), &bounds, w, h))
            .await?
            .map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
        let key = format!("{}-{name}.{}", random_stem()?, encoded.ext);
        self.put_all(vec![(key.clone(), encoded.bytes)]).await?;
        Ok(key)
    }

    /// Shows a stored picture as the avatar or header; the one it replaces is removed.
    pub async fn use_profile_image(
        &self,
        me: Id,
        which: ProfileImage,
        key: String,
    ) -> ServiceResult<AccountRow> {
        match self
            .store
            .set_profile_image(me, which, Some(key.clone()))
            .await
        {
            Ok((account, old)) => {
                self.forget_media(&old.into_iter().collect::<Vec<_>>())
                    .await;
                Ok(account)
            }
            Err(e) => {
                self.forget_media(&[key]).await;
                Err(e.into())
            }
        }
    }

    /// Back to the default picture.
    pub async fn clear_profile_image(
        &self,
        me: Id,
        which: ProfileImage,
    ) -> ServiceResult<AccountRow> {
        let (account, old) = self.store.set_profile_image(me, which, None).await?;
        self.forget_media(&old.into_iter().collect::<Vec<_>>())
            .await;
        Ok(account)
    }

    /// Removes one batch of uploads never attached and older than
    /// `media_unattached_ttl_s`; returns how many.
    pub async fn sweep_unattached_media(&self) -> ServiceResult<usize> {
        let l = self.limits();
        let before = holdfast_store::ids::now_ms() - (l.media_unattached_ttl_s as i64) * 1000;
        let rows = self
            .store
            .take_expired_media(before, l.media_cleanup_batch_max)
            .await?;
        let keys: Vec<String> = rows
            .iter()
            .flat_map(|r| [r.file_key.clone(), r.preview_key.clone()])
            .collect();
        self.forget_media(&keys).await;
        Ok(rows.len())
    }

    /// The clean-up task `serve` starts: one bounded batch per tick, for ever.
    pub fn spawn_media_cleanup(&self) {
        let service = self.clone();
        let every = Duration::from_secs(self.limits().media_cleanup_interval_s.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match service.sweep_unattached_media().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "removed unattached uploads"),
                    Err(e) => tracing::warn!(error = %e, "media clean-up failed; will retry"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_parsing() {
        assert_eq!(parse_focus("0.5,-1").unwrap(), (0.5, -1.0));
        assert_eq!(parse_focus(" -0.25 , 0 ").unwrap(), (-0.25, 0.0));
        assert!(parse_focus("2,0").is_err());
        assert!(parse_focus("nan,0").is_err());
        assert!(parse_focus("0").is_err());
        assert!(parse_focus("a,b").is_err());
    }
}
