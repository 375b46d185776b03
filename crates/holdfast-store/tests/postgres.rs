//! What only the PostgreSQL backend has: several hosts in one URL,
//! migrations racing at start, and recovery when connections die.

mod support;

use std::time::{Duration, Instant};

use holdfast_store::postgres::PgStore;
use holdfast_store::{NewAccount, Store, StoreError};

fn new_account(name: &str) -> NewAccount {
    NewAccount {
        username: name.into(),
        email: format!("{name}@example.com"),
        password_hash: "h".into(),
        approved: true,
        locale: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_nodes_migrating_at_once_all_start() {
    let url = support::fresh_database();
    let mut starts = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        starts.push(tokio::spawn(async move {
            PgStore::open(&url, &support::limits()).await
        }));
    }
    for s in starts {
        s.await
            .unwrap()
            .expect("every node starts while others migrate");
    }
    let applied = support::cluster().psql(
        url.rsplit('/').next().unwrap(),
        "SELECT count(*) FROM schema_migrations",
    );
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    assert_eq!(applied, files.to_string(), "each migration applied once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_host_url_skips_a_dead_host() {
    let url = support::fresh_database();
    let db = url.rsplit('/').next().unwrap();
    let dead = support::free_port(); // nothing listens there
    let port = support::cluster().port;
    let multi = format!("postgres://postgres@127.0.0.1:{dead},127.0.0.1:{port}/{db}?target_session_attrs=read-write");
    let store = PgStore::open(&multi, &support::limits())
        .await
        .expect("the live host is used");
    store
        .create_account(new_account("multihost"))
        .await
        .unwrap();
    // The key/value form with host lists, as libpq takes it.
    let kv = format!("host=127.0.0.1,127.0.0.1 port={dead},{port} user=postgres dbname={db}");
    let store = PgStore::open(&kv, &support::limits())
        .await
        .expect("key/value form");
    assert_eq!(
        store
            .account_by_username("multihost")
            .await
            .unwrap()
            .username,
        "multihost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_fails_fast_as_unavailable() {
    let dead = support::free_port();
    let started = Instant::now();
    let result = PgStore::open(
        &format!("postgres://postgres@127.0.0.1:{dead}/x"),
        &support::limits(),
    )
    .await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{:?}",
        result.err()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(
        PgStore::open("postgres://[::bad", &support::limits()).await,
        Err(StoreError::Internal(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_by_itself_when_its_connections_are_killed() {
    let url = support::fresh_database();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let store = std::sync::Arc::new(PgStore::open(&url, &support::limits()).await.unwrap());
    let a = store.create_account(new_account("survivor")).await.unwrap();
    // Warm several pooled connections, then kill every one from the server side,
    // as a database restart or failover does.
    let mut reads = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        reads.push(tokio::spawn(async move { store.account(a.id).await }));
    }
    for r in reads {
        r.await.unwrap().unwrap();
    }
    assert!(store.pool_usage().size >= 1);
    let killed = support::cluster().psql(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"
        ),
    );
    assert_ne!(killed, "0", "there were connections to kill");
    // Each call either succeeds or says Unavailable (never Internal, never hangs);
    // within a few calls the pool has replaced the dead connections.
    let mut failures = 0;
    let mut ok = 0;
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(10), store.account(a.id))
            .await
            .expect("no hang")
        {
            Ok(row) => {
                assert_eq!(row.id, a.id);
                ok += 1;
            }
            Err(StoreError::Unavailable(_)) => failures += 1,
            Err(e) => panic!("a dead connection must look like Unavailable, got {e:?}"),
        }
    }
    assert!(
        failures <= 1,
        "dead connections are noticed and replaced, {failures} calls failed"
    );
    assert!(ok >= 9);
    store.ping().await.unwrap();
    // Writes work again too, and nothing was lost.
    store
        .create_account(new_account("after_kill"))
        .await
        .unwrap();
    assert_eq!(
        store.account_by_username("survivor").await.unwrap().id,
        a.id
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_never_sort_before_acknowledged_ones_after_a_new_primary_takes_over() {
    let url = support::fresh_database();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let store = PgStore::open(&url, &support::limits()).await.unwrap();
    let psql = |sql: &str| support::cluster().psql(&db, sql);
    let first = store.create_account(new_account("before")).await.unwrap();
    // A healthy primary mints from its own clock.
    let ms = first.id >> 16;
    assert!((ms - now_ms()).abs() < 5_000, "id time {ms} is now");
    let lease: i64 = psql("SELECT lease_ms FROM holdfast_id_clock")
        .parse()
        .unwrap();
    assert!(lease > ms, "the lease covers the id");

    // The old primary's clock was an hour ahead of this one, and it minted
    // ids up to its lease; then this server (another holder) took over.
    let ahead = now_ms() + 3_600_000;
    psql(&format!(
        "UPDATE holdfast_id_clock SET lease_ms = {ahead}, holder = 'the old primary'"
    ));
    let after = store.create_account(new_account("after")).await.unwrap();
    assert!(
        after.id >> 16 >= ahead,
        "the new holder starts at the lease"
    );
    let offset: i64 = psql("SELECT offset_ms FROM holdfast_id_clock")
        .parse()
        .unwrap();
    assert!(offset > 3_500_000, "its clock is shifted, offset {offset}");
    // Later ids go on from there, in order, without a row write each.
    let mut previous = after.id;
    for i in 0..20 {
        let a = store
            .create_account(new_account(&format!("later{i}")))
            .await
            .unwrap();
        assert!(a.id > previous);
        previous = a.id;
    }
    assert!(previous >> 16 < ahead + 60_000, "shifted, not running away");

    // The same holder whose clock steps back by more than the lease span
    // (NTP) does not go back either.
    psql("UPDATE holdfast_id_clock SET offset_ms = offset_ms - 600000");
    let stepped = store.create_account(new_account("stepped")).await.unwrap();
    assert!(stepped.id > previous);

    // Once the real clock is past the lease, the shift is dropped.
    let me = psql("SELECT holder FROM holdfast_id_clock");
    psql(&format!(
        "UPDATE holdfast_id_clock SET lease_ms = {}, offset_ms = 5000, holder = '{me}'",
        now_ms() - 1_000
    ));
    let back = store.create_account(new_account("back")).await.unwrap();
    assert!(((back.id >> 16) - now_ms()).abs() < 5_000);
    assert_eq!(psql("SELECT offset_ms FROM holdfast_id_clock"), "0");
}
