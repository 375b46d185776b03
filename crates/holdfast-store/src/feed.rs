//! The cluster event feed: how a streaming event produced on one node reaches
//! the subscribers on every other node. Single-node backends have none (the
//! service's in-process hub is enough); PostgreSQL has one (see
//! `postgres::PgFeed`: the payload in a table, `NOTIFY` as the wake-up).

use std::sync::atomic::AtomicU64;

use tokio::sync::mpsc;

/// Counters of a feed, for `/metrics`.
#[derive(Default)]
pub struct FeedStats {
    /// Events this node wrote to the feed.
    pub published: AtomicU64,
    /// Events from other nodes this node read from the feed.
    pub received: AtomicU64,
    /// Events this node could not write (queue full, or the database down too long).
    pub dropped: AtomicU64,
    /// Times the listening connection was (re)established.
    pub connects: AtomicU64,
}

pub trait EventFeed: Send + Sync + 'static {
    /// Queues an event (opaque text) for the other nodes; never blocks.
    /// False when it had to be dropped.
    fn publish(&self, payload: String) -> bool;
    /// Events from the other nodes, in feed order; `Some` once (for the hub).
    fn take_incoming(&self) -> Option<mpsc::Receiver<String>>;
    /// Is this node listening right now (connected, `LISTEN` issued, caught up)?
    fn is_live(&self) -> bool;
    fn stats(&self) -> &FeedStats;
}
