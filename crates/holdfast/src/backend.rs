//! Chooses and opens the store: SQLite in the data directory by default,
//! PostgreSQL when a database URL is given.

use std::sync::Arc;

use holdfast_config::Config;
use holdfast_store::postgres::PgStore;
use holdfast_store::sqlite::SqliteStore;
use holdfast_store::{EventFeed, FileMediaStore, MediaStore, Store};

/// The store and where media bytes go with it: files under
/// `<data_dir>/media/` beside SQLite, the `media_blobs` table with PostgreSQL.
pub async fn open_store(config: &Config) -> Result<(Arc<dyn Store>, Arc<dyn MediaStore>), String> {
    match &config.database_url {
        None => {
            let store =
                SqliteStore::open(&config.data_dir, &config.limits).map_err(|e| e.to_string())?;
            let media =
                FileMediaStore::open(&config.data_dir.join("media")).map_err(|e| e.to_string())?;
            Ok((Arc::new(store), Arc::new(media)))
        }
        Some(url)
            if url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.contains("host=") =>
        {
            // Migrations run here, under an advisory lock, so `serve` and
            // `migrate` on several nodes at once are safe.
            let store = PgStore::open(url, &config.limits)
                .await
                .map_err(|e| format!("PostgreSQL: {e}"))?;
            tracing::info!("using PostgreSQL");
            let store = Arc::new(store);
            Ok((store.clone(), store))
        }
        Some(_) => Err(
            "--database must be a PostgreSQL URL (postgres://… or host=… key/value form); \
                        leave it out to use SQLite in the data directory"
                .into(),
        ),
    }
}

/// The streaming API's cluster feed: PostgreSQL's (every node sees every
/// node's events); none with SQLite (one node, the in-process hub is all).
pub fn open_feed(config: &Config) -> Result<Option<Arc<dyn EventFeed>>, String> {
    match &config.database_url {
        None => Ok(None),
        Some(url) => {
            let feed = holdfast_store::postgres::PgFeed::start(url, &config.limits)
                .map_err(|e| format!("PostgreSQL event feed: {e}"))?;
            Ok(Some(Arc::new(feed)))
        }
    }
}
