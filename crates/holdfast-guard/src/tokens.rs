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
//! A web session (the log-in cookie) is a credential like a token: the guard
//! asks the directory whose it is, remembers valid ones in the same table (a
//! key of their own, so a session secret sent as a bearer token is not taken
//! for the session), and counts the browser as its account: per-account
//! budgets, and served at a banned address its users share, as a known token is.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Looks tokens and web sessions up; `None` when it cannot tell now
/// (database unavailable).
pub trait TokenDirectory: Send + Sync {
    fn owner<'a>(&'a self, token: &'a str) -> OwnerFuture<'a>;
    /// Whose web session `secret` (the log-in cookie's value) is:
    /// `Account`, or `Unknown` when it is not a live session.
    fn session_owner<'a>(&'a self, secret: &'a str) -> OwnerFuture<'a>;
    /// The name of the log-in cookie.
    fn session_cookie(&self) -> &'static str;
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
    fn entries_expire() {
        let known = KnownTokens::new(Duration::ZERO, 2);
        known.remember(1, TokenOwner::Account(7));
        assert_eq!(known.get(1), None);
    }
}
