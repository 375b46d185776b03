//! Whose a bearer token is, as far as budgets care.
//!
//! Signed-in budgets are kept per account and per token, as Mastodon does, so
//! the guard must know a token's account before it counts the request. It
//! asks a `TokenDirectory` (the binary answers from the database) and keeps
//! the answer for valid tokens in a bounded table for `ttl` after their last
//! use. Only budgets, priorities and bans (see `offenders`) depend on it:
//! handlers still authenticate every request themselves, so a token revoked
//! meanwhile is refused as usual.
//!
//! Unknown tokens are not remembered (a flood of made-up tokens would only
//! fill the table); each look-up of an uncached token is paid for from its
//! address' look-up budget instead, and the request counts as anonymous.
//!
//! A web page's session cookie is a credential like a token (`Credential`):
//! a signed-in browser gets its account's budgets, priority and ban
//! exemption as an app does, from the same table, so a person using the web
//! UI behind a busy shared address is not counted as that address' anonymous
//! traffic.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// What a request shows to say who sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer …`: an API token.
    Token(String),
    /// The web UI's session cookie (`holdfast_config::SESSION_COOKIE`).
    Session(String),
}

impl Credential {
    /// Its key in the tables: a hash (the secret itself is never kept), with
    /// the kind hashed in, so a session and a token never share a key.
    pub fn key(&self) -> u128 {
        let (kind, secret): (&[u8], &str) = match self {
            Credential::Token(t) => (b"token\0", t),
            Credential::Session(s) => (b"session\0", s),
        };
        let digest = Sha256::new()
            .chain_update(kind)
            .chain_update(secret.as_bytes())
            .finalize();
        u128::from_be_bytes(
            digest[..16]
                .try_into()
                // fact: SHA-256's output size
                .expect("a SHA-256 digest has 32 bytes"),
        )
    }
}

/// Who holds a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenOwner {
    /// A user token: budgets per account and per token.
    Account(i64),
    /// An app-only token (client credentials): a budget per token.
    App,
    /// Not a valid token: the request is anonymous for budgets, cache and priority.
    Unknown,
}

pub type OwnerFuture<'a> = Pin<Box<dyn Future<Output = Option<TokenOwner>> + Send + 'a>>;

/// Looks credentials up; `None` when it cannot tell now (database unavailable).
pub trait TokenDirectory: Send + Sync {
    fn owner<'a>(&'a self, credential: &'a Credential) -> OwnerFuture<'a>;
}

/// Valid tokens seen lately, keyed on the token's hash; bounded in size and age.
pub struct KnownTokens {
    entries: Mutex<HashMap<u128, (TokenOwner, Instant)>>,
    ttl: Duration,
    entries_max: usize,
}

impl KnownTokens {
    pub fn new(ttl: Duration, entries_max: usize) -> KnownTokens {
        KnownTokens {
            entries: Mutex::new(HashMap::new()),
            ttl,
            entries_max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u128, (TokenOwner, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A token in use stays known: each use restarts its `ttl`, so a user
    /// behind a banned address is still recognised, without a database look-up,
    /// for as long as the ban lasts. (Handlers authenticate every request, so
    /// a token revoked meanwhile is still refused; only its budget is kept.)
    pub fn get(&self, key: u128) -> Option<TokenOwner> {
        let mut entries = self.lock();
        let (owner, at) = entries.get_mut(&key)?;
        if at.elapsed() >= self.ttl {
            return None;
        }
        *at = Instant::now();
        Some(*owner)
    }

    /// Remembers a valid token; unknown ones are never stored.
    pub fn remember(&self, key: u128, owner: TokenOwner) {
        if owner == TokenOwner::Unknown {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.entries_max && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.entries_max {
                // Full of live tokens: this one is looked up again next time.
                return;
            }
        }
        entries.insert(key, (owner, Instant::now()));
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_tokens_are_remembered_and_the_table_is_bounded() {
        let known = KnownTokens::new(Duration::from_secs(60), 2);
        known.remember(1, TokenOwner::Unknown);
        assert_eq!(known.get(1), None);
        known.remember(1, TokenOwner::Account(7));
        known.remember(2, TokenOwner::App);
        known.remember(3, TokenOwner::Account(8));
        assert_eq!(known.get(1), Some(TokenOwner::Account(7)));
        assert_eq!(known.get(2), Some(TokenOwner::App));
        assert_eq!(known.get(3), None, "full of live tokens");
        assert_eq!(known.len(), 2);
    }

    #[test]
    fn a_token_in_use_stays_known() {
        let known = KnownTokens::new(Duration::from_millis(1_000), 2);
        known.remember(1, TokenOwner::Account(7));
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(600));
            assert_eq!(known.get(1), Some(TokenOwner::Account(7)));
        }
    }

    #[test]
    fn a_session_and_a_token_with_the_same_secret_have_different_keys() {
        let token = Credential::Token("same".into()).key();
        let session = Credential::Session("same".into()).key();
        assert_ne!(token, session);
        assert_eq!(token, Credential::Token("same".into()).key());
    }

    #[test]
    fn entries_expire() {
        let known = KnownTokens::new(Duration::ZERO, 2);
        known.remember(1, TokenOwner::Account(7));
        assert_eq!(known.get(1), None);
    }
}
