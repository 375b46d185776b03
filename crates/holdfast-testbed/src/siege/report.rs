//! `report.json` and the summary table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::server::Sample;
use super::stats::{percentile_sorted, Snapshot, Tally};
use super::SiegeArgs;

/// `legit.csv`: one line per legit request, by due time. `due_unix_ms` places
/// it beside a profile or a log taken on the same clock (`perf record -k
/// realtime`), `due_ms` in the run (the report's timeline).
pub fn legit_csv(snap: &Snapshot, start_unix_us: u64) -> String {
    let mut out = String::from("due_unix_ms,due_ms,latency_ms,action,outcome\n");
    for r in &snap.legit_requests {
        let _ = writeln!(
            out,
            "{:.3},{:.3},{:.3},{},{}",
            (start_unix_us + r.due_us) as f64 / 1000.0,
            r.due_us as f64 / 1000.0,
            r.latency_us as f64 / 1000.0,
            r.action,
            r.outcome
        );
    }
    out
}

fn ms(us: Option<u64>) -> Option<f64> {
    us.map(|v| (v as f64 / 10.0).round() / 100.0)
}

#[derive(Serialize)]
pub struct SecondJson {
    pub t_s: u64,
    pub legit: TallyJson,
    pub attacker: TallyJson,
}

#[derive(Serialize)]
pub struct TallyJson {
    pub sent: u64,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    pub admitted: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl From<&Tally> for TallyJson {
    fn from(t: &Tally) -> Self {
        TallyJson {
            sent: t.sent,
            ok: t.ok,
            refused: t.refused,
            errors: t.errors,
            admitted: t.admitted,
            p50_ms: ms(t.latency_us.percentile(0.5)),
            p99_ms: ms(t.latency_us.percentile(0.99)),
            max_ms: ms((t.sent > 0).then_some(t.max_us)),
        }
    }
}

#[derive(Serialize)]
pub struct TotalJson {
    pub sent: u64,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    /// Not refused: the server did the work.
    pub admitted: u64,
    /// ok / sent.
    pub success_ratio: Option<f64>,
    pub sent_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Per status code, or reset/closed/timeout/connect_error/…
    pub by_status: BTreeMap<String, u64>,
}

fn total(
    t: &Tally,
    exact_sorted_us: Option<&[u64]>,
    labels: &BTreeMap<String, u64>,
    duration_s: f64,
) -> TotalJson {
    // Legit latencies are kept exactly; attacker ones in a histogram (within 3 %).
    let p = |q: f64| match exact_sorted_us {
        Some(v) => percentile_sorted(v, q),
        None => t.latency_us.percentile(q),
    };
    TotalJson {
        sent: t.sent,
        ok: t.ok,
        refused: t.refused,
        errors: t.errors,
        admitted: t.admitted,
        success_ratio: (t.sent > 0).then(|| t.ok as f64 / t.sent as f64),
        sent_per_s: if duration_s > 0.0 {
            (t.sent as f64 / duration_s * 10.0).round() / 10.0
        } else {
            0.0
        },
        p50_ms: ms(p(0.5)),
        p99_ms: ms(p(0.99)),
        p999_ms: ms(p(0.999)),
        max_ms: ms(p(1.0)),
        by_status: labels.clone(),
    }
}

#[derive(Serialize)]
pub struct Totals {
    pub legit: TotalJson,
    pub attacker: TotalJson,
}

#[derive(Serialize)]
pub struct ActionJson {
    pub sent: u64,
    pub ok: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct SlowlorisJson {
    /// `slowloris` (unfinished heads) or `slow-body` (stalled bodies).
    pub attack: &'static str,
    pub connections_wanted: usize,
    pub attempted: u64,
    pub connect_failed: u64,
    pub cut_by_server: u64,
    pub held_to_end: u64,
    pub open_max: u64,
}

#[derive(Serialize)]
pub struct ServerJson {
    pub pid: Option<u32>,
    pub self_started: bool,
    pub rss_max_kib: Option<u64>,
    pub rss_max_mib: Option<f64>,
    /// Set if the server process ended before siege stopped it: a crash.
    pub died_during_run: Option<String>,
    pub exit_status: Option<String>,
    pub samples: Vec<Sample>,
}

#[derive(Serialize)]
pub struct Report {
    pub scenario: String,
    pub target: String,
    pub started_unix_s: u64,
    pub config: SiegeArgs,
    pub setup_s: f64,
    pub duration_s: f64,
    pub timeline: Vec<SecondJson>,
    pub totals: Totals,
    pub legit_by_action: BTreeMap<String, ActionJson>,
    pub slowloris: Option<SlowlorisJson>,
    pub server: ServerJson,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        args: &SiegeArgs,
        target: String,
        started_unix_s: u64,
        setup_s: f64,
        duration_s: f64,
        snap: &Snapshot,
        slowloris: Option<SlowlorisJson>,
        server: ServerJson,
    ) -> Report {
        Report {
            scenario: args.scenario.clone(),
            target,
            started_unix_s,
            config: args.clone(),
            setup_s: (setup_s * 100.0).round() / 100.0,
            duration_s: (duration_s * 100.0).round() / 100.0,
            timeline: snap
                .timeline
                .iter()
                .enumerate()
                .map(|(i, (l, a))| SecondJson {
                    t_s: i as u64,
                    legit: l.into(),
                    attacker: a.into(),
                })
                .collect(),
            totals: Totals {
                legit: total(
                    &snap.legit,
                    Some(&snap.legit_exact_us),
                    &snap.legit_labels,
                    duration_s,
                ),
                attacker: total(&snap.attacker, None, &snap.attacker_labels, duration_s),
            },
            legit_by_action: snap
                .legit_actions
                .iter()
                .map(|(k, a)| {
                    let p = |q: f64| ms(percentile_sorted(&a.exact_us, q));
                    (
                        k.to_string(),
                        ActionJson {
                            sent: a.sent,
                            ok: a.ok,
                            p50_ms: p(0.5),
                            p99_ms: p(0.99),
                            max_ms: p(1.0),
                        },
                    )
                })
                .collect(),
            slowloris,
            server,
        }
    }

    pub fn summary(&self) -> String {
        let mut out = String::new();
        let f = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "holdfast siege: {} for {:.1} s against {}",
            self.scenario, self.duration_s, self.target
        );
        let _ = writeln!(
            out,
            "{:<9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "",
            "sent",
            "ok",
            "refused",
            "errors",
            "admitted",
            "success",
            "p50 ms",
            "p99 ms",
            "p999 ms"
        );
        for (name, t) in [
            ("legit", &self.totals.legit),
            ("attacker", &self.totals.attacker),
        ] {
            let success = t
                .success_ratio
                .map(|r| format!("{:.2}%", r * 100.0))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                name,
                t.sent,
                t.ok,
                t.refused,
                t.errors,
                t.admitted,
                success,
                f(t.p50_ms),
                f(t.p99_ms),
                f(t.p999_ms)
            );
        }
        let _ = writeln!(
            out,
            "legit success ratio: {}",
            self.totals
                .legit
                .success_ratio
                .map(|r| format!("{:.2}%", r * 100.0))
                .unwrap_or("-".into())
        );
        let _ = writeln!(
            out,
            "attacker requests admitted: {} of {} ({:.1}/s)",
            self.totals.attacker.admitted,
            self.totals.attacker.sent,
            self.totals.attacker.sent_per_s
        );
        if let Some(s) = &self.slowloris {
            let _ = writeln!(
                out,
                "{}: {} wanted, {} opened at most, {} held to the end, {} cut by the server, {} connects failed",
                s.attack, s.connections_wanted, s.open_max, s.held_to_end, s.cut_by_server, s.connect_failed
            );
        }
        let rss = self
            .server
            .rss_max_mib
            .map(|m| format!("{m:.1} MiB"))
            .unwrap_or_else(|| "not sampled (no --server-pid)".into());
        let _ = writeln!(out, "server RSS max: {rss}");
        if let Some(died) = &self.server.died_during_run {
            let _ = writeln!(out, "SERVER DIED during the run: {died}");
        }
        out
    }
}

/// What a run that served nothing leaves behind, so that a script reading
/// `report.json` after every run learns why instead of finding no file
/// (issue 10: a calm run at 4,800/s was refused before it started, said so
/// only on stderr and left no report). A run that got as far as its own
/// report (a server that died mid-run) keeps it.
#[derive(Serialize)]
struct FailureReport<'a> {
    scenario: &'a str,
    config: &'a SiegeArgs,
    /// Why the run did not happen or did not finish.
    error: &'a str,
    /// Nothing was measured: no request of the run was served.
    served: &'static str,
}

pub fn write_failure(args: &SiegeArgs, error: &str) {
    let path = args.out.join("report.json");
    if path.exists() {
        return;
    }
    let failure = FailureReport {
        scenario: &args.scenario,
        config: args,
        error,
        served: "nothing: the run did not happen (see error)",
    };
    match serde_json::to_string_pretty(&failure) {
        Ok(json) => {
            if let Err(e) = std::fs::write(&path, json) {
                eprintln!("siege: cannot write {}: {e}", path.display());
            }
        }
        Err(e) => eprintln!("siege: cannot write the failure report: {e}"),
    }
}
