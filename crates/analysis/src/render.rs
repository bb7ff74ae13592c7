//! The verdicts as text for a terminal (`rollgate analyze FILE`).

use std::fmt;

use rollgate_core::model::Outcome;

use crate::condition::ConditionVerdict;
use crate::verdict::RolloutVerdict;

/// `FAIL  errors  <reason>` (non-critical conditions are marked).
impl fmt::Display for ConditionVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let note = if self.critical { "" } else { " (non-critical)" };
        write!(
            f,
            "{:<12}  {}{note}: {}",
            shout(self.outcome),
            self.name,
            self.reason
        )
    }
}

/// A headline, one line per condition, and the sample-ratio check.
impl fmt::Display for RolloutVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rollout {} at {}: {} — {}",
            self.rollout,
            self.weight,
            shout(self.outcome),
            self.reason
        )?;
        if self.escalate {
            writeln!(f, "  (inconclusive limit exceeded: needs a person)")?;
        }
        for c in &self.conditions {
            writeln!(f, "  {c}")?;
        }
        let srm = if self.srm.alarm { "ALARM" } else { "ok" };
        write!(f, "  {srm:<12}  sample ratio: {}", self.srm.reason)
    }
}

/// An outcome in capitals, to stand out in a terminal: `PASS`, `FAIL`, `INCONCLUSIVE`.
fn shout(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Inconclusive => "INCONCLUSIVE",
    }
}
