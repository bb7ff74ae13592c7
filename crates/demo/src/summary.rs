//! The end of a run in a few lines: what the control plane decided, why, how long the whole
//! rollout took and, for a rollback, how long the fault took to be caught. Read from the
//! decision log, never made up by the demo.

use std::fmt;

use rollgate_core::model::{Action, DecisionRecord, Phase, UnixMillis};

use crate::plan::{CANARY, STABLE};

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// `promoted`, `rolled_back` or `aborted`.
    pub outcome: Phase,
    /// The reason of the decision that ended the rollout.
    pub reason: String,
    /// The critical condition that failed, for a rollback on a verdict.
    pub condition: Option<String>,
    /// From the start decision to the final one, in milliseconds.
    pub rollout_ms: i64,
    /// From the canary's first answer to the rollback decision, in milliseconds.
    pub detection_ms: Option<i64>,
    /// The weights the rollout went through, in order.
    pub weights: Vec<String>,
    /// One line about the traffic that was played.
    pub traffic: String,
}

impl Summary {
    /// The summary of a finished rollout from its decisions (oldest first); `first_canary` is
    /// when a user first got an answer from the canary. `None` while it has not finished.
    pub fn of(
        decisions: &[DecisionRecord],
        first_canary: Option<UnixMillis>,
        traffic: String,
    ) -> Option<Summary> {
        let end = decisions
            .iter()
            .rev()
            .find(|d| d.phase_after.is_terminal())?;
        let start = decisions
            .iter()
            .find(|d| d.action == Action::Start)
            .map_or(end.at, |d| d.at);
        let mut weights: Vec<String> = Vec::new();
        for d in decisions
            .iter()
            .filter(|d| d.weight_after != d.weight_before)
        {
            weights.push(d.weight_after.to_string());
        }
        let rolled_back = end.action == Action::Rollback;
        Some(Summary {
            outcome: end.phase_after,
            reason: end.reason.clone(),
            condition: end
                .details
                .get("failing_condition")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            rollout_ms: end.at - start,
            detection_ms: rolled_back.then(|| end.at - first_canary.unwrap_or(start)),
            weights,
            traffic,
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "── summary ──")?;
        let outcome = match self.outcome {
            Phase::Promoted => format!("promoted: {CANARY} is now the stable version"),
            Phase::RolledBack => format!("rolled back: all traffic is on {STABLE} again"),
            other => format!("{other}: all traffic is on {STABLE}"),
        };
        writeln!(f, "outcome:        {outcome}")?;
        if let Some(c) = &self.condition {
            writeln!(f, "condition:      {c}")?;
        }
        writeln!(f, "reason:         {}", self.reason)?;
        if let Some(ms) = self.detection_ms {
            writeln!(
                f,
                "detection time: {} (from the canary's first answer to the rollback decision)",
                seconds(ms)
            )?;
        }
        writeln!(
            f,
            "rollout time:   {} (from the start decision to the last)",
            seconds(self.rollout_ms)
        )?;
        writeln!(f, "weights:        0% → {}", self.weights.join(" → "))?;
        write!(f, "traffic:        {}", self.traffic)
    }
}

/// `21.4s`.
fn seconds(ms: i64) -> String {
    format!("{:.1}s", ms as f64 / 1e3)
}

#[cfg(test)]
mod tests {
    use rollgate_core::Ppm;
    use rollgate_core::model::Actor;
    use serde_json::json;

    use super::*;

    fn decision(at: i64, action: Action, after: Phase, w: (u32, u32)) -> DecisionRecord {
        DecisionRecord {
            id: at,
            rollout: "shop-v2".into(),
            seq: 0,
            at,
            actor: Actor::Controller,
            action,
            phase_before: Phase::Progressing,
            phase_after: after,
            weight_before: Ppm::percent(w.0),
            weight_after: Ppm::percent(w.1),
            reason: format!("{} at {at}", action.as_str()),
            details: json!({}),
        }
    }

    #[test]
    fn a_rollback_reports_its_condition_and_the_detection_time() {
        let mut rollback = decision(24_500, Action::Rollback, Phase::RolledBack, (1, 0));
        rollback.details = json!({"failing_condition": "latency"});
        let log = [
            decision(1_000, Action::Start, Phase::Progressing, (0, 1)),
            decision(16_000, Action::Hold, Phase::Progressing, (1, 1)),
            rollback,
        ];
        let s = Summary::of(&log, Some(1_300), "t".into()).unwrap();
        assert_eq!(s.outcome, Phase::RolledBack);
        assert_eq!(s.condition.as_deref(), Some("latency"));
        assert_eq!((s.rollout_ms, s.detection_ms), (23_500, Some(23_200)));
        let text = s.to_string();
        assert!(text.contains("outcome:        rolled back"), "{text}");
        assert!(text.contains("detection time: 23.2s"), "{text}");
        assert!(text.contains("weights:        0% → 1% → 0%"), "{text}");
    }

    #[test]
    fn a_promotion_has_no_detection_time_and_an_unfinished_log_no_summary() {
        let log = [
            decision(1_000, Action::Start, Phase::Progressing, (0, 50)),
            decision(9_000, Action::Ramp, Phase::Progressing, (50, 100)),
        ];
        assert_eq!(Summary::of(&log, None, String::new()), None);
        let done = [
            log[0].clone(),
            log[1].clone(),
            decision(12_000, Action::Promote, Phase::Promoted, (100, 100)),
        ];
        let s = Summary::of(&done, None, String::new()).unwrap();
        assert_eq!(s.detection_ms, None);
        assert_eq!(s.weights, ["50%", "100%"]);
        assert!(!s.to_string().contains("detection"));
        assert!(
            s.to_string()
                .contains("promoted: v2 is now the stable version")
        );
    }
}
