//! `plot.svg`, written by hand: goodput, p99 latency and server RSS over time.
//!
//! Goodput and latency use log10 axes because attackers and legitimate users
//! differ by orders of magnitude; on a linear axis one of the two is a flat line.

use std::fmt::Write as _;

use super::report::Report;

const WIDTH_PX: f64 = 960.0;
const PANEL_HEIGHT_PX: f64 = 230.0;
const LEFT_PX: f64 = 80.0;
const RIGHT_PX: f64 = 170.0;
const TOP_PX: f64 = 50.0;
const BOTTOM_PX: f64 = 45.0;
const LEGIT_COLOUR: &str = "#1b7f3b";
const ATTACKER_COLOUR: &str = "#c0392b";
const RSS_COLOUR: &str = "#2c5aa0";

struct Series<'a> {
    name: &'a str,
    colour: &'a str,
    points: Vec<(f64, Option<f64>)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One chart panel at vertical offset `top`.
fn panel(
    svg: &mut String,
    top: f64,
    title: &str,
    y_label: &str,
    x_max: f64,
    log: bool,
    series: &[Series],
) {
    let (x0, x1) = (LEFT_PX, WIDTH_PX - RIGHT_PX);
    let (y0, y1) = (top + PANEL_HEIGHT_PX - BOTTOM_PX, top + 25.0);
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1));
    let (lo, hi) = if log {
        let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
        let lo = positive.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = positive.iter().cloned().fold(0.0, f64::max);
        if positive.is_empty() {
            (0.0, 1.0)
        } else {
            (
                lo.log10().floor().min(0.0),
                hi.log10().ceil().max(lo.log10().floor() + 1.0),
            )
        }
    } else {
        let hi = values.fold(0.0, f64::max);
        (0.0, if hi > 0.0 { hi * 1.1 } else { 1.0 })
    };
    let x_max = x_max.max(1.0);
    let sx = |x: f64| x0 + (x / x_max) * (x1 - x0);
    // Zero and below sit on the floor of a log axis.
    let sy = |v: f64| {
        let v = if log {
            if v > 0.0 {
                v.log10().max(lo)
            } else {
                lo
            }
        } else {
            v
        };
        y0 - (v - lo) / (hi - lo) * (y0 - y1)
    };
    let _ = writeln!(
        svg,
        r#"<text x="{x0}" y="{}" font-size="15" font-weight="bold">{}</text>"#,
        top + 16.0,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{x0}" y="{y1}" width="{}" height="{}" fill="none" stroke="#888"/>"##,
        x1 - x0,
        y0 - y1
    );
    // y ticks
    let ticks: Vec<f64> = if log {
        (lo as i32..=hi as i32).map(|e| 10f64.powi(e)).collect()
    } else {
        (0..=4).map(|i| hi * i as f64 / 4.0).collect()
    };
    for t in ticks {
        let y = sy(t);
        let label = if t == t.trunc() {
            format!("{t:.0}")
        } else if t >= 1.0 {
            format!("{t:.1}")
        } else {
            format!("{t}")
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{label}</text>"##,
            x0 - 5.0,
            y + 4.0
        );
    }
    // x ticks every ~1/10 of the run, on whole seconds
    let step = ((x_max / 10.0).ceil()).max(1.0);
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let x = sx(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{:.1}" stroke="#888"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{t:.0}</text>"##,
            y0 + 4.0,
            y0 + 16.0
        );
        t += step;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">time since the siege started (s)</text>"#,
        (x0 + x1) / 2.0,
        y0 + 33.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">{}</text>"#,
        x0 - 55.0,
        (y0 + y1) / 2.0,
        x0 - 55.0,
        (y0 + y1) / 2.0,
        escape(y_label)
    );
    for (i, s) in series.iter().enumerate() {
        // Gaps (seconds with no data) break the line rather than drawing through them.
        let mut d = String::new();
        let mut pen_down = false;
        for (x, v) in &s.points {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        sx(*x),
                        sy(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = writeln!(
            svg,
            r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            d.trim_end(),
            s.colour
        );
        let ly = y1 + 15.0 + 18.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="3"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            x1 + 10.0,
            x1 + 30.0,
            s.colour,
            x1 + 35.0,
            ly + 4.0,
            escape(s.name)
        );
    }
}

pub fn render(report: &Report) -> String {
    let x_max = report.duration_s.max(report.timeline.len() as f64);
    let mid = |i: usize| i as f64 + 0.5;
    let per_second =
        |f: &dyn Fn(&super::report::SecondJson) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
            report
                .timeline
                .iter()
                .enumerate()
                .map(|(i, s)| (mid(i), f(s)))
                .collect()
        };
    let has_attackers = report.totals.attacker.sent > 0;
    let mut goodput = vec![Series {
        name: "legit 2xx/s",
        colour: LEGIT_COLOUR,
        points: per_second(&|s| Some(s.legit.ok as f64)),
    }];
    let mut latency = vec![Series {
        name: "legit p99",
        colour: LEGIT_COLOUR,
        points: per_second(&|s| s.legit.p99_ms),
    }];
    if has_attackers {
        goodput.push(Series {
            name: "attacker 2xx/s",
            colour: ATTACKER_COLOUR,
            points: per_second(&|s| Some(s.attacker.ok as f64)),
        });
        goodput.push(Series {
            name: "attacker admitted/s",
            colour: "#e67e22",
            points: per_second(&|s| Some(s.attacker.admitted as f64)),
        });
        latency.push(Series {
            name: "attacker p99",
            colour: ATTACKER_COLOUR,
            points: per_second(&|s| s.attacker.p99_ms),
        });
    }
    let rss = vec![Series {
        name: "server RSS",
        colour: RSS_COLOUR,
        points: report
            .server
            .samples
            .iter()
            .map(|s| (s.t_s, s.rss_kib.map(|k| k as f64 / 1024.0)))
            .collect(),
    }];
    let height = TOP_PX + 3.0 * PANEL_HEIGHT_PX + 10.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" viewBox="0 0 {WIDTH_PX} {height}" font-family="sans-serif">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let heading = format!(
        "holdfast siege: {}, legit success {}, legit p99 {} ms, server RSS max {} MiB",
        report.scenario,
        report
            .totals
            .legit
            .success_ratio
            .map(|r| format!("{:.2}%", r * 100.0))
            .unwrap_or("-".into()),
        report
            .totals
            .legit
            .p99_ms
            .map(|v| format!("{v:.1}"))
            .unwrap_or("-".into()),
        report
            .server
            .rss_max_mib
            .map(|v| format!("{v:.0}"))
            .unwrap_or("-".into()),
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT_PX}" y="28" font-size="17">{}</text>"#,
        escape(&heading)
    );
    panel(
        &mut svg,
        TOP_PX,
        "Goodput (successful responses per second, by send second)",
        "responses/s (log)",
        x_max,
        true,
        &goodput,
    );
    panel(
        &mut svg,
        TOP_PX + PANEL_HEIGHT_PX,
        "p99 latency per second (legit: from scheduled start)",
        "ms (log)",
        x_max,
        true,
        &latency,
    );
    panel(
        &mut svg,
        TOP_PX + 2.0 * PANEL_HEIGHT_PX,
        "Server resident memory",
        "MiB",
        x_max,
        false,
        &rss,
    );
    svg.push_str("</svg>\n");
    svg
}
