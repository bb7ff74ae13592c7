//! The rollout's verdict: every condition's verdict combined under the failure and
//! inconclusive limits (as Argo Rollouts' analysis runs), with the sample-ratio check.

use std::collections::BTreeMap;

use rollgate_core::Ppm;
use rollgate_core::model::Outcome;
use serde::{Deserialize, Serialize};

use crate::condition::ConditionVerdict;
use crate::document::RolloutMetrics;
use crate::spec::{Analysis, SrmPolicy};
use crate::srm::{SrmCheck, srm_check};

/// The verdict on a rollout at one look.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutVerdict {
    /// The rollout.
    pub rollout: String,
    /// The canary weight the data was collected at.
    pub weight: Ppm,
    /// `fail`: roll back. `inconclusive`: hold. `pass`: every critical condition is
    /// confidently false.
    pub outcome: Outcome,
    /// More undecided checks than `inconclusive_limit` allows: a person should look (Argo's
    /// Inconclusive phase, which pauses the rollout).
    pub escalate: bool,
    /// Every condition, in spec order.
    pub conditions: Vec<ConditionVerdict>,
    /// The sample-ratio-mismatch check.
    pub srm: SrmCheck,
    /// One line for people.
    pub reason: String,
}

/// Failure and inconclusive counts of one condition over a run of checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Checks so far.
    pub checks: u32,
    /// Failed checks.
    pub failures: u32,
    /// Failed checks in a row, up to the latest.
    pub consecutive_failures: u32,
    /// Undecided checks that had enough data.
    pub inconclusives: u32,
    /// Undecided checks in a row, up to the latest.
    pub consecutive_inconclusives: u32,
}

/// The memory of one analysis run (one rollout step): how often each condition has failed
/// or stayed undecided. Reset it when the step changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tracker {
    counts: BTreeMap<String, Counts>,
}

/// The verdict of a single look with no history: what `rollgate analyze FILE` prints.
pub fn analyze(doc: &RolloutMetrics, analysis: &Analysis) -> RolloutVerdict {
    Tracker::new().judge(analysis, doc)
}

impl Tracker {
    /// A run with no checks yet.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Forgets every count (a new step, a resumed rollout).
    pub fn reset(&mut self) {
        self.counts.clear();
    }

    /// The counts of condition `name`.
    pub fn counts(&self, name: &str) -> Option<Counts> {
        self.counts.get(name).copied()
    }

    /// Judges `doc` (cumulative values since the step began), updates the counts and combines
    /// the conditions into the rollout's verdict.
    pub fn judge(&mut self, analysis: &Analysis, doc: &RolloutMetrics) -> RolloutVerdict {
        let spec = &analysis.spec;
        let mut conditions: Vec<ConditionVerdict> = analysis
            .conditions
            .iter()
            .map(|c| analysis.judge_condition(c, doc))
            .collect();
        for v in &mut conditions {
            let c = self.counts.entry(v.name.clone()).or_default();
            c.record(v);
            v.failures = c.failures;
            v.inconclusives = c.inconclusives;
        }
        let srm = srm_check(doc, &spec.srm_metric, spec.srm_alpha);
        let critical = || conditions.iter().filter(|c| c.critical);
        let failed: Vec<&ConditionVerdict> = critical()
            .filter(|c| c.outcome == Outcome::Fail && c.failures > spec.failure_limit)
            .collect();
        let undecided: Vec<&ConditionVerdict> =
            critical().filter(|c| c.outcome != Outcome::Pass).collect();
        let escalate = spec.inconclusive_limit > 0
            && critical().any(|c| {
                c.outcome == Outcome::Inconclusive && c.inconclusives > spec.inconclusive_limit
            });
        let srm_holds = srm.alarm && spec.srm == SrmPolicy::Hold;
        let (outcome, reason) = if let Some(first) = failed.first() {
            (Outcome::Fail, listed("failed", &failed, first))
        } else if srm_holds {
            (Outcome::Inconclusive, srm.reason.clone())
        } else if let Some(first) = undecided.first() {
            (
                Outcome::Inconclusive,
                listed("holding on", &undecided, first),
            )
        } else {
            let n = critical().count();
            (
                Outcome::Pass,
                format!(
                    "all {n} critical condition{} pass",
                    if n == 1 { "" } else { "s" }
                ),
            )
        };
        RolloutVerdict {
            rollout: doc.rollout.clone(),
            weight: doc.weight,
            outcome,
            escalate,
            conditions,
            srm,
            reason,
        }
    }
}

impl Counts {
    fn record(&mut self, v: &ConditionVerdict) {
        self.checks += 1;
        if v.outcome == Outcome::Fail {
            self.failures += 1;
            self.consecutive_failures += 1;
        } else {
            self.consecutive_failures = 0;
        }
        if v.outcome == Outcome::Inconclusive && !v.waiting_for_data {
            self.inconclusives += 1;
            self.consecutive_inconclusives += 1;
        } else {
            self.consecutive_inconclusives = 0;
        }
    }
}

/// `errors failed: <reason>` or `2 conditions failed (errors, latency); errors: <reason>`.
fn listed(verb: &str, all: &[&ConditionVerdict], first: &ConditionVerdict) -> String {
    if all.len() == 1 {
        return format!("{} {verb}: {}", first.name, first.reason);
    }
    let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    let what = if verb == "failed" {
        "conditions failed"
    } else {
        "holding on conditions"
    };
    format!(
        "{} {what} ({}); {}: {}",
        all.len(),
        names.join(", "),
        first.name,
        first.reason
    )
}
