//! Secrets: random tokens, their stored hashes, and password hashing.
//!
//! Tokens, client secrets and authorization codes are 256-bit random values;
//! only their SHA-256 is stored, so a leaked database leaks no usable
//! credential. Passwords are hashed with argon2id on a bounded pool: each hash
//! costs ~19 MiB and tens of milliseconds of a core, so an unbounded number of
//! concurrent log-ins could starve everything else. The pool's threads run at
//! the lowest CPU priority (`SCHED_IDLE`) with a bounded queue: the log-ins a
//! flood gets past the rate limits use only the CPU that requests leave idle,
//! and past the queue a log-in is refused with 503 at once.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::threads::{Claim, DedicatedThreads, PoolBounds, Priority, Refusal};
use crate::ServiceError;

/// A fresh random secret, URL-safe (43 characters of base64url, no padding).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the OS random source is available");
    base64url(&bytes)
}

pub fn hash_secret(secret: &str) -> String {
    hex(&digest_secret(secret))
}

/// The SHA-256 of a secret, as bytes (`hash_secret` is its hex form).
pub fn digest_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Lower-case hex, as the stored hashes are written.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Compares two hashes without an early exit, so timing says nothing about where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Base64url without padding (RFC 4648 §5), as PKCE's S256 and our secrets use it.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// argon2id hashing and verification on a bounded number of dedicated threads.
#[derive(Clone)]
pub struct PasswordPool {
    threads: DedicatedThreads,
    /// Verified against when the e-mail is unknown, so a miss costs as much as a hit
    /// and response time does not reveal which addresses have accounts.
    decoy_hash: Arc<String>,
}

impl PasswordPool {
    pub fn new(concurrency: usize, queue_max: usize, wait: Duration) -> PasswordPool {
        let decoy =
            hash_now("decoy password that is never anyone's").expect("hashing a constant works");
        PasswordPool {
            threads: DedicatedThreads::with_bounds(
                "argon2",
                PoolBounds {
                    threads: concurrency,
                    queue_max: Some(queue_max),
                    wait,
                    priority: Priority::Idle,
                },
            ),
            decoy_hash: Arc::new(decoy),
        }
    }

    /// A place at the hashing threads, claimed before the rest of a log-in's
    /// or sign-up's work (looking the account or the app up): when the queue
    /// is full, the refusal is all a request costs, as a rate limit's is.
    pub fn turn(&self) -> Result<PasswordTurn<'_>, ServiceError> {
        match self.threads.claim() {
            Ok(claim) => Ok(PasswordTurn {
                claim,
                decoy_hash: &self.decoy_hash,
            }),
            Err(refusal) => Err(refused(refusal)),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.turn()?.hash(password).await
    }

    /// `stored = None` verifies against the decoy and always answers false.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, ServiceError> {
        self.turn()?.verify(password, stored).await
    }
}

/// A claimed place at the password-hashing threads (see [`PasswordPool::turn`]);
/// spent by one hash or one verification.
pub struct PasswordTurn<'a> {
    claim: Claim<'a>,
    decoy_hash: &'a Arc<String>,
}

impl PasswordTurn<'_> {
    pub async fn hash(self, password: String) -> Result<String, ServiceError> {
        self.run(move || hash_now(&password)).await?
    }

    /// `stored = None` verifies against the decoy and always answers false.
    pub async fn verify(
        self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, ServiceError> {
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy_hash.as_ref().clone());
        let ok = self
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|h| {
                        Argon2::default()
                            .verify_password(password.as_bytes(), &h)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(ok && real)
    }

    async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        match self.claim.run(f).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(ServiceError::Internal("password hashing failed".into())),
            Err(refusal) => Err(refused(refusal)),
        }
    }
}

fn refused(refusal: Refusal) -> ServiceError {
    match refusal {
        Refusal::Busy => {
            ServiceError::Unavailable("too many log-ins at once, try again shortly".into())
        }
        Refusal::Closed => ServiceError::Unavailable("shutting down".into()),
        Refusal::Lost => ServiceError::Internal("password hashing failed".into()),
    }
}

fn hash_now(password: &str) -> Result<String, ServiceError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_url_safe() {
        let a = random_secret();
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, random_secret());
    }

    #[test]
    fn hash_comparison() {
        assert!(same_hash(&hash_secret("x"), &hash_secret("x")));
        assert!(!same_hash(&hash_secret("x"), &hash_secret("y")));
    }

    #[tokio::test]
    async fn passwords_verify_and_decoy_never_matches() {
        let pool = PasswordPool::new(1, 4, Duration::from_secs(5));
        let h = pool.hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(pool
            .verify("correct horse".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!pool.verify("wrong".into(), Some(h)).await.unwrap());
        assert!(!pool
            .verify("decoy password that is never anyone's".into(), None)
            .await
            .unwrap());
    }
}
