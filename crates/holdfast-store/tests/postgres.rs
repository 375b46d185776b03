//! What only the PostgreSQL backend has: several hosts in one URL,
//! migrations racing at start, and recovery when connections die.

mod support;

use std::time::{Duration, Instant};

use holdfast_config::Limits;
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
    // The shared test server has no standby: accept that here (see
    // `a_cluster_primary_without_a_synchronous_standby_takes_no_write`).
    let limits = Limits {
        pg_sync_standbys_min: 0,
        ..support::limits()
    };
    let store = PgStore::open(&multi, &limits)
        .await
        .expect("the live host is used");
    store
        .create_account(new_account("multihost"))
        .await
        .unwrap();
    // The key/value form with host lists, as libpq takes it.
    let kv = format!("host=127.0.0.1,127.0.0.1 port={dead},{port} user=postgres dbname={db}");
    let store = PgStore::open(&kv, &limits).await.expect("key/value form");
    assert_eq!(
        store
            .account_by_username("multihost")
            .await
            .unwrap()
            .username,
        "multihost"
    );
}

/// A fresh database's URL, and a "cluster" URL over it: a dead host, then
/// the shared test server (a primary with no standby at all).
fn a_cluster_of_one_live_host() -> (String, String) {
    let url = support::fresh_database();
    let db = url.rsplit('/').next().unwrap();
    let dead = support::free_port();
    let port = support::cluster().port;
    let multi = format!("postgres://postgres@127.0.0.1:{dead},127.0.0.1:{port}/{db}");
    (url, multi)
}

/// With several hosts in the URL (a cluster), a primary with no synchronous
/// standby attached (as one just promoted is, for a moment) takes no write:
/// the write waits for one within its window, then is refused, and nothing
/// of it is written. The shared test server has no standby at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_without_a_synchronous_standby_takes_no_write() {
    let (url, multi) = a_cluster_of_one_live_host();
    let db = url.rsplit('/').next().unwrap();
    let limits = Limits {
        pg_write_retry_window_ms: 600,
        ..support::limits()
    };
    assert_eq!(limits.pg_sync_standbys_min, 1, "the default");
    let store = PgStore::open(&multi, &limits).await.unwrap();
    let started = Instant::now();
    match store.create_account(new_account("unreplicated")).await {
        Err(StoreError::Unavailable(why)) => {
            assert!(why.contains("no synchronous standby"), "{why}")
        }
        other => panic!("acknowledged a write no standby has: {other:?}"),
    }
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for one"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "within the window"
    );
    assert_eq!(
        support::cluster().psql(db, "SELECT count(*) FROM accounts"),
        "0",
        "nothing was written"
    );
    // Reads are not held.
    assert!(matches!(
        store.account_by_username("unreplicated").await,
        Err(StoreError::NotFound)
    ));
    // One host (a lone server, by the operator's choice) waits for nothing.
    let lone = PgStore::open(&url, &limits).await.unwrap();
    lone.create_account(new_account("lone")).await.unwrap();
}

/// In a cluster, a primary that goes on without its synchronous standbys
/// past a short grace is not read from: that is how a primary that was
/// frozen while another was promoted looks from inside, and it misses the
/// writes acknowledged since (bench/drills, pause-db-primary). The grace is
/// for a primary just promoted, whose standby attaches within a moment. The
/// shared test server has no standby at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_alone_past_the_grace_is_not_read_from() {
    let (url, multi) = a_cluster_of_one_live_host();
    let limits = Limits {
        pg_read_fitness_check_ms: 50,
        pg_read_unfit_grace_ms: 300,
        ..support::limits()
    };
    assert_eq!(limits.pg_sync_standbys_min, 1, "the default");
    let store = PgStore::open(&multi, &limits).await.unwrap();
    assert!(
        matches!(
            store.account_by_username("nobody").await,
            Err(StoreError::NotFound)
        ),
        "read within the grace"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    match store.account_by_username("nobody").await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("read from a primary alone past the grace: {other:?}"),
    }
    // Asynchronous by the operator's choice: a primary alone is the cluster.
    let asynchronous = PgStore::open(
        &multi,
        &Limits {
            pg_sync_standbys_min: 0,
            ..limits.clone()
        },
    )
    .await
    .unwrap();
    for _ in 0..3 {
        assert!(matches!(
            asynchronous.account_by_username("nobody").await,
            Err(StoreError::NotFound)
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // One host (a lone server) is never checked.
    let lone = PgStore::open(&url, &limits).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(matches!(
        lone.account_by_username("nobody").await,
        Err(StoreError::NotFound)
    ));
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

/// The highest lease (migration 0018): (lease_ms, offset_ms, holder).
const TOP_LEASE: &str =
    "SELECT lease_ms, offset_ms, holder FROM holdfast_id_leases ORDER BY lease_ms DESC LIMIT 1";

fn top_lease(psql: &dyn Fn(&str) -> String) -> (i64, i64, String) {
    let row = psql(TOP_LEASE);
    let mut parts = row.split('|');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    (next().parse().unwrap(), next().parse().unwrap(), next())
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
    let (lease, _, me) = top_lease(&psql);
    assert!(lease > ms, "the lease covers the id");

    // The old primary's clock was an hour ahead of this one, and it minted
    // ids up to its lease; then this server (another holder) took over.
    let ahead = now_ms() + 3_600_000;
    psql(&format!(
        "INSERT INTO holdfast_id_leases (lease_ms, holder) VALUES ({ahead}, 'the old primary')"
    ));
    let after = store.create_account(new_account("after")).await.unwrap();
    assert!(
        after.id >> 16 >= ahead,
        "the new holder starts at the lease"
    );
    let (_, offset, holder) = top_lease(&psql);
    assert_eq!(holder, me, "the new holder's lease is on top");
    assert!(offset > 3_500_000, "its clock is shifted, offset {offset}");
    // Later ids go on from there, in order, without a lease each.
    let leases_before: i64 = psql("SELECT count(*) FROM holdfast_id_leases")
        .parse()
        .unwrap();
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
    let leases_after: i64 = psql("SELECT count(*) FROM holdfast_id_leases")
        .parse()
        .unwrap();
    assert!(
        leases_after - leases_before < 20,
        "a lease a second, not one per id"
    );

    // The same holder whose clock steps back by more than the lease span
    // (NTP) does not go back either.
    psql(&format!(
        "INSERT INTO holdfast_id_leases (lease_ms, offset_ms, holder) \
         SELECT lease_ms + 1, offset_ms - 600000, holder FROM ({TOP_LEASE}) top"
    ));
    let stepped = store.create_account(new_account("stepped")).await.unwrap();
    assert!(stepped.id > previous);

    // Once the real clock is past the lease, the shift is dropped. (Leases
    // above it are the past's: gone, as if this were a fresh cluster.)
    psql("DELETE FROM holdfast_id_leases");
    psql(&format!(
        "INSERT INTO holdfast_id_leases (lease_ms, offset_ms, holder) VALUES ({}, 5000, '{me}')",
        now_ms() - 1_000
    ));
    let back = store.create_account(new_account("back")).await.unwrap();
    assert!(((back.id >> 16) - now_ms()).abs() < 5_000);
    assert_eq!(top_lease(&psql).1, 0);

    // Old leases are deleted as new ones come (never the highest).
    psql(&format!(
        "INSERT INTO holdfast_id_leases (lease_ms, holder) \
         SELECT {} - g, 'long ago' FROM generate_series(1, 10) g",
        now_ms() - 3_600_000
    ));
    psql("DELETE FROM holdfast_id_leases WHERE holder <> 'long ago'");
    psql(&format!(
        "INSERT INTO holdfast_id_leases (lease_ms, holder) VALUES ({}, '{me}')",
        now_ms() - 1_000
    ));
    store.create_account(new_account("prunes")).await.unwrap();
    assert_eq!(
        psql("SELECT count(*) FROM holdfast_id_leases WHERE holder = 'long ago'"),
        "0"
    );
}

/// Two transactions minting past the lease at once (each inserts a lease)
/// do not wait for each other: 0005's one lease row made the second wait
/// for the first one's commit, and deadlock when they also shared a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minting_past_the_lease_waits_for_no_other_transaction() {
    let url = support::fresh_database();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let _store = PgStore::open(&url, &support::limits()).await.unwrap();
    // Another holder's lease on top: every mint inserts a lease of its own.
    support::cluster().psql(
        &db,
        &format!(
            "INSERT INTO holdfast_id_leases (lease_ms, holder) VALUES ({}, 'the old primary')",
            now_ms() + 60_000
        ),
    );
    let connect = || async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    };
    let (first, second) = (connect().await, connect().await);
    first
        .batch_execute("BEGIN; SELECT holdfast_next_id()")
        .await
        .unwrap();
    // The first is still open, holding whatever it took.
    let started = Instant::now();
    second
        .batch_execute("SET lock_timeout = '2s'; BEGIN; SELECT holdfast_next_id(); COMMIT")
        .await
        .expect("the second mints without waiting for the first");
    assert!(started.elapsed() < Duration::from_secs(2));
    first.batch_execute("COMMIT").await.unwrap();
    let leases: i64 = support::cluster()
        .psql(&db, "SELECT count(*) FROM holdfast_id_leases WHERE holder <> 'the old primary' AND lease_ms > (SELECT min(lease_ms) FROM holdfast_id_leases WHERE holder = 'the old primary')")
        .parse()
        .unwrap();
    assert_eq!(leases, 2, "each inserted its own lease past the old one");
}

// ---- pg: a home feed built while posts decide their fan-out ----

/// A store on a fresh database with `author`, and `viewer` following it
/// (feed not built yet), one status already posted; with a plain client for
/// the test to hold locks with.
async fn feed_race_set_up(
    prefix: &str,
) -> (
    std::sync::Arc<dyn Store>,
    tokio_postgres::Client,
    [holdfast_store::AccountRow; 3],
    holdfast_store::Id,
) {
    let url = support::fresh_database();
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(PgStore::open(&url, &support::limits()).await.unwrap());
    let account = |name: &str| store.create_account(new_account(&format!("{prefix}_{name}")));
    let (author, viewer, bell) = (
        account("author").await.unwrap(),
        account("viewer").await.unwrap(),
        account("bell").await.unwrap(),
    );
    store
        .follow(viewer.id, author.id, true, false)
        .await
        .unwrap();
    // A subscriber: each post of the author writes it a notification,
    // after the post's fan-out decision.
    store.follow(bell.id, author.id, true, true).await.unwrap();
    let older = store
        .create_status(support::common::new_status(author.id, "older"), 3600)
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    (store, client, [author, viewer, bell], older)
}

/// Polls `sql` (a count) until it is positive or `done` says the racing
/// task already ended, for at most 10 s.
async fn until_seen(client: &tokio_postgres::Client, sql: &str, done: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        let n: i64 = client.query_one(sql, &[]).await.unwrap().get(0);
        if n > 0 {
            return true;
        }
        if done() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Posts "racing" by `author` in a task of its own.
fn spawn_post(
    store: &std::sync::Arc<dyn Store>,
    author: holdfast_store::Id,
) -> tokio::task::JoinHandle<Result<holdfast_store::Id, StoreError>> {
    let store = store.clone();
    tokio::spawn(async move {
        store
            .create_status(support::common::new_status(author, "racing"), 3600)
            .await
    })
}

async fn home_ids(store: &dyn Store, viewer: holdfast_store::Id) -> Vec<holdfast_store::Id> {
    let page = holdfast_store::Page {
        limit: 20,
        ..Default::default()
    };
    let found = store.home_timeline(viewer, page).await.unwrap();
    found.into_iter().map(|p| p.item).collect()
}

/// A post that decided "no follower's feed is open: no fan-out job" and has
/// not committed yet (held here on its subscriber's notification) while the
/// viewer's first home read builds the feed: the build must not fill from a
/// snapshot without it. Fails if the build fills without waiting for posts
/// that decided before the feed opened (no barrier), or fills before opening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_deciding_while_a_feed_is_built_reaches_it_by_the_fill() {
    let (store, holder, [author, viewer, _], older) = feed_race_set_up("fr_fill").await;
    holder
        .batch_execute("BEGIN; LOCK TABLE notifications IN SHARE MODE")
        .await
        .unwrap();
    let posting = spawn_post(&store, author.id);
    // The post is past its decision (it holds the decision lock) and waits
    // to write the notification.
    let decided = "SELECT count(*) FROM pg_locks held JOIN pg_locks waiting USING (pid) \
         WHERE held.locktype = 'advisory' AND held.granted AND held.mode = 'ShareLock' \
         AND waiting.relation = 'notifications'::regclass AND NOT waiting.granted";
    assert!(
        until_seen(&holder, decided, || posting.is_finished()).await,
        "the post is held after its fan-out decision"
    );
    let reading = tokio::spawn({
        let store = store.clone();
        async move { home_ids(&*store, viewer.id).await }
    });
    // The build waits for the post (or, built wrong, finishes without it).
    let waits = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted";
    until_seen(&holder, waits, || reading.is_finished()).await;
    holder.batch_execute("COMMIT").await.unwrap();
    let racing = posting.await.unwrap().unwrap();
    let first = reading.await.unwrap();
    while !store.run_fanout_batch().await.unwrap().is_empty() {}
    assert_eq!(first, vec![racing, older], "the first page has the post");
    assert_eq!(
        home_ids(&*store, viewer.id).await,
        vec![racing, older],
        "and so has the feed, once"
    );
}

/// A post that decides while the viewer's feed is being filled (held here
/// on a row the fill writes) sees the feed open, and its fan-out job
/// copies it: the fill's snapshot predates it. Fails if the feed were
/// marked built only with the fill (the post would queue no job).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_deciding_while_a_feed_is_filled_reaches_it_by_its_job() {
    let (store, holder, [author, viewer, _], older) = feed_race_set_up("fr_job").await;
    holder
        .batch_execute(&format!(
            "BEGIN; INSERT INTO home_feed (account_id, status_id) VALUES ({}, {older})",
            viewer.id
        ))
        .await
        .unwrap();
    let reading = tokio::spawn({
        let store = store.clone();
        async move { home_ids(&*store, viewer.id).await }
    });
    let fill_waits =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted";
    assert!(
        until_seen(&holder, fill_waits, || reading.is_finished()).await,
        "the fill waits on the held row"
    );
    let posting = spawn_post(&store, author.id);
    // The post need not wait for the fill (a build that kept posts out for
    // its whole length would make it wait until the rollback below).
    for _ in 0..250 {
        if posting.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder.batch_execute("ROLLBACK").await.unwrap();
    let racing = posting.await.unwrap().unwrap();
    reading.await.unwrap();
    while !store.run_fanout_batch().await.unwrap().is_empty() {}
    assert_eq!(
        home_ids(&*store, viewer.id).await,
        vec![racing, older],
        "the feed has both, once each"
    );
}

/// Issue 11's follow-up: a request served on the signed-in lane (a runtime
/// of its own) must not wait for its query behind a flood on the main
/// runtime. A pooled connection is opened by a request on one runtime; that
/// runtime's only worker is then held busy (a task that does not yield, as
/// a flood's ready tasks keep a worker) while a request on another runtime
/// queries through the same connection. Its answer must come while the
/// first runtime is still busy: the connection's socket and driver belong
/// to the pool's own runtime, not to whichever runtime opened it. (With
/// `pg_io_threads_max = 0`, as before, the query gets no answer while the
/// first runtime is busy: "PostgreSQL did not answer in time" after
/// `pg_operation_timeout_ms`.)
#[test]
fn a_query_is_answered_while_the_runtime_that_opened_its_connection_is_busy() {
    let url = support::fresh_database();
    let opener = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // One connection, so the second runtime's query goes through the one
    // the first runtime opened.
    let limits = Limits {
        pg_pool_size: 1,
        ..support::limits()
    };
    let store = std::sync::Arc::new(opener.block_on(PgStore::open(&url, &limits)).unwrap());
    opener
        .block_on(opener.spawn({
            let store = store.clone();
            async move { store.create_account(new_account("opened")).await }
        }))
        .unwrap()
        .expect("the pooled connection is opened on the first runtime");

    let (answered, answer) = std::sync::mpsc::channel();
    // The first runtime's worker, held until the answer comes (or 20 s).
    let busy = opener.spawn(async move { answer.recv_timeout(Duration::from_secs(20)) });
    let elsewhere = std::thread::spawn({
        let store = store.clone();
        move || {
            let lane = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let found = lane.block_on(store.account_by_username("opened"));
            let _ = answered.send(found.map(|a| a.username));
        }
    });
    let seen_while_busy = opener.block_on(busy).unwrap();
    elsewhere.join().unwrap();
    let found = seen_while_busy.expect("answered while the opening runtime was busy, not after");
    assert_eq!(found.expect("the account"), "opened");
}
