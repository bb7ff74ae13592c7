//! `rollgate rollout status NAME [--watch]`: the rollout's phase and weight, per-version
//! requests, error rate, p99 latency and conversion over the last minutes, the latest verdict
//! and the last decisions — redrawn every second with `--watch`.

use std::time::Duration;

use anyhow::Result;
use rollgate_analysis::RolloutMetrics;
use rollgate_analysis::format::thousands;
use rollgate_core::Cohort;
use rollgate_core::model::Phase;
use rollgate_server::{DecisionDto, DecisionPage, RolloutDto};
use serde::Serialize;

use crate::Exit;
use crate::client::{Client, Palette, Reply, Style, duration, print_json, segment, table, time};
use crate::output::OutputFormat;

/// `rollout status` options.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The rollout.
    pub name: String,
    /// Redraw every `--interval` until Ctrl-C or the rollout ends.
    #[arg(long, short)]
    pub watch: bool,
    /// Seconds between redraws with `--watch`.
    #[arg(long, default_value_t = 1.0, value_parser = positive_seconds)]
    pub interval: f64,
    /// Stop after this many redraws (for scripts and tests).
    #[arg(long, value_name = "N", requires = "watch")]
    pub watch_count: Option<u64>,
    /// Decisions shown.
    #[arg(long, default_value_t = 5)]
    pub decisions: u32,
}

/// Everything one frame shows (also the `--output json` document).
#[derive(Debug, Serialize)]
pub struct Status {
    /// The rollout.
    pub rollout: RolloutDto,
    /// Per-cohort metrics over the last five minutes.
    pub metrics: RolloutMetrics,
    /// The latest decisions, oldest first.
    pub decisions: Vec<DecisionDto>,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v >= 0.1 && v.is_finite() => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds ≥ 0.1")),
    }
}

/// Shows the status once, or redraws it.
pub async fn run(client: &Client, output: OutputFormat, args: StatusArgs) -> Result<Exit> {
    let palette = Palette::detect();
    let mut frames = 0u64;
    loop {
        let status = match fetch(client, &args.name, args.decisions).await? {
            Reply::Ok(s) => s,
            Reply::Refused(p) => {
                crate::client::print_refusal(&p, output);
                return Ok(Exit::Failure);
            }
        };
        frames += 1;
        match output {
            OutputFormat::Json => {
                // One document per line while watching, so scripts can read a stream.
                if args.watch {
                    println!("{}", serde_json::to_string(&status)?);
                } else {
                    print_json(&status)?;
                }
            }
            OutputFormat::Text => draw(&render(&status, palette), args.watch, palette, frames),
        }
        let phase = status.rollout.phase;
        let over = phase.is_terminal();
        let counted = args.watch_count.is_some_and(|n| frames >= n);
        if !args.watch || over || counted {
            return Ok(match phase {
                Phase::RolledBack | Phase::Aborted if args.watch => Exit::Failure,
                _ => Exit::Success,
            });
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs_f64(args.interval)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(Exit::Success),
        }
    }
}

async fn fetch(client: &Client, name: &str, decisions: u32) -> Result<Reply<Status>> {
    let base = format!("/api/v1/rollouts/{}", segment(name));
    let rollout = match client.get::<RolloutDto>(&base).await? {
        Reply::Ok(r) => r,
        Reply::Refused(p) => return Ok(Reply::Refused(p)),
    };
    let metrics = match client
        .get::<RolloutMetrics>(&format!("{base}/metrics"))
        .await?
    {
        Reply::Ok(m) => m,
        Reply::Refused(p) => return Ok(Reply::Refused(p)),
    };
    let path = format!(
        "/api/v1/decisions?rollout={}&order=desc&limit={}",
        segment(name),
        decisions.clamp(1, 1000)
    );
    let mut page = match client.get::<DecisionPage>(&path).await? {
        Reply::Ok(p) => p,
        Reply::Refused(p) => return Ok(Reply::Refused(p)),
    };
    page.decisions.reverse();
    Ok(Reply::Ok(Status {
        rollout,
        metrics,
        decisions: page.decisions,
    }))
}

/// Prints a frame: on a terminal while watching, over the previous one.
fn draw(frame: &str, watch: bool, palette: Palette, n: u64) {
    if watch && palette.enabled() {
        // Home the cursor and clear the screen, then draw.
        print!("\x1b[H\x1b[2J{frame}");
    } else if watch && n > 1 {
        print!("\n{frame}");
    } else {
        print!("{frame}");
    }
}

/// One frame as text.
pub fn render(s: &Status, p: Palette) -> String {
    let r = &s.rollout;
    let mut out = format!(
        "{}  {}: {} → {}  ({})\n",
        p.paint(&format!("rollout {}", r.name), Style::Bold),
        r.service,
        r.stable,
        r.canary,
        r.strategy
    );
    out += &format!(
        "phase    {} for {}   weight {}{}\n",
        p.paint(r.phase.as_str(), Palette::phase_style(r.phase.as_str())),
        duration(r.time_in_phase_ms),
        p.paint(&r.weight.to_string(), Style::Bold),
        r.step
            .as_ref()
            .map(|s| format!("   {s}"))
            .unwrap_or_default()
    );
    if let Some(v) = &r.verdict {
        let outcome = serde_json::to_value(v.outcome).ok();
        let outcome = outcome.as_ref().and_then(|o| o.as_str()).unwrap_or("?");
        out += &format!(
            "verdict  {} — {}\n",
            p.paint(outcome, Palette::outcome_style(outcome)),
            v.reason
        );
    }
    for (label, reason) in [
        ("paused", r.pause.as_ref().map(|x| &x.reason)),
        ("holding", r.hold.as_ref().map(|x| &x.reason)),
        ("rolling back", r.rollback.as_ref().map(|x| &x.reason)),
        ("problem", r.problem.as_ref()),
    ] {
        if let Some(reason) = reason {
            out += &format!("{}  {reason}\n", p.paint(label, Style::Warn));
        }
    }
    out += &format!("\n{}\n", metrics_table(&s.metrics, p));
    if !s.decisions.is_empty() {
        out += &format!("\n{}\n", decisions_table(&s.decisions, p));
    }
    out
}

/// Per-version requests, error rate, p99 and conversion.
fn metrics_table(m: &RolloutMetrics, p: Palette) -> comfy_table::Table {
    let mut t = table(
        &[
            "COHORT",
            "VERSION",
            "REQUESTS",
            "ERROR RATE",
            "P99",
            "CONVERSION",
        ],
        p,
    );
    for cohort in Cohort::ALL {
        let Some(c) = m.cohorts.get(&cohort) else {
            continue;
        };
        let value = |name: &str| c.metrics.get(name).and_then(|v| v.value);
        let requests = c.metrics.get("requests").map_or(0, |v| v.samples);
        let errors = value("error_rate");
        let error_style = match errors {
            Some(e) if e >= 0.05 => Style::Bad,
            Some(e) if e >= 0.01 => Style::Warn,
            _ => Style::Plain,
        };
        t.add_row(vec![
            p.cell(cohort.as_str(), Style::Bold),
            p.cell(&c.version, Style::Plain),
            p.cell(thousands(requests), Style::Plain),
            p.cell(percent(errors), error_style),
            p.cell(
                value("p99_latency").map_or("-".into(), |ms| format!("{ms:.0} ms")),
                Style::Plain,
            ),
            p.cell(percent(value("conversion_rate")), Style::Plain),
        ]);
    }
    t
}

/// The decisions, oldest first.
pub fn decisions_table(decisions: &[DecisionDto], p: Palette) -> comfy_table::Table {
    let mut t = table(&["TIME", "BY", "ACTION", "WEIGHT", "REASON"], p);
    for d in decisions {
        let by = match &d.actor {
            rollgate_core::model::Actor::Controller => "controller".to_owned(),
            rollgate_core::model::Actor::User(name) => name.clone(),
        };
        t.add_row(vec![
            p.cell(time(d.at), Style::Dim),
            p.cell(by, Style::Plain),
            p.cell(d.action, Palette::phase_style(d.phase_after.as_str())),
            p.cell(
                format!("{} → {}", d.weight_before, d.weight_after),
                Style::Plain,
            ),
            p.cell(&d.reason, Style::Plain),
        ]);
    }
    t
}

fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{:.2}%", x * 100.0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(percent(Some(0.0123)), "1.23%");
        assert_eq!(percent(None), "-");
        assert!(positive_seconds("0.05").is_err());
        assert_eq!(positive_seconds("2").unwrap(), 2.0);
    }

    #[test]
    fn the_sample_metrics_render_per_version() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/metrics-sample.json"
        );
        let doc: RolloutMetrics =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let text = metrics_table(&doc, Palette::plain()).to_string();
        assert!(
            text.contains("canary") && text.contains("v1.2") && text.contains("6.90%"),
            "{text}"
        );
        assert!(text.contains("baseline") && text.contains("v1.1"), "{text}");
    }
}
