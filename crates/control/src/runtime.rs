//! What the loop keeps in memory per active rollout between ticks: the compiled plan, the
//! analysis tracker of the current run, the latest health, the breaker tracker, and state
//! changes not worth a commit of their own.
//!
//! None of it has to survive a restart: the tracker restarts with an empty run (the windows
//! are in memory too, so the step's evidence starts over), the breaker is observed again, and
//! the uncommitted counters are recomputed from the stored state.

use std::sync::Arc;

use rollgate_analysis::{RolloutVerdict, Tracker};
use rollgate_controller::{Health, RolloutState};
use rollgate_core::model::{Phase, UnixMillis};
use serde_json::Value;

use crate::breakers::OpenTracker;
use crate::compile::Compiled;
use crate::view::VerdictSummary;

/// The loop's memory of one active rollout.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// The stored spec this was compiled from (recompiled when it differs).
    pub spec: Value,
    pub compiled: Arc<Compiled>,
    /// The analysis run's memory; reset when [`RunKey`] changes.
    pub tracker: Tracker,
    pub run: Option<RunKey>,
    /// End of the last range judged.
    pub judged_to: Option<UnixMillis>,
    pub health: Option<Health>,
    pub samples_in_step: u64,
    pub breaker: OpenTracker,
    /// Why the latest observation failed (the metrics provider could not answer).
    pub problem: Option<String>,
    /// A state computed on top of stored revision `.0` that changed only counters or timers
    /// (no decision, no effect): kept here and committed at the next decision or checkpoint.
    pub working: Option<(u64, RolloutState)>,
}

/// What identifies one analysis run: a new step, a new phase or a restart of the rollout
/// begins a new run with fresh counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RunKey {
    pub step: usize,
    pub step_since: UnixMillis,
    pub phase: Phase,
    pub started_at: Option<UnixMillis>,
}

/// What queries may read about a rollout.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveStatus {
    pub compiled: Option<Arc<Compiled>>,
    pub verdict: Option<Arc<RolloutVerdict>>,
    pub summary: Option<VerdictSummary>,
    pub breaker_open_since: Option<UnixMillis>,
    pub problem: Option<String>,
}

impl Runtime {
    pub fn new(spec: Value, compiled: Arc<Compiled>) -> Runtime {
        Runtime {
            spec,
            compiled,
            tracker: Tracker::new(),
            run: None,
            judged_to: None,
            health: None,
            samples_in_step: 0,
            breaker: OpenTracker::default(),
            problem: None,
            working: None,
        }
    }

    /// Starts a new analysis run when the step, the phase or the start changed.
    pub fn follow(&mut self, state: &RolloutState) {
        let key = RunKey {
            step: state.step,
            step_since: state.step_since,
            phase: state.phase,
            started_at: state.started_at,
        };
        if self.run != Some(key) {
            self.run = Some(key);
            self.tracker.reset();
            self.judged_to = None;
            self.health = None;
            self.samples_in_step = 0;
        }
    }
}
