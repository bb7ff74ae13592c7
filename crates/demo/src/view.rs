//! How the demo shows what happens. On a terminal: one screen redrawn every second (phase,
//! weight, step, each cohort's traffic, each condition's verdict, the latest decisions). Into
//! a pipe or a file: plain lines, a status line every few seconds and one line per decision as
//! it happens — what `docs/demo-terminal.txt` records.

use std::fmt::Write as _;

use rollgate_analysis::Outcome;
use rollgate_core::Cohort;
use rollgate_core::model::{Action, DecisionRecord, UnixMillis};

use crate::status::{RATE_WINDOW_S, Status};

/// Decisions kept on the terminal screen.
const SHOWN_DECISIONS: usize = 8;

/// Renders statuses and decisions for a terminal or for plain output.
#[derive(Debug)]
pub struct View {
    tty: bool,
    width: usize,
    started: UnixMillis,
    header: Vec<String>,
    recent: Vec<String>,
}

impl View {
    /// A view of a run that started at `started`; `header` lines stay at the top of the
    /// terminal screen. `width` is the terminal's (lines are cut to it).
    pub fn new(tty: bool, width: usize, started: UnixMillis, header: Vec<String>) -> View {
        View {
            tty,
            width: width.max(40),
            started,
            header,
            recent: Vec::new(),
        }
    }

    /// `m:ss` since the start.
    pub fn clock(&self, at: UnixMillis) -> String {
        let s = (at - self.started).max(0) / 1_000;
        format!("{}:{:02}", s / 60, s % 60)
    }

    /// One decision, as a line; also remembered for the terminal screen.
    pub fn decision(&mut self, d: &DecisionRecord) -> String {
        let line = format!(
            "[{}] {} {} → {}: {}",
            self.clock(d.at),
            d.action.as_str(),
            d.weight_before,
            d.weight_after,
            d.reason
        );
        self.recent.push(self.paint(action_color(d.action), &line));
        if self.recent.len() > SHOWN_DECISIONS {
            self.recent.remove(0);
        }
        line
    }

    /// The plain status line.
    pub fn line(&self, s: &Status) -> String {
        let mut out = format!("[{}] {} at {}", self.clock(s.at), s.phase, s.weight);
        if let Some(step) = &s.step {
            let _ = write!(out, ", {step}");
        }
        for c in s.cohorts.iter().filter(|c| c.cohort != Cohort::Stable) {
            let _ = write!(
                out,
                " | {} {:.0} req/s, errors {}, p99 {}, conversion {}",
                c.cohort.as_str(),
                c.rps,
                percent(c.error_rate),
                millis(c.p99_ms),
                percent(c.conversion)
            );
        }
        if !s.conditions.is_empty() {
            let verdicts: Vec<String> = s
                .conditions
                .iter()
                .map(|c| format!("{} {}", c.name, outcome(c.outcome)))
                .collect();
            let _ = write!(out, " | {}", verdicts.join(", "));
        }
        out
    }

    /// The whole terminal screen, starting with the escape codes that clear it.
    pub fn frame(&self, s: &Status) -> String {
        let mut lines: Vec<String> = self.header.clone();
        lines.push(String::new());
        let step = s.step.as_deref().unwrap_or("");
        lines.push(format!(
            "{}  phase {}  weight {}  {step}",
            self.clock(s.at),
            self.paint(phase_color(s), s.phase.as_str()),
            s.weight
        ));
        if let Some(verdict) = s.verdict.as_ref().filter(|_| !s.phase.is_terminal()) {
            lines.push(format!("verdict: {verdict}"));
        }
        lines.push(String::new());
        lines.push(format!(
            "{:<9} {:<8} {:>8} {:>8} {:>9} {:>11}   (last {}s)",
            "cohort", "version", "req/s", "errors", "p99", "conversion", RATE_WINDOW_S
        ));
        for c in &s.cohorts {
            lines.push(format!(
                "{:<9} {:<8} {:>8.1} {:>8} {:>9} {:>11}",
                c.cohort.as_str(),
                c.version,
                c.rps,
                percent(c.error_rate),
                millis(c.p99_ms),
                percent(c.conversion)
            ));
        }
        lines.push(String::new());
        lines.push("conditions (this step)".to_string());
        for c in &s.conditions {
            let mark = format!("{:<9}", outcome(c.outcome));
            let mark = self.paint(outcome_color(c.outcome), &mark);
            lines.push(format!("  {:<12} {mark} {}", c.name, c.reason));
        }
        lines.push(String::new());
        lines.push("decisions".to_string());
        lines.extend(self.recent.iter().map(|d| format!("  {d}")));
        let mut out = String::from("\x1b[H\x1b[2J");
        for l in lines {
            out.push_str(&cut(&l, self.width));
            out.push('\n');
        }
        out
    }

    fn paint(&self, color: u8, text: &str) -> String {
        if self.tty {
            format!("\x1b[{color}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// `0.13%`, or `-` without data.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.2}%", v * 100.0))
}

/// `44ms`, or `-` without data.
pub fn millis(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.0}ms"))
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Inconclusive => "undecided",
    }
}

const GREEN: u8 = 32;
const RED: u8 = 31;
const YELLOW: u8 = 33;
const PLAIN: u8 = 0;

fn outcome_color(o: Outcome) -> u8 {
    match o {
        Outcome::Pass => GREEN,
        Outcome::Fail => RED,
        Outcome::Inconclusive => YELLOW,
    }
}

fn action_color(a: Action) -> u8 {
    match a {
        Action::Promote | Action::Ramp => GREEN,
        Action::Rollback | Action::Abort => RED,
        Action::Hold | Action::Pause => YELLOW,
        _ => PLAIN,
    }
}

fn phase_color(s: &Status) -> u8 {
    use rollgate_core::model::Phase;
    match s.phase {
        Phase::Promoted => GREEN,
        Phase::RolledBack | Phase::Aborted => RED,
        Phase::Paused => YELLOW,
        Phase::Pending | Phase::Progressing => PLAIN,
    }
}

/// `line` cut to `width` characters (escape codes counted, which only cuts earlier).
fn cut(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut out: String = line.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    if line.contains('\x1b') {
        out.push_str("\x1b[0m");
    }
    out
}

#[cfg(test)]
mod tests {
    use rollgate_core::Ppm;
    use rollgate_core::model::{Actor, Phase};

    use super::*;
    use crate::status::{CohortStatus, ConditionStatus};

    fn status() -> Status {
        let cohort = |cohort, version: &str, rps| CohortStatus {
            cohort,
            version: version.into(),
            rps,
            error_rate: Some(0.0013),
            p99_ms: Some(44.4),
            conversion: None,
        };
        Status {
            at: 65_000,
            phase: Phase::Progressing,
            weight: Ppm::percent(5),
            step: Some("step 2 of 6 (5%)".into()),
            verdict: None,
            cohorts: vec![
                cohort(Cohort::Canary, "v2", 15.2),
                cohort(Cohort::Baseline, "v1", 15.0),
                cohort(Cohort::Stable, "v1", 270.0),
            ],
            conditions: vec![ConditionStatus {
                name: "latency".into(),
                outcome: Outcome::Fail,
                reason: "p99_latency 163ms vs baseline 45.8ms".into(),
            }],
        }
    }

    #[test]
    fn plain_lines_carry_the_numbers() {
        let v = View::new(false, 100, 0, vec![]);
        assert_eq!(
            v.line(&status()),
            "[1:05] progressing at 5%, step 2 of 6 (5%) | canary 15 req/s, errors 0.13%, p99 44ms, \
             conversion - | baseline 15 req/s, errors 0.13%, p99 44ms, conversion - | latency FAIL"
        );
    }

    #[test]
    fn decisions_are_numbered_by_time_and_kept_for_the_screen() {
        let mut v = View::new(true, 60, 0, vec!["rollgate demo".into()]);
        let d = DecisionRecord {
            id: 1,
            rollout: "shop-v2".into(),
            seq: 0,
            at: 3_000,
            actor: Actor::Controller,
            action: Action::Rollback,
            phase_before: Phase::Progressing,
            phase_after: Phase::RolledBack,
            weight_before: Ppm::percent(1),
            weight_after: Ppm::ZERO,
            reason: "rolled back: latency failed".into(),
            details: serde_json::Value::Null,
        };
        assert_eq!(
            v.decision(&d),
            "[0:03] rollback 1% → 0%: rolled back: latency failed"
        );
        let frame = v.frame(&status());
        assert!(frame.starts_with("\x1b[H\x1b[2Jrollgate demo\n"));
        assert!(frame.contains("\x1b[31m[0:03] rollback"), "{frame}");
        assert!(
            frame.lines().all(|l| l.chars().count() <= 60 + 16),
            "{frame}"
        );
    }
}
