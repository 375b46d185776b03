//! A BlurHash encoder (the algorithm published by Wolt, as Mastodon uses it
//! for `blurhash`): a few cosine components of the image in linear light,
//! quantised and written in base 83. Run it on a tiny downscale: the cost is
//! pixels x components.

const BASE83: &[u8; 83] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

fn base83(value: u32, digits: u32, out: &mut String) {
    for i in 1..=digits {
        let digit = (value / 83u32.pow(digits - i)) % 83;
        out.push(BASE83[digit as usize] as char);
    }
}

fn srgb_to_linear(v: u8) -> f64 {
    let v = v as f64 / 255.0;
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f64) -> u32 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        (v * 12.92 * 255.0 + 0.5) as u32
    } else {
        ((1.055 * v.powf(1.0 / 2.4) - 0.055) * 255.0 + 0.5) as u32
    }
}

fn sign_pow(v: f64, exp: f64) -> f64 {
    v.abs().powf(exp).copysign(v)
}

/// The hash of an RGB image (`rgb` is `width * height * 3` bytes, row by row)
/// with `x_components` x `y_components` components (each 1..=9).
/// None if the sizes do not fit.
pub fn encode(
    rgb: &[u8],
    width: usize,
    height: usize,
    x_components: usize,
    y_components: usize,
) -> Option<String> {
    if width == 0
        || height == 0
        || rgb.len() != width * height * 3
        || !(1..=9).contains(&x_components)
        || !(1..=9).contains(&y_components)
    {
        return None;
    }
    let linear: Vec<f64> = rgb.iter().map(|&v| srgb_to_linear(v)).collect();
    let pi = std::f64::consts::PI;
    let mut factors: Vec<[f64; 3]> = Vec::with_capacity(x_components * y_components);
    for j in 0..y_components {
        for i in 0..x_components {
            let normalisation = if i == 0 && j == 0 { 1.0 } else { 2.0 };
            let mut sum = [0.0f64; 3];
            for y in 0..height {
                let basis_y = (pi * j as f64 * y as f64 / height as f64).cos();
                for x in 0..width {
                    let basis = (pi * i as f64 * x as f64 / width as f64).cos() * basis_y;
                    let p = (y * width + x) * 3;
                    sum[0] += basis * linear[p];
                    sum[1] += basis * linear[p + 1];
                    sum[2] += basis * linear[p + 2];
                }
            }
            let scale = normalisation / (width * height) as f64;
            factors.push([sum[0] * scale, sum[1] * scale, sum[2] * scale]);
        }
    }

    let mut hash = String::with_capacity(4 + 2 * factors.len());
    let size_flag = (x_components - 1) + (y_components - 1) * 9;
    base83(size_flag as u32, 1, &mut hash);

    let dc = factors[0];
    let ac = &factors[1..];
    let maximum_value = if ac.is_empty() {
        base83(0, 1, &mut hash);
        1.0
    } else {
        let actual_max = ac
            .iter()
            .flat_map(|c| c.iter())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        // fact: the blurhash format quantises the maximum AC value to 0..=82.
        let quantised = ((actual_max * 166.0 - 0.5).floor()).clamp(0.0, 82.0) as u32;
        base83(quantised, 1, &mut hash);
        (quantised as f64 + 1.0) / 166.0
    };

    let dc_value =
        (linear_to_srgb(dc[0]) << 16) + (linear_to_srgb(dc[1]) << 8) + linear_to_srgb(dc[2]);
    base83(dc_value, 4, &mut hash);

    for c in ac {
        let q = |v: f64| -> u32 {
            (sign_pow(v / maximum_value, 0.5) * 9.0 + 9.5)
                .floor()
                // fact: the blurhash format quantises each AC component to 0..=18.
                .clamp(0.0, 18.0) as u32
        };
        base83(q(c[0]) * 19 * 19 + q(c[1]) * 19 + q(c[2]), 2, &mut hash);
    }
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected hashes computed with the reference Python implementation
    /// (PyPI `blurhash` 1.1.5) on the same pixels.
    #[test]
    fn matches_the_reference_implementation() {
        let white = vec![255u8; 4 * 4 * 3];
        assert_eq!(
            encode(&white, 4, 4, 4, 3).unwrap(),
            "L~TSUA~qfQ~q~q%MfQ%MfQfQfQfQ"
        );
        let (w, h) = (6usize, 4usize);
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                rgb.push(((x * 40 + y * 10) % 256) as u8);
                rgb.push(((y * 60 + x * 5) % 256) as u8);
                rgb.push(((x * y * 20 + 30) % 256) as u8);
            }
        }
        assert_eq!(
            encode(&rgb, w, h, 4, 3).unwrap(),
            "LcF=gY2+NX-mzZNGbKrxQ,npj]aK"
        );
    }

    #[test]
    fn refuses_bad_sizes() {
        assert!(encode(&[0; 5], 1, 1, 4, 3).is_none());
        assert!(encode(&[0; 3], 1, 1, 10, 3).is_none());
        assert!(encode(&[], 0, 0, 4, 3).is_none());
    }
}
