//! Domain records shared by the analysis, the controller, the store and the API: version
//! snapshots, rollout phases, actors, analysis outcomes and the decision audit log. Plain data,
//! no behaviour beyond naming and small invariants.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Ppm;

/// Milliseconds since the Unix epoch (UTC). Passed in by callers; nothing in the pure crates
/// reads a clock.
pub type UnixMillis = i64;

/// An immutable release snapshot of a service: what `v1.2` was when it was registered.
/// Snapshots are never changed, so any earlier one can be restored exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSnapshot {
    /// The service this version belongs to.
    pub service: String,
    /// The version name, unique within the service (`v1.2`).
    pub name: String,
    /// Upstream endpoints (`host:port`) that serve this version.
    pub endpoints: Vec<String>,
    /// Free-form labels: image digest, commit, build URL.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When the snapshot was recorded.
    pub created_at: UnixMillis,
    /// Who recorded it (`config`, a token name, `controller`).
    pub created_by: String,
}

/// Where a rollout is in its life. `Promoted`, `RolledBack` and `Aborted` are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Created, not started yet.
    Pending,
    /// The strategy is moving the weight.
    Progressing,
    /// Held at the current weight until resumed (by a person or a timed pause step).
    Paused,
    /// The canary became the stable version.
    Promoted,
    /// The analysis or an operator sent all traffic back to stable.
    RolledBack,
    /// An operator stopped the rollout; all traffic is on stable.
    Aborted,
}

impl Phase {
    /// Every phase, in life-cycle order.
    pub const ALL: [Phase; 6] = [
        Phase::Pending,
        Phase::Progressing,
        Phase::Paused,
        Phase::Promoted,
        Phase::RolledBack,
        Phase::Aborted,
    ];

    /// The name used in the API, the CLI and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Progressing => "progressing",
            Phase::Paused => "paused",
            Phase::Promoted => "promoted",
            Phase::RolledBack => "rolled_back",
            Phase::Aborted => "aborted",
        }
    }

    /// Parses the name used in the API and the store.
    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// True when the rollout is over and nothing moves it any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Promoted | Phase::RolledBack | Phase::Aborted)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a decision: the controller on its own, or a named person or tool (the token name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Actor {
    /// The reconcile loop, acting on metrics, time or the strategy.
    Controller,
    /// A person or tool, named by its API token (or `cli` for offline commands).
    User(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Controller => f.write_str("controller"),
            Actor::User(name) => write!(f, "user:{name}"),
        }
    }
}

/// What a decision did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The rollout started (pending → progressing).
    Start,
    /// The weight went up.
    Ramp,
    /// The weight went down while the rollout continues (linear / PID back-off).
    Reduce,
    /// The controller kept the weight (inconclusive data, minimum duration or samples not met).
    Hold,
    /// The rollout was paused.
    Pause,
    /// The rollout was resumed.
    Resume,
    /// An operator set the weight by hand.
    SetWeight,
    /// The canary became stable.
    Promote,
    /// Traffic went back to stable because of a failing condition, a deadline or the breaker.
    Rollback,
    /// An operator stopped the rollout.
    Abort,
    /// A rolled-back or aborted rollout was started again.
    Retry,
    /// An earlier version snapshot was made stable again.
    Restore,
}

impl Action {
    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Ramp => "ramp",
            Action::Reduce => "reduce",
            Action::Hold => "hold",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::SetWeight => "set_weight",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
            Action::Abort => "abort",
            Action::Retry => "retry",
            Action::Restore => "restore",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an analysis concluded, about one condition, a whole rollout or one window: the analysis
/// judges it, the controller acts on it, decisions and the API report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The failure condition is confidently false (for a rollout: every critical condition).
    Pass,
    /// The failure condition confidently holds (for a rollout: a critical condition).
    Fail,
    /// Not enough data or evidence either way: hold.
    Inconclusive,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 3] = [Outcome::Pass, Outcome::Fail, Outcome::Inconclusive];

    /// The name used in the API, decisions and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the append-only audit log: every change of weight or phase, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Position in the log, assigned by the store (0 before it is stored).
    pub id: i64,
    /// The rollout this decision belongs to.
    pub rollout: String,
    /// The rollout's own decision counter: (rollout, seq) is unique, so a retried write after
    /// a crash or a leader change can never record the same decision twice.
    pub seq: u64,
    /// When it was decided.
    pub at: UnixMillis,
    /// Who decided.
    pub actor: Actor,
    /// What was done.
    pub action: Action,
    /// Phase before the decision.
    pub phase_before: Phase,
    /// Phase after the decision.
    pub phase_after: Phase,
    /// Canary weight before the decision.
    pub weight_before: Ppm,
    /// Canary weight after the decision.
    pub weight_after: Ppm,
    /// One line a person can read: which rule fired, with its numbers.
    pub reason: String,
    /// The numbers behind it (verdicts, metric values, sample sizes), as structured data.
    #[serde(default)]
    pub details: serde_json::Value,
}
