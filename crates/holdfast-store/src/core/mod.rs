//! The store, written once: topic modules (graph, timelines, statuses, ...)
//! hold every query, in one SQL text that both databases run, over a small
//! runner interface that each backend provides.
//!
//! Invariant: the SQL of a topic lives in exactly one place, here. A backend
//! supplies only what truly differs: how connections are pooled and
//! transactions run ([`Db`]), how a query reaches its driver ([`Conn`]), and
//! the few spellings listed in [`Dialect`].
//!
//! Conventions of the shared SQL:
//! - parameters are numbered `?1`, `?2`, ... (SQLite's native form; the
//!   PostgreSQL runner renumbers them `$1`, `$2`, ...), and every parameter
//!   passed is used;
//! - booleans are `TRUE`/`FALSE` and boolean expressions (SQLite reads them as 1/0);
//! - upserts are `ON CONFLICT ... DO NOTHING / DO UPDATE SET ... = excluded....`;
//! - new ids come from `holdfast_next_id()`, a function of both databases
//!   (PostgreSQL's in its migrations, SQLite's registered by its runner from
//!   [`crate::ids::IdGenerator`]).
//!
//! Adding a topic: a module here of `async fn`s taking `c: &dyn Conn` (its
//! SQL once, with `args![..]` for parameters and `c.dialect()` for the
//! spellings that differ; add a `Dialect` method rather than branching on the
//! backend); the `Store` methods in `store.rs`, each running one of them with
//! `self.db.read(..)` or `self.db.write(..)` (one transaction); its tables as
//! one migration per backend under the same number; and conformance cases,
//! which then run on both databases.

pub(crate) mod accounts;
pub(crate) mod bounded;
pub(crate) mod collections;
pub(crate) mod conversations;
pub(crate) mod dialect;
pub(crate) mod discovery;
pub(crate) mod edits;
pub(crate) mod fanout;
pub(crate) mod filters;
pub(crate) mod graph;
pub(crate) mod home_feed;
pub(crate) mod home_rules;
pub(crate) mod instance_blocks;
pub(crate) mod lists;
pub(crate) mod media;
pub(crate) mod moderation;
pub(crate) mod notification_policies;
pub(crate) mod notifications;
pub(crate) mod oauth;
pub(crate) mod personal;
pub(crate) mod polls;
pub(crate) mod push;
pub(crate) mod rules;
pub(crate) mod safety;
pub(crate) mod scheduled;
pub(crate) mod sql;
pub(crate) mod status_parts;
pub(crate) mod statuses;
mod store;
pub(crate) mod streams;
pub(crate) mod tags;
pub(crate) mod timelines;
pub(crate) mod trends;
pub(crate) mod web;

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

pub use dialect::Dialect;

use crate::{StoreError, StoreResult};

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;

/// A parameter of a query. Borrowed, so passing text costs no copy.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Real(f64),
    Text(&'a str),
    /// A list of ids, for [`Dialect::in_ids`].
    Ids(&'a [i64]),
    /// A list of words (PostgreSQL's search only).
    Texts(&'a [String]),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(v as i64)
    }
}
/// A visibility is stored as its enum value (see `sql::vis`).
impl From<crate::model::Visibility> for Arg<'_> {
    fn from(v: crate::model::Visibility) -> Self {
        Arg::Int(sql::vis(v))
    }
}
impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::Real(v)
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a [i64]> for Arg<'a> {
    fn from(v: &'a [i64]) -> Self {
        Arg::Ids(v)
    }
}
impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// `args![a, b, c]`: a parameter list of mixed types.
macro_rules! args {
    ($($v:expr),* $(,)?) => { [$($crate::core::Arg::from($v)),*] };
}
pub(crate) use args;

/// One column value, as read from either database.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Real(f64),
    Text(String),
}

/// One result row, read whole (rows here are small: ids, counts, a status).
#[derive(Clone, Debug)]
pub struct Row(pub(crate) Vec<Value>);

impl Row {
    /// Column `i` as `T`; a type that does not fit is a bug, reported as Internal.
    pub fn get<T: FromValue>(&self, i: usize) -> StoreResult<T> {
        let value = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(value).ok_or_else(|| {
            StoreError::Internal(format!(
                "column {i} holds {value:?}, not a {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }
}
impl FromValue for u32 {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|i| u32::try_from(i).ok())
    }
}
impl FromValue for bool {
    /// SQLite keeps booleans as 0/1.
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A connection, or an open transaction on one, as the topic modules see it.
#[async_trait]
pub trait Conn: Send + Sync {
    fn dialect(&self) -> Dialect;
    async fn query(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<Row>>;
    /// Runs a statement; returns the number of rows it changed.
    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64>;
}

impl dyn Conn + '_ {
    pub async fn query_opt(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Option<Row>> {
        Ok(self.query(sql, args).await?.into_iter().next())
    }

    /// The first row, or NotFound.
    pub async fn query_one(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Row> {
        self.query_opt(sql, args).await?.ok_or(StoreError::NotFound)
    }
}

/// How a backend runs work: `read` on any connection it sees fit (a
/// standby, for PostgreSQL without a primary), `write` in one transaction
/// that commits when `f` returns Ok and rolls back otherwise. `f` may be run
/// more than once (PostgreSQL re-runs a transaction that lost a race), so it
/// takes its input by reference.
#[async_trait]
pub trait Db: Send + Sync + 'static {
    async fn read<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static;

    async fn write<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static;

    /// A write no request waits for (a fan-out batch): as `write`, but a
    /// backend with one writer runs the requests' writes first.
    async fn write_background<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        self.write(data, f).await
    }

    /// The auth epoch (`Store::auth_epoch`): by default one read like any
    /// other; SQLite reads it in place on a connection of its own.
    async fn auth_epoch(&self) -> StoreResult<i64> {
        self.read((), |c, _| Box::pin(oauth::auth_epoch(c))).await
    }

    /// Makes the search index hold every committed status before a search
    /// reads it. SQLite feeds its index in batches after the commits
    /// (`sqlite::runner::SearchFeed`); PostgreSQL's is a generated column,
    /// current with every commit.
    async fn index_queued_search(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Connections in use and the pool size, for `/metrics`.
    fn pool_usage(&self) -> crate::PoolUsage;

    /// What the store can do now, for `/readyz`. A backend without standbys
    /// is ready or down, as a round trip says.
    async fn readiness(&self) -> crate::Readiness {
        match self.read((), |c, _| Box::pin(store::ping(c))).await {
            Ok(()) => crate::Readiness::Ready,
            Err(e) => crate::Readiness::Down(e.to_string()),
        }
    }
}

/// The store over one backend's runner: `SqliteStore` and `PgStore` are this.
pub struct Core<B> {
    pub(crate) db: B,
    /// The bounds the queries apply (thread depth, tag window).
    pub(crate) limits: holdfast_config::Limits,
    /// Statuses' mentions, tags and media, kept between pages (bounded).
    pub(crate) parts: std::sync::Arc<status_parts::StatusParts>,
    /// What accounts are to each viewer for the home rules, kept between
    /// pages by the viewer's relationship version (bounded).
    pub(crate) relations: std::sync::Arc<home_rules::RelationFacts>,
    /// The viewer's own flags on statuses (favourited, reblogged, ...),
    /// kept between home pages by the viewer's actions version (bounded).
    pub(crate) flags: std::sync::Arc<statuses::ViewerFlagsKept>,
}
