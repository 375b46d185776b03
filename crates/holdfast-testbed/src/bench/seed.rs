//! `holdfast bench seed`: a synthetic instance, written straight into the
//! database through the store's bulk loader (one API call per row would take
//! hours at a million users).
//!
//! Shape: a power-law follow graph (log-normal followee counts, median
//! `--followees-median`; targets chosen 70 % by a Zipf law over accounts, so a
//! few accounts are followed by nearly everyone, 30 % uniformly), and a
//! history of statuses in time order: originals, replies (to recent statuses),
//! reblogs, mentions, hashtags, favourites, with the notifications they cause.
//! Authors are drawn by the same Zipf/uniform mix, so a few accounts post a lot.
//!
//! For the scale curves, a few accounts get an exact shape: "scale viewers"
//! following exactly 10, 100, 1,000 and 5,000 accounts, and "scale authors"
//! followed by exactly 10 … 100,000 accounts (capped at the instance size).
//! `seed.json` in the output directory lists them with bearer tokens, plus a
//! sample of ordinary viewers, for `holdfast bench run`.
//!
//! Everything is generated from `--seed`, so a seed is reproducible.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use holdfast_config::Limits;
use holdfast_service::secrets::hash_secret;
use holdfast_service::text::{render_html, ResolvedMention};
use holdfast_store::bulk::{
    BulkAccount, BulkBatch, BulkLoader, BulkNotification, BulkStatus, BulkToken,
};
use holdfast_store::groups;
use holdfast_store::model::NotificationType;
use serde::{Deserialize, Serialize};

use crate::siege::Rng;

pub const USERS_MAX: usize = 2_000_000;
pub const STATUSES_PER_USER_MAX: usize = 1_000;
/// Ordinary viewers given a token (the home/notifications scenarios rotate through them).
const VIEWERS_MAX: usize = 1_000;
const SCALE_FOLLOWEES: [usize; 4] = [10, 100, 1_000, 5_000];
const SCALE_FOLLOWERS: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];
/// Followers of each scale author given a token (time-to-visible is checked on their homes).
const SAMPLE_FOLLOWERS: usize = 4;
const TAGS: usize = 200;
/// Rows per transaction.
const BATCH_ROWS: usize = 50_000;
/// History spans this long before the seed runs.
const HISTORY_MS: i64 = 30 * 24 * 3_600_000;
/// Replies answer one of this many statuses before them (conversations are recent).
const REPLY_WINDOW: usize = 5_000;
const FAVOURITES_PER_STATUS_MAX: usize = 11;

#[derive(clap::Args, Clone, Debug)]
pub struct SeedArgs {
    /// Accounts to create (besides the few scale authors).
    #[arg(long)]
    pub users: usize,
    /// Output directory: seed.json, and data/ (the SQLite data directory) without --database.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed this PostgreSQL database (empty, migrated here) instead of SQLite.
    #[arg(long)]
    pub database: Option<String>,
    /// Mean statuses per account in the history (reblogs and replies included).
    #[arg(long, default_value_t = 10)]
    pub statuses_per_user: usize,
    /// Median number of accounts an account follows.
    #[arg(long, default_value_t = 100)]
    pub followees_median: usize,
    /// Most accounts one account follows.
    #[arg(long, default_value_t = 5_000)]
    pub followees_max: usize,
    /// The domain the server will be known by (mention and tag links).
    #[arg(long, default_value = "localhost")]
    pub domain: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SeedUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ScaleViewer {
    pub followees: usize,
    pub user: SeedUser,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ScaleAuthor {
    pub followers: usize,
    pub user: SeedUser,
    /// A few of its followers, spread over the list (the last follower included).
    pub sample_followers: Vec<SeedUser>,
}

/// What `bench run` needs to know about a seeded instance.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SeedInfo {
    pub users: usize,
    pub statuses: usize,
    pub follows: usize,
    pub favourites: usize,
    pub notifications: usize,
    /// None: SQLite in `<out>/data`.
    pub database: Option<String>,
    pub domain: String,
    pub seconds: f64,
    pub viewers: Vec<SeedUser>,
    pub scale_viewers: Vec<ScaleViewer>,
    pub scale_authors: Vec<ScaleAuthor>,
    /// Authors of many statuses (for the account-statuses scenario).
    pub busy_accounts: Vec<i64>,
    /// Statuses with replies (for the context scenario).
    pub threads: Vec<i64>,
    pub max_followers: usize,
}

impl SeedInfo {
    pub fn read(dir: &Path) -> Result<SeedInfo, String> {
        let path = dir.join("seed.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn check(a: &SeedArgs) -> Result<(), String> {
    if !(10..=USERS_MAX).contains(&a.users) {
        return Err(format!("--users must be 10..={USERS_MAX}"));
    }
    if !(1..=STATUSES_PER_USER_MAX).contains(&a.statuses_per_user) {
        return Err(format!(
            "--statuses-per-user must be 1..={STATUSES_PER_USER_MAX}"
        ));
    }
    if a.followees_median == 0 || a.followees_max < a.followees_median {
        return Err("--followees-median must be at least 1 and at most --followees-max".into());
    }
    Ok(())
}

fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// An index in 0..n, Zipf-like (P(i) ∝ 1/(i+1)): the continuous inverse of ln.
fn zipf(rng: &mut Rng, n: usize) -> usize {
    let v = uniform(rng);
    ((n as f64).powf(v) as usize).saturating_sub(1).min(n - 1)
}

/// 70 % Zipf, 30 % uniform: a few hubs and a long tail.
fn popular(rng: &mut Rng, n: usize) -> usize {
    if rng.below(10) < 7 {
        zipf(rng, n)
    } else {
        rng.below(n)
    }
}

fn gaussian(rng: &mut Rng) -> f64 {
    let (u1, u2) = (uniform(rng).max(1e-12), uniform(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Hands out snowflake ids (ms << 16 | sequence) that never repeat and never go back.
struct SnowflakeClock {
    ms: i64,
    seq: i64,
}

impl SnowflakeClock {
    fn new() -> Self {
        SnowflakeClock { ms: 0, seq: 0 }
    }
    fn at(&mut self, ms: i64) -> i64 {
        if ms > self.ms {
            self.ms = ms;
            self.seq = 0;
        } else {
            self.seq += 1;
            if self.seq > 0xffff {
                self.ms += 1;
                self.seq = 0;
            }
        }
        (self.ms << 16) | self.seq
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Original,
    Reply,
    Reblog,
}

/// Everything about a status decided in the first pass, so that counts are final
/// before its row is written.
struct Meta {
    author: u32,
    kind: Kind,
    /// Parent (reply) or original (reblog) ordinal.
    target: u32,
    visibility: u8,
    mention: Option<u32>,
    tag: Option<u16>,
    favourites: u8,
    replies: u32,
    reblogs: u32,
}

struct Plan {
    users: usize,
    /// Scale authors come after the ordinary users: account index `users + k`.
    scale_followers: Vec<usize>,
    account_ids: Vec<i64>,
    statuses: Vec<Meta>,
    status_ids: Vec<i64>,
    status_ms: Vec<i64>,
}

impl Plan {
    fn account_count(&self) -> usize {
        self.users + self.scale_followers.len()
    }
    fn username(&self, index: usize) -> String {
        if index < self.users {
            format!("u{index}")
        } else {
            format!("author{}", self.scale_followers[index - self.users])
        }
    }
    /// Ordinary users following scale author `k`: every `stride`-th user.
    fn scale_stride(&self, k: usize) -> usize {
        (self.users / self.scale_followers[k]).max(1)
    }
    fn follows_scale_author(&self, user: usize, k: usize) -> bool {
        let stride = self.scale_stride(k);
        user % stride == 0 && user / stride < self.scale_followers[k]
    }
}

fn plan(a: &SeedArgs, now_ms: i64) -> Plan {
    let n = a.users;
    let mut scale_followers: Vec<usize> = SCALE_FOLLOWERS.iter().map(|&f| f.min(n)).collect();
    scale_followers.dedup();
    let accounts = n + scale_followers.len();
    let history_start = now_ms - HISTORY_MS;
    // Accounts were created in the second before the history starts.
    let mut clock = SnowflakeClock::new();
    let account_ids = (0..accounts)
        .map(|_| clock.at(history_start - 1_000))
        .collect();

    let total = n * a.statuses_per_user;
    let mut rng = Rng::new(a.seed ^ 0x5747_5455_5345);
    let mut statuses: Vec<Meta> = Vec::with_capacity(total);
    let mut reblogged: HashSet<(u32, u32)> = HashSet::new();
    for i in 0..total {
        let author = popular(&mut rng, n) as u32;
        let roll = rng.below(100);
        let mut m = Meta {
            author,
            kind: Kind::Original,
            target: 0,
            visibility: match rng.below(100) {
                0..=84 => 0,
                85..=94 => 1,
                _ => 2,
            },
            mention: None,
            tag: None,
            favourites: 0,
            replies: 0,
            reblogs: 0,
        };
        if i > 0 && roll < 15 {
            let mut parent = i - 1 - rng.below(i.min(REPLY_WINDOW));
            if statuses[parent].kind == Kind::Reblog {
                parent = statuses[parent].target as usize;
            }
            m.kind = Kind::Reply;
            m.target = parent as u32;
            let parent_author = statuses[parent].author;
            if parent_author != author {
                m.mention = Some(parent_author);
            }
        } else if i > 0 && roll < 23 {
            let target = rng.below(i);
            let t = &statuses[target];
            if t.kind != Kind::Reblog
                && t.visibility <= 1
                && t.author != author
                && reblogged.insert((author, target as u32))
            {
                m.kind = Kind::Reblog;
                m.target = target as u32;
                m.visibility = 0;
            }
        }
        if m.kind != Kind::Reblog {
            if m.mention.is_none() && rng.below(100) < 15 {
                let other = rng.below(n) as u32;
                m.mention = (other != author).then_some(other);
            }
            if rng.below(100) < 20 {
                m.tag = Some(zipf(&mut rng, TAGS) as u16);
            }
            let f = (2.5 * uniform(&mut rng)).exp() as usize - 1;
            m.favourites = f.min(FAVOURITES_PER_STATUS_MAX).min(n - 1) as u8;
        }
        match m.kind {
            Kind::Reply if m.visibility <= 1 => statuses[m.target as usize].replies += 1,
            Kind::Reblog => statuses[m.target as usize].reblogs += 1,
            _ => {}
        }
        statuses.push(m);
    }
    let mut clock = SnowflakeClock::new();
    let status_ms: Vec<i64> = (0..total)
        .map(|i| history_start + (i as i128 * HISTORY_MS as i128 / total.max(1) as i128) as i64)
        .collect();
    let status_ids = status_ms.iter().map(|&ms| clock.at(ms)).collect();
    Plan {
        users: n,
        scale_followers,
        account_ids,
        statuses,
        status_ids,
        status_ms,
    }
}

/// Followee count for ordinary user `u`: log-normal around the median, exact for scale viewers.
fn followee_count(a: &SeedArgs, rng: &mut Rng, u: usize) -> usize {
    let n = a.users;
    let cap = a.followees_max.min(n - 1);
    if let Some(k) = scale_viewer_slot(n, u) {
        return SCALE_FOLLOWEES[k].min(n - 1);
    }
    let k = ((a.followees_median as f64).ln() + gaussian(rng)).exp() as usize;
    k.clamp(1, cap)
}

/// Scale viewers are the last ordinary users: `n-1` follows 5,000, `n-2` 1,000, …
fn scale_viewer_slot(n: usize, u: usize) -> Option<usize> {
    let from_end = n - 1 - u;
    (from_end < SCALE_FOLLOWEES.len()).then(|| SCALE_FOLLOWEES.len() - 1 - from_end)
}

fn token_for(seed: u64, index: usize) -> String {
    format!(
        "hfbench-{seed:x}-{index:x}-{:016x}",
        Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9)).next_u64()
    )
}

/// What the generator thread sends the writer: rows, or the end of a phase
/// (every row before it has been sent).
enum Msg {
    Rows(BulkBatch),
    Phase(&'static str),
}

/// Hands batches of `BATCH_ROWS` rows to the writer; a writer that stopped
/// (it failed) stops the generator.
struct Sender {
    tx: tokio::sync::mpsc::Sender<Msg>,
    batch: BulkBatch,
}

impl Sender {
    fn send(&mut self, force: bool) -> Result<(), String> {
        let rows = self.batch.rows();
        if rows == 0 || (!force && rows < BATCH_ROWS) {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.tx
            .blocking_send(Msg::Rows(batch))
            .map_err(|_| "the writer stopped".to_string())
    }

    fn phase(&mut self, name: &'static str) -> Result<(), String> {
        self.send(true)?;
        self.tx
            .blocking_send(Msg::Phase(name))
            .map_err(|_| "the writer stopped".to_string())
    }
}

/// What generating the rows found out, for `seed.json`.
struct Generated {
    plan: Plan,
    viewers: Vec<SeedUser>,
    scale_viewers: Vec<ScaleViewer>,
    scale_authors: Vec<ScaleAuthor>,
    follows: usize,
    favourites: usize,
    notifications: usize,
    max_followers: usize,
}

/// Seconds of CPU this process has used (all threads).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

pub async fn run(a: SeedArgs) -> Result<(), String> {
    check(&a)?;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let started = Instant::now();
    let limits = Limits::default();
    let mut loader = match &a.database {
        None => BulkLoader::sqlite(&a.out.join("data"), &limits),
        Some(url) => BulkLoader::postgres(url, &limits).await,
    }
    .map_err(|e| format!("cannot open the database: {e}"))?;

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let p = plan(&a, now_ms);
    let mut last = (started.elapsed().as_secs_f64(), cpu_seconds());
    eprintln!(
        "seed: planned {} accounts, {} statuses: wall {:.1} s, cpu {:.1} s",
        p.account_count(),
        p.statuses.len(),
        last.0,
        last.1
    );
    // Rows are made on their own thread while this one writes them.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let generator = {
        let a = a.clone();
        std::thread::spawn(move || {
            let mut out = Sender {
                tx,
                batch: BulkBatch::default(),
            };
            generate(&a, p, now_ms, &mut out)
        })
    };
    let mut written = 0usize;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Rows(batch) => {
                written += batch.rows();
                loader
                    .write(&batch)
                    .await
                    .map_err(|e| format!("bulk write: {e}"))?;
            }
            Msg::Phase(name) => {
                let now = (started.elapsed().as_secs_f64(), cpu_seconds());
                eprintln!(
                    "seed: {name} written: wall {:.1} s, cpu {:.1} s (at {:.1} s, {written} rows)",
                    now.0 - last.0,
                    now.1 - last.1,
                    now.0
                );
                last = now;
            }
        }
    }
    let g = generator
        .join()
        .map_err(|_| "the row generator panicked".to_string())??;
    loader
        .finish()
        .await
        .map_err(|e| format!("finishing the load: {e}"))?;
    let now = (started.elapsed().as_secs_f64(), cpu_seconds());
    eprintln!(
        "seed: search, indexes, foreign keys, triggers, statistics: wall {:.1} s, cpu {:.1} s",
        now.0 - last.0,
        now.1 - last.1
    );

    let p = &g.plan;
    let n = a.users;
    let mut by_posts = vec![0u32; n];
    for m in &p.statuses {
        by_posts[m.author as usize] += 1;
    }
    let mut busy: Vec<usize> = (0..n).collect();
    busy.sort_unstable_by_key(|&u| std::cmp::Reverse(by_posts[u]));
    let threads: Vec<i64> = p
        .statuses
        .iter()
        .enumerate()
        .filter(|(_, m)| m.replies >= 2 && m.visibility == 0)
        .take(1_000)
        .map(|(i, _)| p.status_ids[i])
        .collect();
    let info = SeedInfo {
        users: n,
        statuses: p.statuses.len(),
        follows: g.follows,
        favourites: g.favourites,
        notifications: g.notifications,
        database: a.database.clone(),
        domain: a.domain.clone(),
        seconds: started.elapsed().as_secs_f64(),
        viewers: g.viewers,
        scale_viewers: g.scale_viewers,
        scale_authors: g.scale_authors,
        busy_accounts: busy.iter().take(200).map(|&u| p.account_ids[u]).collect(),
        threads,
        max_followers: g.max_followers,
    };
    let path = a.out.join("seed.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "seeded {} users, {} statuses, {} follows (most followed: {}), {} favourites, {} notifications: {written} rows in {:.1} s (cpu {:.1} s); {}",
        n,
        info.statuses,
        info.follows,
        info.max_followers,
        info.favourites,
        info.notifications,
        info.seconds,
        cpu_seconds(),
        path.display()
    );
    Ok(())
}

/// Makes every row, in phases: the app, tags and tokens; the follow graph;
/// the history; last the accounts, whose counts are then known (the count
/// triggers are off during the load, see `holdfast_store::bulk`).
fn generate(a: &SeedArgs, p: Plan, now_ms: i64, out: &mut Sender) -> Result<Generated, String> {
    let n = a.users;
    let accounts = p.account_count();
    let base_url = format!("https://{}", a.domain);
    let mut clock = SnowflakeClock::new();
    let history_start = now_ms - HISTORY_MS;
    for t in 0..TAGS {
        out.batch.tags.push((t as i64 + 1, format!("bench{t}")));
    }
    let app_id = clock.at(history_start - 500);
    out.batch.apps.push((
        app_id,
        "holdfast bench".into(),
        format!("hfbench-app-{:x}", a.seed),
        hash_secret(&token_for(a.seed, usize::MAX)),
    ));
    let mut tokened = |batch: &mut BulkBatch, idx: usize| -> SeedUser {
        let token = token_for(a.seed, idx);
        batch.tokens.push((
            app_id,
            BulkToken {
                id: clock.at(history_start - 400),
                token_hash: hash_secret(&token),
                account_id: p.account_ids[idx],
                scopes: "read write follow push".into(),
            },
        ));
        SeedUser {
            id: p.account_ids[idx],
            username: p.username(idx),
            token,
        }
    };
    let viewer_stride = (n / VIEWERS_MAX).max(1);
    let scale_viewers: Vec<ScaleViewer> = (0..SCALE_FOLLOWEES.len())
        .map(|k| n - SCALE_FOLLOWEES.len() + k)
        .map(|u| ScaleViewer {
            followees: SCALE_FOLLOWEES[scale_viewer_slot(n, u).unwrap()].min(n - 1),
            user: tokened(&mut out.batch, u),
        })
        .collect();
    let scale_set: HashSet<usize> = (n - SCALE_FOLLOWEES.len()..n).collect();
    let viewers: Vec<SeedUser> = (0..n)
        .step_by(viewer_stride)
        .take(VIEWERS_MAX)
        .filter(|u| !scale_set.contains(u))
        .map(|u| tokened(&mut out.batch, u))
        .collect();
    // A viewer picked as a sample follower keeps its one token.
    let viewer_of: std::collections::HashMap<usize, SeedUser> = (0..n)
        .step_by(viewer_stride)
        .take(VIEWERS_MAX)
        .filter(|u| !scale_set.contains(u))
        .zip(viewers.iter().cloned())
        .collect();
    let mut scale_authors = Vec::new();
    for (k, &followers) in p.scale_followers.iter().enumerate() {
        let stride = p.scale_stride(k);
        let mut picks: Vec<usize> = (0..SAMPLE_FOLLOWERS - 1)
            .map(|j| j * stride * (followers / SAMPLE_FOLLOWERS).max(1))
            .collect();
        picks.push((followers - 1) * stride);
        picks.sort_unstable();
        picks.dedup();
        let sample_followers = picks
            .into_iter()
            .filter(|u| *u < n && !scale_set.contains(u))
            .map(|u| match viewer_of.get(&u) {
                Some(viewer) => viewer.clone(),
                None => tokened(&mut out.batch, u),
            })
            .collect();
        scale_authors.push(ScaleAuthor {
            followers,
            user: tokened(&mut out.batch, n + k),
            sample_followers,
        });
    }
    drop(tokened);
    out.phase("app, tags and tokens")?;

    // The follow graph, follower by follower.
    let mut rng = Rng::new(a.seed ^ 0x464f_4c4c_4f57);
    let mut follows = 0usize;
    let mut followers_of = vec![0u32; accounts];
    let mut following_of = vec![0u32; accounts];
    let mut mine: HashSet<usize> = HashSet::new();
    for u in 0..n {
        let k = followee_count(a, &mut rng, u);
        mine.clear();
        let mut tries = 0;
        while mine.len() < k && tries < 4 * k + 16 {
            tries += 1;
            let t = if scale_viewer_slot(n, u).is_some() {
                rng.below(n)
            } else {
                popular(&mut rng, n)
            };
            if t != u {
                mine.insert(t);
            }
        }
        let mut targets: Vec<usize> = mine.iter().copied().collect();
        targets.extend(
            (0..p.scale_followers.len())
                .filter(|&s| p.follows_scale_author(u, s))
                .map(|s| n + s),
        );
        targets.sort_unstable();
        following_of[u] = targets.len() as u32;
        for t in targets {
            followers_of[t] += 1;
            follows += 1;
            out.batch.follows.push((
                clock.at(history_start - 100),
                p.account_ids[u],
                p.account_ids[t],
            ));
        }
        out.send(false)?;
    }
    out.phase("follows")?;

    // The history, in time order.
    let mut favourites = 0usize;
    let mut notifications = 0usize;
    let mut favouriters: Vec<u32> = Vec::with_capacity(FAVOURITES_PER_STATUS_MAX);
    let mut statuses_of = vec![0u32; accounts];
    let mut last_status_of: Vec<Option<i64>> = vec![None; accounts];
    // A reply's thread root (ordinal), u32::MAX for a status that replies to nothing.
    let mut root_of = vec![u32::MAX; p.statuses.len()];
    for (i, m) in p.statuses.iter().enumerate() {
        let id = p.status_ids[i];
        let ms = p.status_ms[i];
        let author_id = p.account_ids[m.author as usize];
        if m.visibility != 3 {
            statuses_of[m.author as usize] += 1;
            last_status_of[m.author as usize] = Some(ms);
        }
        let (reply, reply_account, thread, reblog) = match m.kind {
            Kind::Original => (None, None, None, None),
            Kind::Reply => {
                let parent = m.target as usize;
                let root = match root_of[parent] {
                    u32::MAX => parent,
                    r => r as usize,
                };
                root_of[i] = root as u32;
                (
                    Some(p.status_ids[parent]),
                    Some(p.account_ids[p.statuses[parent].author as usize]),
                    Some(p.status_ids[root]),
                    None,
                )
            }
            Kind::Reblog => (None, None, None, Some(p.status_ids[m.target as usize])),
        };
        let (text, content) = if m.kind == Kind::Reblog {
            (String::new(), String::new())
        } else {
            let mut text = String::new();
            if let Some(who) = m.mention {
                text += &format!("@{} ", p.username(who as usize));
            }
            text += &format!("status {i} of the bench history, with a little text to render and a link https://example.com/s/{i}");
            if let Some(t) = m.tag {
                text += &format!(" #bench{t}");
            }
            let resolve = |u: &str, _: Option<&str>| {
                Some(ResolvedMention {
                    username: u.to_owned(),
                })
            };
            let content = render_html(&text, &base_url, &resolve);
            (text, content)
        };
        let batch = &mut out.batch;
        batch.statuses.push(BulkStatus {
            id,
            account_id: author_id,
            text,
            content,
            visibility: m.visibility as i64,
            in_reply_to_id: reply,
            in_reply_to_account_id: reply_account,
            thread_id: thread,
            reblog_of_id: reblog,
            replies_count: m.replies as i64,
            reblogs_count: m.reblogs as i64,
            favourites_count: m.favourites as i64,
            created_at_ms: ms,
        });
        if let Some(who) = m.mention {
            batch.mentions.push((id, p.account_ids[who as usize]));
            batch.notifications.push(BulkNotification {
                id: clock.at(ms),
                account_id: p.account_ids[who as usize],
                from_account_id: author_id,
                kind: NotificationType::Mention.as_str(),
                status_id: Some(id),
                group_key: None,
                created_at_ms: ms,
            });
        }
        if let Some(t) = m.tag {
            batch.status_tags.push((t as i64 + 1, id));
        }
        if m.kind == Kind::Reblog {
            let original = &p.statuses[m.target as usize];
            let kind = NotificationType::Reblog;
            let prefix = groups::prefix(kind, reblog).expect("reblogs are grouped");
            batch.notifications.push(BulkNotification {
                id: clock.at(ms),
                account_id: p.account_ids[original.author as usize],
                from_account_id: author_id,
                kind: kind.as_str(),
                status_id: reblog,
                group_key: Some(groups::key(&prefix, ms, None)),
                created_at_ms: ms,
            });
        }
        // Favourites: drawn from the status' own generator, distinct, never the author.
        let mut frng = Rng::new(a.seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        favouriters.clear();
        while favouriters.len() < m.favourites as usize {
            let f = frng.below(n) as u32;
            if f != m.author && !favouriters.contains(&f) {
                favouriters.push(f);
            }
        }
        let kind = NotificationType::Favourite;
        let prefix = groups::prefix(kind, Some(id)).expect("favourites are grouped");
        for &f in &favouriters {
            batch
                .favourites
                .push((clock.at(ms), p.account_ids[f as usize], id));
            batch.notifications.push(BulkNotification {
                id: clock.at(ms),
                account_id: author_id,
                from_account_id: p.account_ids[f as usize],
                kind: kind.as_str(),
                status_id: Some(id),
                group_key: Some(groups::key(&prefix, ms, None)),
                created_at_ms: ms,
            });
        }
        favourites += favouriters.len();
        notifications +=
            m.mention.is_some() as usize + (m.kind == Kind::Reblog) as usize + favouriters.len();
        out.send(false)?;
        if i > 0 && i % 1_000_000 == 0 {
            eprintln!("seed: {i} statuses generated");
        }
    }
    drop(root_of);
    out.phase("statuses, favourites, mentions, tags, notifications")?;

    // The accounts, with the counts the triggers would have kept.
    for idx in 0..accounts {
        let username = p.username(idx);
        out.batch.accounts.push(BulkAccount {
            id: p.account_ids[idx],
            display_name: format!("Bench {username}"),
            note: format!("Seeded account {username}. Posts about #bench{} and https://example.com/{username}", idx % TAGS),
            username,
            created_at_ms: history_start - 1_000,
            followers_count: followers_of[idx] as i64,
            following_count: following_of[idx] as i64,
            statuses_count: statuses_of[idx] as i64,
            last_status_at_ms: last_status_of[idx],
        });
        out.send(false)?;
    }
    out.phase("accounts")?;
    Ok(Generated {
        viewers,
        scale_viewers,
        scale_authors,
        follows,
        favourites,
        notifications,
        max_followers: followers_of[..n].iter().copied().max().unwrap_or(0) as usize,
        plan: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_never_repeat_or_go_back() {
        let mut c = SnowflakeClock::new();
        let mut last = 0;
        for ms in [5, 5, 5, 4, 7, 7] {
            let id = c.at(ms);
            assert!(id > last);
            last = id;
        }
    }

    #[test]
    fn zipf_stays_in_range_and_favours_the_first() {
        let mut rng = Rng::new(3);
        let mut first = 0;
        for _ in 0..10_000 {
            let i = zipf(&mut rng, 1_000);
            assert!(i < 1_000);
            first += usize::from(i == 0);
        }
        // ln 2 / ln 1000 ≈ 10 %.
        assert!((700..1_300).contains(&first), "{first}");
    }

    #[test]
    fn plan_counts_match_the_history() {
        let a = SeedArgs {
            users: 200,
            out: PathBuf::from("unused"),
            database: None,
            statuses_per_user: 5,
            followees_median: 20,
            followees_max: 100,
            domain: "localhost".into(),
            seed: 9,
        };
        let p = plan(&a, 1_700_000_000_000);
        assert_eq!(p.statuses.len(), 1_000);
        let mut replies = vec![0; 1_000];
        let mut reblogs = vec![0; 1_000];
        let mut pairs = HashSet::new();
        for m in &p.statuses {
            match m.kind {
                Kind::Reply if m.visibility <= 1 => replies[m.target as usize] += 1,
                Kind::Reblog => {
                    reblogs[m.target as usize] += 1;
                    assert!(
                        pairs.insert((m.author, m.target)),
                        "one reblog per account and status"
                    );
                    assert!(p.statuses[m.target as usize].kind != Kind::Reblog);
                }
                _ => {}
            }
        }
        for (i, m) in p.statuses.iter().enumerate() {
            assert_eq!(m.replies, replies[i]);
            assert_eq!(m.reblogs, reblogs[i]);
        }
        assert!(p.status_ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(scale_viewer_slot(200, 199), Some(3));
        assert_eq!(scale_viewer_slot(200, 196), Some(0));
        assert_eq!(scale_viewer_slot(200, 195), None);
    }

    /// A real seed into a real SQLite database, read back through the `Store`
    /// trait as the server would: tokens resolve, homes are full, counts agree.
    #[tokio::test]
    async fn seeded_sqlite_instance_serves_through_the_store() {
        use holdfast_store::bulk;
        use holdfast_store::sqlite::SqliteStore;
        use holdfast_store::{Page, Store};
        let out = std::env::temp_dir().join(format!("hf-seed-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let args = SeedArgs {
            users: 60,
            out: out.clone(),
            database: None,
            statuses_per_user: 5,
            followees_median: 10,
            followees_max: 50,
            domain: "localhost".into(),
            seed: 4,
        };
        run(args.clone()).await.unwrap();
        let info = SeedInfo::read(&out).unwrap();
        assert_eq!((info.users, info.statuses), (60, 300));
        let store = SqliteStore::open(&out.join("data"), &Limits::default()).unwrap();
        for v in &info.viewers {
            let t = store.token_by_hash(&hash_secret(&v.token)).await.unwrap();
            assert_eq!(t.account_id, Some(v.id));
        }
        let v = &info.scale_viewers.last().unwrap().user;
        let page = Page {
            max_id: None,
            since_id: None,
            min_id: None,
            limit: 20,
        };
        assert_eq!(
            store.home_timeline(v.id, page).await.unwrap().len(),
            20,
            "a full home page"
        );
        let author = &info.scale_authors[0];
        let me = store.account(author.user.id).await.unwrap();
        assert_eq!(me.followers_count as usize, author.followers);
        drop(store);
        // The load ran without the count triggers: every count it summed
        // itself agrees with a COUNT over the rows, and every index and
        // trigger it took away is back, as a migrated database has them.
        let mismatches = bulk::sqlite_count_mismatches(&out.join("data")).unwrap();
        assert!(mismatches.is_empty(), "counts disagree: {mismatches:?}");
        let fresh = out.join("fresh");
        drop(SqliteStore::open(&fresh, &Limits::default()).unwrap());
        assert_eq!(
            bulk::sqlite_schema(&out.join("data")).unwrap(),
            bulk::sqlite_schema(&fresh).unwrap()
        );
        // A second seed into the same database is refused, not doubled.
        assert!(run(args).await.is_err());
        let _ = std::fs::remove_dir_all(&out);
    }
}
