//! Image processing for uploads: decide the type from the bytes, refuse what
//! is too big before decoding it, decode under the decoder's own limits,
//! apply the EXIF orientation, and re-encode, which drops every piece of
//! metadata (EXIF with GPS positions, comments, ICC profiles).
//!
//! Pure and blocking: the service runs it on a blocking thread behind a
//! semaphore (`media_decode_concurrency`).

use std::io::Cursor;

use image::codecs::png::PngEncoder;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageFormat, ImageReader,
};

use crate::blurhash;

/// The bounds one decode runs under (from `Limits`).
#[derive(Clone, Copy, Debug)]
pub struct ImageBounds {
    pub max_bytes: usize,
    pub max_pixels: u64,
    /// Originals above this are scaled down to it before they are stored.
    pub original_max_pixels: u64,
    pub max_side_px: u32,
    pub max_alloc_bytes: u64,
    pub jpeg_quality: u8,
}

/// Why an image was refused; every case is the client's (422).
#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not JPEG, PNG, GIF or WebP, judged by its bytes.
    Unsupported,
    TooManyBytes,
    /// Declares more pixels (or a longer side) than allowed.
    TooManyPixels {
        width: u32,
        height: u32,
    },
    /// Looked like a supported image but could not be decoded.
    Corrupt(String),
}

impl std::fmt::Display for ImageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageError::Unsupported => {
                write!(
                    f,
                    "Validation failed: File is not a supported image (JPEG, PNG, GIF or WebP)"
                )
            }
            ImageError::TooManyBytes => write!(f, "Validation failed: File is too large"),
            ImageError::TooManyPixels { width: 0, .. } => {
                write!(f, "Validation failed: Image is too large")
            }
            ImageError::TooManyPixels { width, height } => write!(
                f,
                "Validation failed: Image is too large ({width}x{height} pixels)"
            ),
            ImageError::Corrupt(why) => {
                write!(
                    f,
                    "Validation failed: File could not be processed as an image ({why})"
                )
            }
        }
    }
}

/// One encoded picture.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// "jpg" or "png".
    pub ext: &'static str,
    pub width: u32,
    pub height: u32,
}

impl Encoded {
    pub fn content_type(&self) -> &'static str {
        content_type_of(self.ext)
    }
}

pub fn content_type_of(ext: &str) -> &'static str {
    match ext {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// An attachment: the full-size picture, its preview and its blurhash.
#[derive(Debug)]
pub struct Processed {
    pub original: Encoded,
    pub small: Encoded,
    pub blurhash: String,
}

/// The formats we take, decided by magic bytes alone.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP) => {
            Some(f)
        }
        _ => None,
    }
}

/// Decodes under `bounds`: type from the content, dimensions from the header
/// checked before any pixel is allocated, then the decode itself with the
/// decoder's limits set, then the EXIF orientation applied.
/// An animated GIF or WebP gives its first frame.
pub fn decode(bytes: &[u8], bounds: &ImageBounds) -> Result<DynamicImage, ImageError> {
    if bytes.len() > bounds.max_bytes {
        return Err(ImageError::TooManyBytes);
    }
    let format = sniff(bytes).ok_or(ImageError::Unsupported)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(bounds.max_side_px);
    limits.max_image_height = Some(bounds.max_side_px);
    limits.max_alloc = Some(bounds.max_alloc_bytes);

    // 1. The header only.
    let (width, height) = {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        reader.limits(limits.clone());
        reader.into_dimensions().map_err(|e| refusal(e, 0, 0))?
    };
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt("empty image".into()));
    }
    if width > bounds.max_side_px
        || height > bounds.max_side_px
        || width as u64 * height as u64 > bounds.max_pixels
    {
        return Err(ImageError::TooManyPixels { width, height });
    }

    // 2. The pixels, still under the decoder's limits.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| refusal(e, width, height))?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| refusal(e, width, height))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img)
}

fn refusal(e: image::ImageError, width: u32, height: u32) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooManyPixels { width, height },
        image::ImageError::Unsupported(u) => ImageError::Corrupt(u.to_string()),
        other => ImageError::Corrupt(other.to_string()),
    }
}

/// Scales down (never up) to fit in `max_w` x `max_h`, keeping the aspect ratio.
pub fn fit(img: &DynamicImage, max_w: u32, max_h: u32) -> Option<DynamicImage> {
    if img.width() <= max_w && img.height() <= max_h {
        return None;
    }
    Some(img.thumbnail(max_w, max_h))
}

/// Scales down (keeping the aspect ratio) to at most `max_pixels`, or None if it already fits.
pub fn shrink_to_pixels(img: &DynamicImage, max_pixels: u64) -> Option<DynamicImage> {
    let (w, h) = (img.width() as u64, img.height() as u64);
    if w * h <= max_pixels || max_pixels == 0 {
        return None;
    }
    let scale = (max_pixels as f64 / (w * h) as f64).sqrt();
    let nw = ((w as f64 * scale).floor() as u32).max(1);
    let nh = ((h as f64 * scale).floor() as u32).max(1);
    Some(img.thumbnail(nw, nh))
}

/// True if some pixel is not fully opaque.
fn has_transparency(img: &DynamicImage) -> bool {
    match img {
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p[3] < 255),
        DynamicImage::ImageLumaA8(b) => b.pixels().any(|p| p[1] < 255),
        other => other.color().has_alpha(),
    }
}

/// JPEG for opaque pictures, PNG when there is transparency. Nothing but
/// pixels goes in, so nothing else comes out.
pub fn encode(img: &DynamicImage, jpeg_quality: u8) -> Result<Encoded, ImageError> {
    let (width, height) = (img.width(), img.height());
    let mut out = Vec::new();
    let failed = |e: image::ImageError| ImageError::Corrupt(format!("encoding failed: {e}"));
    let ext = if has_transparency(img) {
        let rgba;
        let buf = match img.as_rgba8() {
            Some(b) => b,
            None => {
                rgba = img.to_rgba8();
                &rgba
            }
        };
        PngEncoder::new(&mut out)
            .write_image(buf.as_raw(), width, height, ExtendedColorType::Rgba8)
            .map_err(failed)?;
        "png"
    } else {
        let rgb;
        let buf = match img.as_rgb8() {
            Some(b) => b,
            None => {
                rgb = img.to_rgb8();
                &rgb
            }
        };
        // Sides are at most `media_image_max_side_px` (well under JPEG's 65535).
        let (w16, h16) = match (u16::try_from(width), u16::try_from(height)) {
            (Ok(w), Ok(h)) => (w, h),
            _ => return Err(ImageError::TooManyPixels { width, height }),
        };
        // fact: JPEG quality is a percentage (1-100).
        jpeg_encoder::Encoder::new(&mut out, jpeg_quality.clamp(1, 100))
            .encode(buf.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
            .map_err(|e| ImageError::Corrupt(format!("encoding failed: {e}")))?;
        "jpg"
    };
    Ok(Encoded {
        bytes: out,
        ext,
        width,
        height,
    })
}

/// BlurHash with 4x3 components, computed on a tiny downscale of `img`.
pub fn blurhash_of(img: &DynamicImage) -> String {
    let tiny = img.thumbnail(32, 32).to_rgb8();
    blurhash::encode(
        tiny.as_raw(),
        tiny.width() as usize,
        tiny.height() as usize,
        4,
        3,
    )
    .unwrap_or_default()
}

/// An attachment: decoded, re-encoded at full size, plus a preview that fits
/// in `preview_side_px` squared and a blurhash.
pub fn process_attachment(
    bytes: &[u8],
    bounds: &ImageBounds,
    preview_side_px: u32,
) -> Result<Processed, ImageError> {
    let decoded = decode(bytes, bounds)?;
    let img = match shrink_to_pixels(&decoded, bounds.original_max_pixels) {
        Some(smaller) => {
            drop(decoded);
            smaller
        }
        None => decoded,
    };
    let original = encode(&img, bounds.jpeg_quality)?;
    let scaled = fit(&img, preview_side_px, preview_side_px);
    let small_img = scaled.as_ref().unwrap_or(&img);
    let small = encode(small_img, bounds.jpeg_quality)?;
    let blurhash = blurhash_of(small_img);
    Ok(Processed {
        original,
        small,
        blurhash,
    })
}

/// An avatar or header: decoded and scaled down to fit `max_w` x `max_h`.
pub fn process_profile_image(
    bytes: &[u8],
    bounds: &ImageBounds,
    max_w: u32,
    max_h: u32,
) -> Result<Encoded, ImageError> {
    let img = decode(bytes, bounds)?;
    let scaled = fit(&img, max_w, max_h);
    encode(scaled.as_ref().unwrap_or(&img), bounds.jpeg_quality)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn bounds() -> ImageBounds {
        ImageBounds {
            max_bytes: 1 << 24,
            max_pixels: 4_000_000,
            original_max_pixels: 2_000_000,
            max_side_px: 4_000,
            max_alloc_bytes: 64 << 20,
            jpeg_quality: 85,
        }
    }

    fn png_bytes(img: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn opaque_png_becomes_jpeg_with_preview_and_blurhash() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(1000, 500, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let p = process_attachment(&png_bytes(&img), &bounds(), 640).unwrap();
        assert_eq!(p.original.ext, "jpg");
        assert_eq!((p.original.width, p.original.height), (1000, 500));
        assert_eq!((p.small.width, p.small.height), (640, 320));
        assert_eq!(p.blurhash.len(), 28);
        assert_eq!(sniff(&p.original.bytes), Some(ImageFormat::Jpeg));
    }

    #[test]
    fn large_originals_are_scaled_down_to_the_pixel_cap() {
        let img = DynamicImage::ImageRgb8(RgbImage::new(2000, 1500));
        let p = process_attachment(&png_bytes(&img), &bounds(), 640).unwrap();
        let (w, h) = (p.original.width as u64, p.original.height as u64);
        assert!(w * h <= 2_000_000, "{w}x{h}");
        assert!(w * h > 1_900_000, "{w}x{h}: not shrunk more than needed");
        assert!((w as f64 / h as f64 - 4.0 / 3.0).abs() < 0.01);
    }

    #[test]
    fn transparency_stays_png() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(20, 10, |x, _| {
            Rgba([255, 0, 0, if x < 10 { 0 } else { 255 }])
        }));
        let p = process_attachment(&png_bytes(&img), &bounds(), 640).unwrap();
        assert_eq!(p.original.ext, "png");
        assert_eq!((p.small.width, p.small.height), (20, 10), "never scaled up");
    }

    #[test]
    fn not_an_image_is_refused_whatever_it_claims() {
        assert!(matches!(
            decode(b"\x89PNG\r\n\x1a\n but not really", &bounds()),
            Err(ImageError::Corrupt(_))
        ));
        assert_eq!(
            decode(b"hello world", &bounds()).unwrap_err(),
            ImageError::Unsupported
        );
    }

    /// A PNG declaring 50000x50000 pixels, with almost no pixel data: refused
    /// from the header, before anything is allocated.
    #[test]
    fn decompression_bomb_refused_from_the_header() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        // A few bytes of (truncated) compressed data, as a real bomb would start.
        for (kind, data) in [(&b"IDAT"[..], &b"\x78\x9c\x01\x02"[..]), (b"IEND", b"")] {
            let mut chunk = kind.to_vec();
            chunk.extend_from_slice(data);
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            png.extend_from_slice(&chunk);
            png.extend_from_slice(&crc32(&chunk).to_be_bytes());
        }
        let mut b = bounds();
        b.max_side_px = 100_000;
        let r = decode(&png, &b);
        assert!(
            matches!(
                r,
                Err(ImageError::TooManyPixels {
                    width: 50_000,
                    height: 50_000
                })
            ),
            "{r:?}"
        );
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in data {
            crc ^= byte as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
