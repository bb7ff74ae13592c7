//! Rollouts as the API shows them, and the bodies of the requests that change them.

use rollgate_control::{RolloutView, VerdictSummary};
use rollgate_controller::{Draining, Hold, Pause};
use rollgate_core::Ppm;
use rollgate_core::model::{Outcome, Phase, UnixMillis};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::schema::{DrainingSchema, HoldSchema, OutcomeSchema, PauseSchema, PhaseSchema};

/// A rollout: its versions, phase, weight, strategy position, latest verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Rollout)]
pub struct RolloutDto {
    /// Its name.
    pub name: String,
    /// The service it moves.
    pub service: String,
    /// The version traffic comes from.
    pub stable: String,
    /// The version traffic goes to.
    pub canary: String,
    /// Where it is in its life.
    #[schema(value_type = PhaseSchema)]
    pub phase: Phase,
    /// The canary's share of eligible units (`"10%"`).
    #[schema(value_type = String, example = "10%")]
    pub weight: Ppm,
    /// The same share in parts per million (`100000`), for scripts.
    pub weight_ppm: u32,
    /// `steps`, `linear`, `exponential`, `pid`, `manual` or `restore`.
    pub strategy: String,
    /// The current step, for the steps strategy (`step 2 of 7 (5%)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When the current phase began (Unix ms).
    pub phase_since: UnixMillis,
    /// How long it has been in this phase (ms).
    pub time_in_phase_ms: i64,
    /// Why it is paused, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PauseSchema>)]
    pub pause: Option<Pause>,
    /// A gradual rollback in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DrainingSchema>)]
    pub rollback: Option<Draining>,
    /// Why the weight is not moving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HoldSchema>)]
    pub hold: Option<Hold>,
    /// The latest analysis verdict since the control plane started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictDto>,
    /// Since when the canary's circuit breaker has been open (Unix ms), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker_open_since: Option<UnixMillis>,
    /// Why the control plane cannot run this rollout, if it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The store revision, bumped by every change.
    pub revision: u64,
    /// When it was created (Unix ms).
    pub created_at: UnixMillis,
    /// When its state last changed (Unix ms).
    pub updated_at: UnixMillis,
    /// Decisions recorded so far.
    pub decisions: u64,
    /// The spec as created (a `[[rollouts]]` table as JSON).
    #[schema(value_type = Object)]
    pub spec: Value,
}

/// The latest verdict on a rollout, in short.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = VerdictSummary)]
pub struct VerdictDto {
    /// End of the last window it read (Unix ms).
    pub window_end: UnixMillis,
    /// The analysis' confident outcome.
    #[schema(value_type = OutcomeSchema)]
    pub outcome: Outcome,
    /// What the controller acted on (`pass` also when point estimates pass and confident
    /// bounds are still loose).
    #[schema(value_type = OutcomeSchema)]
    pub health: Outcome,
    /// One line with the numbers.
    pub reason: String,
    /// The analysis asks for a person.
    pub escalate: bool,
    /// Canary samples behind it.
    pub canary_samples: u64,
    /// Baseline samples behind it.
    pub baseline_samples: u64,
}

/// Every rollout that passed the filter, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RolloutList {
    /// The rollouts.
    pub rollouts: Vec<RolloutDto>,
}

/// `POST /api/v1/rollouts/{rollout}/weight`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetWeight {
    /// The canary's new share: `"10%"`, `"2500ppm"` or an integer number of ppm. The rollout
    /// is paused at this weight until resumed.
    #[schema(value_type = String, example = "25%")]
    pub weight: Ppm,
}

impl From<RolloutView> for RolloutDto {
    fn from(v: RolloutView) -> RolloutDto {
        RolloutDto {
            name: v.name,
            service: v.service,
            stable: v.stable,
            canary: v.canary,
            phase: v.phase,
            weight: v.weight,
            weight_ppm: v.weight.get(),
            strategy: v.strategy,
            step: v.step,
            phase_since: v.phase_since,
            time_in_phase_ms: v.time_in_phase_ms,
            pause: v.pause,
            rollback: v.rollback,
            hold: v.hold,
            verdict: v.verdict.map(VerdictDto::from),
            breaker_open_since: v.breaker_open_since,
            problem: v.problem,
            revision: v.revision,
            created_at: v.created_at,
            updated_at: v.updated_at,
            decisions: v.decisions,
            spec: v.spec,
        }
    }
}

impl From<VerdictSummary> for VerdictDto {
    fn from(v: VerdictSummary) -> VerdictDto {
        VerdictDto {
            window_end: v.window_end,
            outcome: v.outcome,
            health: v.health,
            reason: v.reason,
            escalate: v.escalate,
            canary_samples: v.canary_samples,
            baseline_samples: v.baseline_samples,
        }
    }
}
