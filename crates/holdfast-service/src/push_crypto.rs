//! The cryptography of Web Push, on `ring` (already in the tree for TLS):
//! message encryption per RFC 8291 (`aes128gcm`, RFC 8188) and the VAPID
//! authorization of RFC 8292 (an ES256 JWT and the server's public key).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{aead, agreement, hkdf, signature};

use holdfast_store::VapidKeys;

/// fact: an uncompressed P-256 point (0x04, x, y), RFC 8291 §3.1.
const P256_POINT_BYTES: usize = 65;
/// fact: the subscription's auth secret, RFC 8291 §3.2.
const AUTH_SECRET_BYTES: usize = 16;
/// fact: RFC 8188 §2.1's record size; the message is one record, so at most this less the tag and delimiter.
const RECORD_SIZE: u32 = 4096;
/// fact: AES-128-GCM's tag (16) plus the last-record delimiter byte.
const RECORD_OVERHEAD: usize = 17;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PushCryptoError {
    #[error("keys.p256dh is not a P-256 public key")]
    BadPublicKey,
    #[error("keys.auth is not a 16-byte secret")]
    BadAuthSecret,
    #[error("the message is larger than one record")]
    TooLong,
    #[error("the VAPID key does not load")]
    BadVapidKey,
    #[error("the system random source failed")]
    Random,
}

/// Decodes base64 as browsers and apps send it: URL-safe or standard
/// alphabet, with or without padding.
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
        .or_else(|| STANDARD.decode(text.trim()).ok())
}

pub fn encode_b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The subscription's keys, checked: a point on the curve and a 16-byte secret.
pub fn check_keys(p256dh: &str, auth: &str) -> Result<(Vec<u8>, Vec<u8>), PushCryptoError> {
    let public = decode_b64(p256dh)
        .filter(|k| k.len() == P256_POINT_BYTES)
        .ok_or(PushCryptoError::BadPublicKey)?;
    let secret = decode_b64(auth)
        .filter(|k| k.len() == AUTH_SECRET_BYTES)
        .ok_or(PushCryptoError::BadAuthSecret)?;
    // ring checks the point when it is used: one throwaway agreement.
    let rng = SystemRandom::new();
    let mine = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| PushCryptoError::Random)?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &public);
    agreement::agree_ephemeral(mine, &peer, |_| ()).map_err(|_| PushCryptoError::BadPublicKey)?;
    Ok((public, secret))
}

/// An HKDF output length, as ring wants it.
struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[u8], out: &mut [u8]) -> Result<(), ring::error::Unspecified> {
    prk.expand(&[info], Len(out.len()))?.fill(out)
}

/// Encrypts `plaintext` for the subscription whose keys are `ua_public`
/// and `auth_secret`: the `aes128gcm` body of RFC 8291 §4 (header with a
/// fresh salt and our ephemeral public key, then one record).
pub fn encrypt(
    ua_public: &[u8],
    auth_secret: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, PushCryptoError> {
    if plaintext.len() + RECORD_OVERHEAD > RECORD_SIZE as usize {
        return Err(PushCryptoError::TooLong);
    }
    let rng = SystemRandom::new();
    let as_private = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| PushCryptoError::Random)?;
    let as_public = as_private
        .compute_public_key()
        .map_err(|_| PushCryptoError::Random)?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, ua_public);
    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" 0 ua_public as_public, 32)
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public.as_ref());
    let mut ikm = [0u8; 32];
    agreement::agree_ephemeral(as_private, &peer, |ecdh_secret| {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, auth_secret).extract(ecdh_secret);
        expand(&prk, &key_info, &mut ikm)
    })
    .map_err(|_| PushCryptoError::BadPublicKey)?
    .map_err(|_| PushCryptoError::BadPublicKey)?;

    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| PushCryptoError::Random)?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    expand(&prk, b"Content-Encoding: aes128gcm\0", &mut cek)
        .map_err(|_| PushCryptoError::Random)?;
    expand(&prk, b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| PushCryptoError::Random)?;
    let key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| PushCryptoError::Random)?,
    );
    let mut record = plaintext.to_vec();
    record.push(2); // the last (and only) record's delimiter, RFC 8188 §2
    key.seal_in_place_append_tag(
        aead::Nonce::assume_unique_for_key(nonce),
        aead::Aad::empty(),
        &mut record,
    )
    .map_err(|_| PushCryptoError::Random)?;

    let public = as_public.as_ref();
    let mut body = Vec::with_capacity(salt.len() + 5 + public.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(public.len() as u8);
    body.extend_from_slice(public);
    body.extend_from_slice(&record);
    Ok(body)
}

/// A new VAPID key pair (PKCS#8 private key, uncompressed public point).
pub fn new_vapid_keys() -> Result<VapidKeys, PushCryptoError> {
    let rng = SystemRandom::new();
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| PushCryptoError::Random)?;
    let pair = load_vapid(pkcs8.as_ref())?;
    Ok(VapidKeys {
        private_key: encode_b64(pkcs8.as_ref()),
        public_key: encode_b64(signature::KeyPair::public_key(&pair).as_ref()),
    })
}

fn load_vapid(pkcs8: &[u8]) -> Result<signature::EcdsaKeyPair, PushCryptoError> {
    signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|_| PushCryptoError::BadVapidKey)
}

/// The `Authorization` header value for a push service at `audience` (its
/// origin): `vapid t=<ES256 JWT>, k=<public key>` (RFC 8292 §3).
pub fn vapid_authorization(
    keys: &VapidKeys,
    audience: &str,
    expires_at_s: i64,
    subject: &str,
) -> Result<String, PushCryptoError> {
    let pkcs8 = decode_b64(&keys.private_key).ok_or(PushCryptoError::BadVapidKey)?;
    let pair = load_vapid(&pkcs8)?;
    let header = encode_b64(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims = serde_json::json!({"aud": audience, "exp": expires_at_s, "sub": subject});
    let signing_input = format!("{header}.{}", encode_b64(claims.to_string().as_bytes()));
    let signature = pair
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .map_err(|_| PushCryptoError::Random)?;
    Ok(format!(
        "vapid t={signing_input}.{}, k={}",
        encode_b64(signature.as_ref()),
        keys.public_key
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser_keys() -> (Vec<u8>, Vec<u8>) {
        let pair = new_vapid_keys().unwrap();
        (decode_b64(&pair.public_key).unwrap(), vec![7u8; 16])
    }

    #[test]
    fn the_body_has_the_rfc_8188_header_and_one_record() {
        let (public, auth) = browser_keys();
        let body = encrypt(&public, &auth, b"hello").unwrap();
        assert_eq!(&body[16..20], &4096u32.to_be_bytes());
        assert_eq!(body[20], 65);
        assert_eq!(body[21], 4);
        // header 86 + plaintext 5 + delimiter 1 + tag 16
        assert_eq!(body.len(), 86 + 5 + 1 + 16);
    }

    #[test]
    fn bad_keys_are_refused() {
        let (public, _) = browser_keys();
        let good = encode_b64(&public);
        assert!(check_keys(&good, &encode_b64(&[1u8; 16])).is_ok());
        let mut off_curve = public.clone();
        off_curve[40] ^= 1;
        assert_eq!(
            check_keys(&encode_b64(&off_curve), &encode_b64(&[1u8; 16])).unwrap_err(),
            PushCryptoError::BadPublicKey
        );
        assert_eq!(
            check_keys(&good, &encode_b64(&[1u8; 5])).unwrap_err(),
            PushCryptoError::BadAuthSecret
        );
        assert_eq!(
            check_keys("not base64!", "x").unwrap_err(),
            PushCryptoError::BadPublicKey
        );
        assert!(encrypt(&public, &[1u8; 16], &[0u8; 4096]).is_err());
    }

    #[test]
    fn the_vapid_header_is_a_three_part_jwt_and_the_key() {
        let keys = new_vapid_keys().unwrap();
        let h = vapid_authorization(&keys, "https://push.example", 1, "mailto:a@b").unwrap();
        let (t, k) = h
            .strip_prefix("vapid t=")
            .unwrap()
            .split_once(", k=")
            .unwrap();
        assert_eq!(k, keys.public_key);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode_b64(parts[2]).unwrap().len(), 64);
    }
}
