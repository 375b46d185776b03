//! The event hub behind the streaming API: what happened (a status posted or
//! deleted, someone notified), broadcast in process to every streaming
//! connection of this node. An event says only what is needed to decide
//! cheaply who might care; each subscriber then asks the store, as itself,
//! whether it may see the thing (the same rules as the REST timelines), so
//! nothing here can leak a private post.
//!
//! Bounded everywhere: the broadcast keeps `streaming_hub_events_max` events
//! (a subscriber further behind is told it lagged and is disconnected), and
//! connections are counted per account, per address and in total.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use holdfast_store::{EventFeed, Id, StatusBundle, Visibility};
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};

use crate::streams::EventMemo;

/// A status as far as routing cares, without its text.
#[derive(Clone, Debug)]
pub struct StatusEvent {
    pub id: Id,
    pub account_id: Id,
    pub visibility: Visibility,
    /// The author of the status reblogged, when this is a reblog.
    pub reblog_of_account_id: Option<Id>,
    /// Hashtags, lowercased.
    pub tags: Vec<String>,
    pub mentions: Vec<Id>,
}

impl StatusEvent {
    pub fn of(b: &StatusBundle) -> StatusEvent {
        StatusEvent {
            id: b.status.id,
            account_id: b.status.account_id,
            visibility: b.status.visibility,
            reblog_of_account_id: b.reblog.as_ref().map(|r| r.status.account_id),
            tags: b.tags.iter().map(|t| t.name.to_lowercase()).collect(),
            mentions: b.mentions.iter().map(|a| a.id).collect(),
        }
    }

    /// The reblog `id` of this status by `account_id`, as far as routing cares.
    pub fn reblog_by(&self, id: Id, account_id: Id) -> StatusEvent {
        StatusEvent {
            id,
            account_id,
            visibility: self.visibility,
            reblog_of_account_id: Some(self.account_id),
            tags: Vec::new(),
            mentions: Vec::new(),
        }
    }

    pub fn is_reblog(&self) -> bool {
        self.reblog_of_account_id.is_some()
    }
}

impl StatusEvent {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "account_id": self.account_id,
            "visibility": self.visibility.as_str(),
            "reblog_of_account_id": self.reblog_of_account_id,
            "tags": self.tags,
            "mentions": self.mentions,
        })
    }

    fn from_json(v: &Value) -> Option<StatusEvent> {
        Some(StatusEvent {
            id: v.get("id")?.as_i64()?,
            account_id: v.get("account_id")?.as_i64()?,
            visibility: Visibility::parse(v.get("visibility")?.as_str()?)?,
            reblog_of_account_id: v.get("reblog_of_account_id").and_then(Value::as_i64),
            tags: v
                .get("tags")?
                .as_array()?
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            mentions: v
                .get("mentions")?
                .as_array()?
                .iter()
                .filter_map(Value::as_i64)
                .collect(),
        })
    }
}

#[derive(Clone, Debug)]
pub enum Event {
    /// A new status (or reblog): `update`.
    Posted(StatusEvent),
    /// A status is gone: `delete` with its bare id.
    Deleted(StatusEvent),
    /// A status was edited: `status.update`, to whoever may see it where they see it.
    Edited(StatusEvent),
    /// The account has new notifications; its own connections fetch them as itself.
    Notified { account_id: Id },
    /// The account changed its filters: `filters_changed` on its user streams.
    FiltersChanged { account_id: Id },
}

impl Event {
    /// The feed's wire form (between nodes of one version).
    pub fn to_json(&self) -> String {
        match self {
            Event::Posted(s) => json!({"type": "posted", "status": s.to_json()}),
            Event::Deleted(s) => json!({"type": "deleted", "status": s.to_json()}),
            Event::Edited(s) => json!({"type": "edited", "status": s.to_json()}),
            Event::Notified { account_id } => json!({"type": "notified", "account_id": account_id}),
            Event::FiltersChanged { account_id } => {
                json!({"type": "filters_changed", "account_id": account_id})
            }
        }
        .to_string()
    }

    pub fn from_json(text: &str) -> Option<Event> {
        let v: Value = serde_json::from_str(text).ok()?;
        match v.get("type")?.as_str()? {
            "posted" => Some(Event::Posted(StatusEvent::from_json(v.get("status")?)?)),
            "deleted" => Some(Event::Deleted(StatusEvent::from_json(v.get("status")?)?)),
            "edited" => Some(Event::Edited(StatusEvent::from_json(v.get("status")?)?)),
            "notified" => Some(Event::Notified {
                account_id: v.get("account_id")?.as_i64()?,
            }),
            "filters_changed" => Some(Event::FiltersChanged {
                account_id: v.get("account_id")?.as_i64()?,
            }),
            _ => None,
        }
    }
}

/// An event as every subscriber of this node receives it, with the answers
/// its subscribers share (asked once, by whichever needs them first).
pub struct Published {
    pub event: Event,
    /// Kept by the hub for the last `streaming_event_memos_max` events only,
    /// so memory stays bounded however far behind a subscriber is.
    memo: Weak<EventMemo>,
}

impl Published {
    /// The shared answers, or fresh ones (asked again, for this subscriber
    /// alone) when the hub has already let them go.
    pub fn memo(&self) -> Arc<EventMemo> {
        self.memo.upgrade().unwrap_or_default()
    }
}

/// Why a streaming connection ended on the server's initiative (for `/metrics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Its send buffer filled: the client does not read fast enough.
    SlowConsumer,
    /// It fell behind the hub and missed events.
    Lagged,
    /// No message (not even a pong) within the idle timeout.
    Idle,
    /// A write made no progress within the write timeout.
    WriteTimeout,
    /// The node is shutting down.
    Shutdown,
    /// The token was revoked (or its account suspended).
    Revoked,
}

impl DropReason {
    pub const ALL: [DropReason; 6] = [
        DropReason::SlowConsumer,
        DropReason::Lagged,
        DropReason::Idle,
        DropReason::WriteTimeout,
        DropReason::Shutdown,
        DropReason::Revoked,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::SlowConsumer => "slow_consumer",
            DropReason::Lagged => "lagged",
            DropReason::Idle => "idle",
            DropReason::WriteTimeout => "write_timeout",
            DropReason::Shutdown => "shutdown",
            DropReason::Revoked => "revoked",
        }
    }
}

/// Why a streaming connection was not opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerAccount,
    PerAddress,
}

impl Refusal {
    pub const ALL: [Refusal; 3] = [Refusal::Total, Refusal::PerAccount, Refusal::PerAddress];
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "total",
            Refusal::PerAccount => "per_account",
            Refusal::PerAddress => "per_address",
        }
    }
}

#[derive(Default)]
pub struct HubStats {
    pub connections_sse: AtomicUsize,
    pub connections_ws: AtomicUsize,
    pub subscriptions: AtomicUsize,
    pub events_published: AtomicU64,
    pub messages_sent: AtomicU64,
    pub bytes_queued: AtomicUsize,
    dropped: [AtomicU64; 6],
    refused: [AtomicU64; 3],
}

impl HubStats {
    pub fn count_drop(&self, reason: DropReason) {
        let i = DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.dropped[i].fetch_add(1, Ordering::Relaxed);
    }
    pub fn dropped(&self, reason: DropReason) -> u64 {
        let i = DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.dropped[i].load(Ordering::Relaxed)
    }
    fn count_refusal(&self, reason: Refusal) {
        let i = Refusal::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.refused[i].fetch_add(1, Ordering::Relaxed);
    }
    pub fn refused(&self, reason: Refusal) -> u64 {
        let i = Refusal::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.refused[i].load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_account: HashMap<Id, usize>,
    per_address: HashMap<IpAddr, usize>,
}

struct Inner {
    sender: broadcast::Sender<Arc<Published>>,
    /// The shared answers of the latest events (see `Published::memo`).
    memos: Mutex<VecDeque<Arc<EventMemo>>>,
    memos_max: usize,
    shutdown: watch::Sender<bool>,
    counts: Mutex<Counts>,
    stats: HubStats,
    max_total: usize,
    max_per_account: usize,
    max_per_address: usize,
    /// The cluster feed, when the backend has one.
    feed: OnceLock<Arc<dyn EventFeed>>,
    /// Told when another node says an account changed its filters (this
    /// node's compiled copy is then stale).
    on_filters_changed: OnceLock<Box<dyn Fn(Id) + Send + Sync>>,
    /// Told when a status is deleted or edited, on this node or another,
    /// before the event is delivered (the read cache must not answer with
    /// the old copy).
    on_status_changed: OnceLock<Box<dyn Fn(StatusChange) + Send + Sync>>,
}

/// What happened to a status, for caches of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    Deleted(Id),
    Edited(Id),
}

impl StatusChange {
    fn of(event: &Event) -> Option<StatusChange> {
        match event {
            Event::Deleted(s) => Some(StatusChange::Deleted(s.id)),
            Event::Edited(s) => Some(StatusChange::Edited(s.id)),
            _ => None,
        }
    }
}

/// The in-process hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Hub {
    pub fn new(limits: &holdfast_config::Limits) -> Hub {
        let (sender, _) = broadcast::channel(limits.streaming_hub_events_max.max(1));
        let (shutdown, _) = watch::channel(false);
        Hub {
            inner: Arc::new(Inner {
                sender,
                memos: Mutex::default(),
                memos_max: limits.streaming_event_memos_max,
                shutdown,
                counts: Mutex::default(),
                stats: HubStats::default(),
                max_total: limits.streaming_connections_max,
                max_per_account: limits.streaming_connections_per_account_max,
                max_per_address: limits.streaming_connections_per_ip_max,
                feed: OnceLock::new(),
                on_filters_changed: OnceLock::new(),
                on_status_changed: OnceLock::new(),
            }),
        }
    }

    /// Sends an event to every subscriber of this node, and through the
    /// cluster feed (if any) to the other nodes; never blocks.
    pub fn publish(&self, event: Event) {
        self.status_changed(&event);
        if let Some(feed) = self.inner.feed.get() {
            feed.publish(event.to_json());
        }
        self.deliver_locally(event);
    }

    /// To this node's subscribers only; costs nothing when nobody listens.
    fn deliver_locally(&self, event: Event) {
        if self.inner.sender.receiver_count() == 0 {
            return;
        }
        self.inner
            .stats
            .events_published
            .fetch_add(1, Ordering::Relaxed);
        let memo = Arc::new(EventMemo::default());
        let published = Arc::new(Published {
            event,
            memo: Arc::downgrade(&memo),
        });
        {
            let mut memos = self.inner.memos.lock().unwrap_or_else(|p| p.into_inner());
            memos.push_back(memo);
            while memos.len() > self.inner.memos_max {
                memos.pop_front();
            }
        }
        let _ = self.inner.sender.send(published);
    }

    /// Joins the cluster: events of this node go out through `feed`, and the
    /// other nodes' events come in from it. Once; later calls are ignored.
    pub fn attach_feed(&self, feed: Arc<dyn EventFeed>) {
        let Some(mut incoming) = feed.take_incoming() else {
            return;
        };
        if self.inner.feed.set(feed).is_err() {
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            while let Some(text) = incoming.recv().await {
                match Event::from_json(&text) {
                    Some(event) => {
                        if let (Event::FiltersChanged { account_id }, Some(hook)) =
                            (&event, hub.inner.on_filters_changed.get())
                        {
                            hook(*account_id);
                        }
                        hub.status_changed(&event);
                        hub.deliver_locally(event)
                    }
                    None => {
                        tracing::warn!("event feed: an event this node cannot read was skipped")
                    }
                }
            }
        });
    }

    /// What to do when another node reports `FiltersChanged` (once).
    pub fn on_filters_changed(&self, hook: Box<dyn Fn(Id) + Send + Sync>) {
        let _ = self.inner.on_filters_changed.set(hook);
    }

    /// What to do when a status is deleted or edited anywhere in the
    /// cluster (once): called for this node's events and the feed's alike.
    pub fn on_status_changed(&self, hook: Box<dyn Fn(StatusChange) + Send + Sync>) {
        let _ = self.inner.on_status_changed.set(hook);
    }

    fn status_changed(&self, event: &Event) {
        if let (Some(change), Some(hook)) =
            (StatusChange::of(event), self.inner.on_status_changed.get())
        {
            hook(change);
        }
    }

    /// The cluster feed, if this node has one (for `/readyz` and `/metrics`).
    pub fn feed(&self) -> Option<&Arc<dyn EventFeed>> {
        self.inner.feed.get()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.inner.sender.subscribe()
    }

    /// Resolves (changes to true) when the node starts shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Tells every stream to close (SSE ends, WebSockets get a close frame).
    pub fn shut_down(&self) {
        self.inner.shutdown.send_replace(true);
    }

    pub fn stats(&self) -> &HubStats {
        &self.inner.stats
    }

    /// Takes a connection slot for `account` from `address`, or says which cap refused it.
    pub fn open(&self, account: Option<Id>, address: IpAddr) -> Result<Slot, Refusal> {
        let address = address_key(address);
        let mut c = self.inner.counts.lock().unwrap_or_else(|p| p.into_inner());
        let refusal = if c.total >= self.inner.max_total {
            Some(Refusal::Total)
        } else if account.is_some_and(|a| {
            c.per_account.get(&a).copied().unwrap_or(0) >= self.inner.max_per_account
        }) {
            Some(Refusal::PerAccount)
        } else if c.per_address.get(&address).copied().unwrap_or(0) >= self.inner.max_per_address {
            Some(Refusal::PerAddress)
        } else {
            None
        };
        if let Some(r) = refusal {
            drop(c);
            self.inner.stats.count_refusal(r);
            return Err(r);
        }
        c.total += 1;
        if let Some(a) = account {
            *c.per_account.entry(a).or_insert(0) += 1;
        }
        *c.per_address.entry(address).or_insert(0) += 1;
        Ok(Slot {
            hub: self.clone(),
            account,
            address,
        })
    }

    /// Waits (at most `limit`) until every streaming connection has closed:
    /// after `shut_down`, so WebSockets get their close frames before the
    /// process exits (upgraded connections are not the listener's to drain).
    /// `poll`: how often to look.
    pub async fn drained(&self, limit: std::time::Duration, poll: std::time::Duration) {
        let started = std::time::Instant::now();
        while self.open_connections() > 0 && started.elapsed() < limit {
            tokio::time::sleep(poll).await;
        }
    }

    pub fn open_connections(&self) -> usize {
        self.inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .total
    }
}

/// IPv6 clients are counted by /64, as the listener does.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

/// One open streaming connection's place in the counts; released on drop.
pub struct Slot {
    hub: Hub,
    account: Option<Id>,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self
            .hub
            .inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(a) = self.account {
            if let Some(n) = c.per_account.get_mut(&a) {
                *n -= 1;
                if *n == 0 {
                    c.per_account.remove(&a);
                }
            }
        }
        if let Some(n) = c.per_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                c.per_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_released() {
        let limits = holdfast_config::Limits {
            streaming_connections_max: 3,
            streaming_connections_per_account_max: 2,
            streaming_connections_per_ip_max: 2,
            ..Default::default()
        };
        let hub = Hub::new(&limits);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = hub.open(Some(1), a).unwrap();
        let _s2 = hub.open(Some(1), b).unwrap();
        assert_eq!(hub.open(Some(1), b).err(), Some(Refusal::PerAccount));
        let _s3 = hub.open(Some(2), a).unwrap();
        assert_eq!(hub.open(Some(3), b).err(), Some(Refusal::Total));
        drop(s1);
        let s4 = hub.open(Some(1), a).unwrap();
        drop(s4);
        let _s5 = hub.open(Some(4), b).unwrap();
        assert_eq!(hub.open(Some(5), b).err(), Some(Refusal::Total));
        assert_eq!(hub.open_connections(), 3);
        assert_eq!(hub.stats().refused(Refusal::PerAccount), 1);
    }

    #[test]
    fn events_round_trip_through_the_feed_form() {
        let e = Event::Posted(StatusEvent {
            id: 7,
            account_id: 3,
            visibility: Visibility::Private,
            reblog_of_account_id: Some(9),
            tags: vec!["rust".into()],
            mentions: vec![4, 5],
        });
        let Some(Event::Posted(back)) = Event::from_json(&e.to_json()) else {
            panic!("did not round-trip");
        };
        assert_eq!(back.visibility, Visibility::Private);
        assert_eq!(back.mentions, vec![4, 5]);
        assert_eq!(back.reblog_of_account_id, Some(9));
        assert!(matches!(
            Event::from_json(&Event::Notified { account_id: 2 }.to_json()),
            Some(Event::Notified { account_id: 2 })
        ));
        assert!(matches!(
            Event::from_json(&Event::FiltersChanged { account_id: 6 }.to_json()),
            Some(Event::FiltersChanged { account_id: 6 })
        ));
        assert!(Event::from_json("{\"type\":\"other\"}").is_none());
    }

    #[test]
    fn ipv6_counts_by_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
    }
}
