//! Chooses and opens the store: SQLite in the data directory by default,
//! PostgreSQL when a database URL is given.

use std::sync::Arc;

use holdfast_config::Config;
use holdfast_store::sqlite::SqliteStore;
use holdfast_store::Store;

pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    match &config.database_url {
        None => {
            let store = SqliteStore::open(&config.data_dir, &config.limits).map_err(|e| e.to_string())?;
            Ok(Arc::new(store))
        }
        Some(url) => Err(format!("unsupported database URL {url:?}: only SQLite (no --database) is available in this build")),
    }
}
