//! The controller's state of one rollout: stored as JSON with the rollout, so a restart (even
//! `kill -9`) resumes exactly where the last committed reconcile left it.

use rollgate_core::Ppm;
use rollgate_core::model::{Phase, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::PidState;

/// Where a rollout is, and everything the controller remembers about it. Missing fields read
/// as their defaults, so state written by an older version still loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RolloutState {
    /// The life-cycle phase.
    pub phase: Phase,
    /// The canary's current share of eligible units.
    pub weight: Ppm,
    /// The current step (steps strategy); 0 for the other strategies.
    pub step: usize,
    /// When the current step began: the step was entered, or (interval strategies) the weight
    /// was last evaluated. Minimum durations, intervals and step sample counts start here.
    pub step_since: UnixMillis,
    /// When the current phase began.
    pub phase_since: UnixMillis,
    /// When the rollout last started (or was retried).
    pub started_at: Option<UnixMillis>,
    /// When the rollout last made progress (new step, new highest weight, resume, manual
    /// weight); the progress deadline counts from here.
    pub progress_at: UnixMillis,
    /// The highest weight reached since the rollout (re)started.
    pub peak: Ppm,
    /// Why and until when the rollout is paused, while it is.
    pub pause: Option<Pause>,
    /// A person set the weight by hand; on resume the strategy picks up from that weight.
    pub manual_weight: bool,
    /// The PID controller's memory.
    pub pid: PidState,
    /// A gradual rollback in progress. The phase stays `progressing` until the weight reaches
    /// 0 and the phase becomes `rolled_back`.
    pub rollback: Option<Draining>,
    /// Failed analysis windows since the rollout (re)started.
    pub failures: u32,
    /// Consecutive inconclusive analysis windows.
    pub inconclusive_streak: u32,
    /// The end of the last analysis window counted.
    pub last_window: Option<UnixMillis>,
    /// Why the rollout is holding its weight, since the last change.
    pub hold: Option<Hold>,
    /// The `seq` of the next decision.
    pub next_seq: u64,
}

/// A pause: who or what paused, why, and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// What caused it.
    pub kind: PauseKind,
    /// One line for people.
    pub reason: String,
    /// When it began.
    pub since: UnixMillis,
    /// When it ends on its own; `None` waits for `resume`.
    pub until: Option<UnixMillis>,
}

/// What caused a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseKind {
    /// A `{ pause = … }` step; resuming moves to the next step.
    Step,
    /// A person paused or set the weight.
    Manual,
    /// More inconclusive windows in a row than `inconclusive_limit`.
    Inconclusive,
    /// A linear or exponential ramp reached its `max` below 100%: only promote or abort go on.
    Finished,
}

/// A gradual rollback in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draining {
    /// Why the rollout is rolling back (the first decision's reason).
    pub reason: String,
    /// When it began.
    pub since: UnixMillis,
    /// When the weight was last reduced.
    pub last_at: UnixMillis,
    /// The weight when it began.
    pub from: Ppm,
}

/// Why the weight is not moving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The kind of reason; a decision is recorded when it changes.
    pub kind: HoldKind,
    /// The reason as it was first seen, with its numbers.
    pub reason: String,
    /// When the hold began.
    pub since: UnixMillis,
}

/// The kinds of reasons to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// The minimum duration or interval has not passed: the normal cadence, not recorded.
    Waiting,
    /// Too few canary samples in the step.
    Samples,
    /// No analysis verdict.
    NoAnalysis,
    /// The analysis is inconclusive.
    Inconclusive,
    /// A failure within `failure_limit`.
    FailureTolerated,
    /// A non-critical condition fails and the strategy has no back-off to apply.
    Degraded,
    /// The PID metric has no value.
    NoMargin,
}

impl HoldKind {
    /// True for holds worth a decision record (everything but the normal cadence).
    pub fn is_recorded(self) -> bool {
        self != HoldKind::Waiting
    }
}

impl RolloutState {
    /// A rollout created at `now`, not started yet.
    pub fn new(now: UnixMillis) -> RolloutState {
        RolloutState {
            phase: Phase::Pending,
            weight: Ppm::ZERO,
            step: 0,
            step_since: now,
            phase_since: now,
            started_at: None,
            progress_at: now,
            peak: Ppm::ZERO,
            pause: None,
            manual_weight: false,
            pid: PidState::default(),
            rollback: None,
            failures: 0,
            inconclusive_streak: 0,
            last_window: None,
            hold: None,
            next_seq: 0,
        }
    }

    /// True while a gradual rollback is draining the canary.
    pub fn is_rolling_back(&self) -> bool {
        self.rollback.is_some()
    }
}

impl Default for RolloutState {
    fn default() -> RolloutState {
        RolloutState::new(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_old_documents_load() {
        let mut s = RolloutState::new(7);
        s.phase = Phase::Paused;
        s.pause = Some(Pause {
            kind: PauseKind::Step,
            reason: "step 3".into(),
            since: 9,
            until: None,
        });
        let json = serde_json::to_value(&s).unwrap();
        let back: RolloutState = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        let old: RolloutState =
            serde_json::from_str(r#"{"phase":"progressing","weight":"5%"}"#).unwrap();
        assert_eq!(old.weight, Ppm::percent(5));
        assert_eq!(old.next_seq, 0);
        assert!(!old.is_rolling_back());
    }
}
