//! The verdicts as text for a terminal (`rollgate analyze FILE`).

use std::fmt;

use crate::condition::{ConditionVerdict, Outcome};
use crate::verdict::RolloutVerdict;

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Inconclusive => "INCONCLUSIVE",
        })
    }
}

/// `FAIL  errors  <reason>` (non-critical conditions are marked).
impl fmt::Display for ConditionVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let note = if self.critical { "" } else { " (non-critical)" };
        write!(
            f,
            "{:<12}  {}{note}: {}",
            self.outcome, self.name, self.reason
        )
    }
}

/// A headline, one line per condition, and the sample-ratio check.
impl fmt::Display for RolloutVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rollout {} at {}: {} — {}",
            self.rollout, self.weight, self.outcome, self.reason
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
