//! A short-lived cache for anonymous GETs, with single-flight fill.
//!
//! An anonymous GET's answer depends only on the host and the URL, so a
//! flood of identical anonymous requests (the public timeline, a popular
//! profile) costs one handler run per `ttl`: the first miss fills the entry,
//! concurrent misses wait for that fill instead of running the query too.
//! Bounded by entry count and body size; only 200s are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

#[derive(Clone)]
pub struct Cached {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Cached {
    pub fn to_response(&self) -> Response {
        let mut r = Response::new(Body::from(self.body.clone()));
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers.clone();
        r.headers_mut().insert(
            "x-holdfast-cache",
            axum::http::HeaderValue::from_static("hit"),
        );
        r
    }
}

type Slot = watch::Receiver<Option<Arc<Cached>>>;

enum Entry {
    Ready {
        cached: Arc<Cached>,
        expires: Instant,
    },
    Filling(Slot),
}

pub struct AnonCache {
    ttl: Duration,
    entries_max: usize,
    body_max_bytes: usize,
    map: Mutex<HashMap<String, Entry>>,
}

pub enum Lookup {
    Hit(Arc<Cached>),
    /// Someone else is filling this key; wait for them.
    Wait(Slot),
    /// This request fills the key: run it, then `complete`.
    Fill(Filler),
    /// Not cacheable right now (cache full): just run it.
    Bypass,
}

/// The right to fill one key. Dropped without `complete`, it withdraws,
/// and the waiters run their requests themselves.
pub struct Filler {
    cache: Arc<AnonCache>,
    key: String,
    tx: Option<watch::Sender<Option<Arc<Cached>>>>,
}

impl AnonCache {
    pub fn new(ttl: Duration, entries_max: usize, body_max_bytes: usize) -> Arc<AnonCache> {
        Arc::new(AnonCache {
            ttl,
            entries_max,
            body_max_bytes,
            map: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lookup(self: &Arc<Self>, key: String) -> Lookup {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get(&key) {
            Some(Entry::Ready { cached, expires }) if *expires > now => {
                return Lookup::Hit(cached.clone())
            }
            Some(Entry::Filling(rx)) => return Lookup::Wait(rx.clone()),
            _ => {}
        }
        if map.len() >= self.entries_max {
            map.retain(|_, e| !matches!(e, Entry::Ready { expires, .. } if *expires <= now));
            if map.len() >= self.entries_max {
                return Lookup::Bypass;
            }
        }
        let (tx, rx) = watch::channel(None);
        map.insert(key.clone(), Entry::Filling(rx));
        Lookup::Fill(Filler {
            cache: self.clone(),
            key,
            tx: Some(tx),
        })
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Filler {
    /// Buffers a 200 response (within the size bound), stores it and wakes the
    /// waiters; anything else passes through uncached.
    pub async fn complete(mut self, response: Response) -> Response {
        if response.status() != StatusCode::OK || !shareable(response.headers()) {
            return response;
        }
        // A body that may be larger than the cache takes is passed through
        // untouched (and not cached): reading it first would cut it short.
        let fits = axum::body::HttpBody::size_hint(response.body())
            .upper()
            .is_some_and(|upper| upper <= self.cache.body_max_bytes as u64);
        if !fits {
            return response;
        }
        let (parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, self.cache.body_max_bytes).await {
            Ok(b) => b,
            // The body itself failed mid-way: nothing to cache, and the client
            // must see a failure, not a short 200.
            Err(_) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response();
            }
        };
        let cached = Arc::new(Cached {
            status: parts.status,
            headers: parts.headers.clone(),
            body: bytes.clone(),
        });
        self.cache.lock().insert(
            self.key.clone(),
            Entry::Ready {
                cached: cached.clone(),
                expires: Instant::now() + self.cache.ttl,
            },
        );
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Some(cached));
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

/// Whether a response may be shared between clients: not when it sets a cookie
/// or says `no-store`/`private` (pages with a CSRF token or a session, tokens).
fn shareable(headers: &HeaderMap) -> bool {
    if headers.contains_key(axum::http::header::SET_COOKIE) {
        return false;
    }
    !headers
        .get_all(axum::http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase())
        .any(|d| d == "no-store" || d == "private" || d == "no-cache")
}

impl Drop for Filler {
    fn drop(&mut self) {
        if self.tx.is_some() {
            let mut map = self.cache.lock();
            if matches!(map.get(&self.key), Some(Entry::Filling(_))) {
                map.remove(&self.key);
            }
        }
    }
}

/// Waits for another request's fill; None if it withdrew or took longer than `wait`.
pub async fn wait_for_fill(mut slot: Slot, wait: Duration) -> Option<Arc<Cached>> {
    let filled = async {
        loop {
            if let Some(c) = slot.borrow_and_update().clone() {
                return Some(c);
            }
            if slot.changed().await.is_err() {
                return slot.borrow().clone();
            }
        }
    };
    tokio::time::timeout(wait, filled).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_and_cookie_setting_answers_are_not_kept() {
        let cache = AnonCache::new(Duration::from_secs(5), 16, 1024);
        for (name, value) in [
            ("cache-control", "no-store"),
            ("cache-control", "private, max-age=60"),
            ("set-cookie", "a=b"),
        ] {
            let key = format!("{name}:{value}");
            let Lookup::Fill(filler) = cache.lookup(key.clone()) else {
                panic!("first lookup fills")
            };
            let mut response = Response::new(Body::from("secret form"));
            response
                .headers_mut()
                .insert(name, axum::http::HeaderValue::from_static(value));
            let response = filler.complete(response).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert!(
                matches!(cache.lookup(key), Lookup::Fill(_)),
                "{name}: {value} must not be cached"
            );
        }
    }

    #[tokio::test]
    async fn an_answer_larger_than_the_cache_takes_passes_through_whole() {
        let cache = AnonCache::new(Duration::from_secs(5), 16, 1024);
        let Lookup::Fill(filler) = cache.lookup("big".into()) else {
            panic!("first lookup fills")
        };
        let big = vec![b'x'; 4096];
        let response = filler
            .complete(Response::new(Body::from(big.clone())))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body.len(), big.len(), "the client gets the whole body");
        assert!(
            matches!(cache.lookup("big".into()), Lookup::Fill(_)),
            "too large to keep"
        );
    }

    #[tokio::test]
    async fn one_fill_serves_concurrent_misses() {
        let cache = AnonCache::new(Duration::from_secs(5), 16, 1024);
        let Lookup::Fill(filler) = cache.lookup("k".into()) else {
            panic!("first lookup fills")
        };
        let Lookup::Wait(slot) = cache.lookup("k".into()) else {
            panic!("second lookup waits")
        };
        let waiter = tokio::spawn(wait_for_fill(slot, Duration::from_secs(2)));
        let response = filler.complete(Response::new(Body::from("hello"))).await;
        assert_eq!(
            axum::body::to_bytes(response.into_body(), 100)
                .await
                .unwrap(),
            "hello"
        );
        let got = waiter
            .await
            .unwrap()
            .expect("the waiter gets the filled response");
        assert_eq!(got.body, "hello");
        assert!(matches!(cache.lookup("k".into()), Lookup::Hit(_)));
    }

    #[tokio::test]
    async fn withdrawn_fill_lets_waiters_run_and_errors_are_not_cached() {
        let cache = AnonCache::new(Duration::from_secs(5), 16, 1024);
        let Lookup::Fill(filler) = cache.lookup("k".into()) else {
            panic!()
        };
        let Lookup::Wait(slot) = cache.lookup("k".into()) else {
            panic!()
        };
        let mut not_found = Response::new(Body::empty());
        *not_found.status_mut() = StatusCode::NOT_FOUND;
        let _ = filler.complete(not_found).await;
        assert!(wait_for_fill(slot, Duration::from_secs(1)).await.is_none());
        assert!(matches!(cache.lookup("k".into()), Lookup::Fill(_)));
    }

    #[tokio::test]
    async fn bounded_entries() {
        let cache = AnonCache::new(Duration::from_secs(60), 4, 1024);
        for i in 0..10 {
            if let Lookup::Fill(f) = cache.lookup(format!("k{i}")) {
                let _ = f.complete(Response::new(Body::from("x"))).await;
            }
        }
        assert_eq!(cache.len(), 4);
    }
}
