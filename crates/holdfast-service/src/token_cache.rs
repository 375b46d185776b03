//! Bearer tokens already proved, kept in memory so that a request pays one
//! one-row read (the auth epoch) instead of the token's look-up (issue 10).
//!
//! Exact, on every node and whoever made the change: the auth epoch
//! (migration 0026) is moved by triggers in the same transaction as anything
//! that can end a token (a revocation, a log-out, a password change, an
//! account suspended, disabled or deleted, an app changed), including
//! `holdfast user suspend` run as a process of its own beside a SQLite
//! server, which sends no event anywhere. A token is served from here only
//! while the epoch read for this request equals the one read together with
//! the token (in the same statement), so the first request after such a
//! commit looks the token up again. The price of one number for everything:
//! each revocation anywhere drops every token's copy at once; they are cheap
//! to prove again, and revocations are rare next to requests.
//!
//! Bounded by `token_cache_max`: the two-generation table every versioned
//! cache uses (`holdfast_store::versioned`), keyed by the token's digest
//! with the auth epoch as the version, so a token in use stays and a flood
//! of distinct valid tokens cannot grow memory. Keys are SHA-256 digests,
//! never the secrets themselves.

use holdfast_store::versioned::Versioned;
use holdfast_store::CacheCounts;

use crate::Principal;

pub type Digest = [u8; 32];

pub struct TokenCache {
    /// Principals by token digest, each for the auth epoch it was proved at.
    proved: Versioned<i64, Principal, Digest>,
}

impl TokenCache {
    pub fn new(entries_max: usize) -> TokenCache {
        TokenCache {
            proved: Versioned::new(entries_max),
        }
    }

    /// The principal of the token `digest`, if it was proved at `epoch`
    /// (the auth epoch as it reads now).
    pub fn get(&self, digest: &Digest, epoch: i64) -> Option<Principal> {
        self.proved.get(*digest, &epoch)
    }

    /// A token just proved against the store, with the epoch read in the
    /// same statement.
    pub fn keep(&self, digest: Digest, principal: &Principal, epoch: i64) {
        self.proved.put(digest, epoch, principal.clone());
    }

    /// A token the store no longer knows (or whose account may not log in).
    pub fn forget(&self, digest: &Digest) {
        self.proved.forget(digest);
    }

    /// Hits and misses since start and the tokens held, for `/metrics`.
    pub fn counts(&self) -> CacheCounts {
        self.proved.counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scopes;

    fn principal(token_id: i64) -> Principal {
        Principal {
            token_id,
            app_id: 1,
            app_name: "app".into(),
            app_website: None,
            app_redirect_uris: vec![],
            app_scopes: "read".into(),
            account_id: Some(7),
            scopes: Scopes::parse("read").unwrap(),
        }
    }

    #[test]
    fn a_token_is_served_only_at_the_epoch_it_was_proved_at() {
        let cache = TokenCache::new(10);
        cache.keep([1; 32], &principal(1), 5);
        assert_eq!(cache.get(&[1; 32], 5).map(|p| p.token_id), Some(1));
        assert!(cache.get(&[1; 32], 6).is_none(), "the epoch moved");
        assert!(cache.get(&[2; 32], 5).is_none(), "never proved");
        cache.forget(&[1; 32]);
        assert!(cache.get(&[1; 32], 5).is_none());
        let c = cache.counts();
        assert_eq!((c.hits, c.misses, c.entries), (1, 3, 0));
    }

    #[test]
    fn bounded_and_a_token_in_use_stays() {
        let cache = TokenCache::new(4);
        cache.keep([1; 32], &principal(1), 0);
        cache.keep([2; 32], &principal(2), 0);
        // The newer generation is full: 1 and 2 become the older one.
        cache.keep([3; 32], &principal(3), 0);
        // 1 is used: back to the newer generation.
        assert!(cache.get(&[1; 32], 0).is_some());
        // Full again: 3 and 1 become the older generation, 2 goes.
        cache.keep([4; 32], &principal(4), 0);
        assert!(cache.get(&[2; 32], 0).is_none());
        assert!(cache.get(&[1; 32], 0).is_some());
        assert!(cache.counts().entries <= 4);
        for n in 10..100u8 {
            cache.keep([n; 32], &principal(n.into()), 0);
            assert!(cache.counts().entries <= 4);
        }
    }

    #[test]
    fn a_zero_bound_keeps_nothing() {
        let cache = TokenCache::new(0);
        cache.keep([1; 32], &principal(1), 0);
        assert!(cache.get(&[1; 32], 0).is_none());
    }
}
