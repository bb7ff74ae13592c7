//! What queries return: a rollout as people see it (record, plan summary, live verdict,
//! breaker), pages of decisions, services, and the reports of ticks, restores and reloads.
//! Every type serialises to the JSON the API returns.

use rollgate_controller::{Draining, Hold, Outcome, Pause, RolloutState};
use rollgate_core::Ppm;
use rollgate_core::model::{DecisionRecord, Phase, UnixMillis};
use rollgate_store::{RolloutRecord, StableChange};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::compile::Compiled;

/// A rollout as the API, the CLI and the dashboard show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutView {
    /// Its name.
    pub name: String,
    /// The service it moves.
    pub service: String,
    /// The version traffic comes from.
    pub stable: String,
    /// The version traffic goes to.
    pub canary: String,
    /// Where it is in its life.
    pub phase: Phase,
    /// The canary's share of eligible units.
    pub weight: Ppm,
    /// `steps`, `linear`, `exponential`, `pid`, `manual` (no strategy: the weight changes only
    /// by hand), or `restore` (a version-restore record).
    pub strategy: String,
    /// The current step, for the steps strategy: `step 2 of 7 (5%)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When the current phase began.
    pub phase_since: UnixMillis,
    /// How long it has been in this phase, in milliseconds (at the time of the query).
    pub time_in_phase_ms: i64,
    /// Why it is paused, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
    /// A gradual rollback in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Draining>,
    /// Why the weight is not moving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
    /// The latest analysis verdict, if one was made since the control plane started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictSummary>,
    /// Since when the canary's circuit breaker has been open, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker_open_since: Option<UnixMillis>,
    /// Why the control plane cannot run this rollout (its stored spec no longer validates, for
    /// example after a metric was removed from the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The store revision (bumped by every commit).
    pub revision: u64,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When its state last changed.
    pub updated_at: UnixMillis,
    /// Decisions recorded so far.
    pub decisions: u64,
    /// The spec as written (the `[[rollouts]]` table, as JSON).
    pub spec: Value,
}

/// The latest verdict on a rollout, in short.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictSummary {
    /// End of the last window it read.
    pub window_end: UnixMillis,
    /// The analysis' outcome (confident).
    pub outcome: Outcome,
    /// What the controller acted on: `pass` also when the point estimates pass while the
    /// confident bounds are still loose.
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

/// One page of the decision log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionPage {
    /// The decisions, in the order asked for.
    pub decisions: Vec<DecisionRecord>,
    /// How many decisions the query's filters select in total.
    pub total: u64,
    /// The cursor for the next page (`after_id` oldest-first, `before_id` newest-first), when
    /// the page was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// A service and its current stable version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    /// The service name.
    pub name: String,
    /// The current stable version and how it became stable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<StableChange>,
    /// The active rollout of the service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<String>,
    /// The service's routing spec (hosts, path prefix, unit, timeouts …).
    pub spec: Value,
    /// When the spec was last written.
    pub updated_at: UnixMillis,
}

/// What a version restore did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreOutcome {
    /// The service.
    pub service: String,
    /// The version that is stable now.
    pub stable: String,
    /// The version that was stable before.
    pub previous: String,
    /// The rollout that was aborted because it ran on the service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<RolloutView>,
    /// The restore record (`restore-SERVICE-VERSION-MILLIS`) with its one decision.
    pub record: RolloutView,
}

/// What one reconcile tick did, for tests and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    /// Active rollouts looked at.
    pub rollouts: usize,
    /// Commits written.
    pub commits: usize,
    /// Decisions recorded.
    pub decisions: usize,
    /// Commits refused because the rollout changed meanwhile (retried next tick).
    pub conflicts: usize,
    /// Rollouts skipped because of a problem (spec, state, store).
    pub problems: usize,
    /// The snapshot revision published in this tick, if one was.
    pub published: Option<u64>,
    /// True when a snapshot is still waiting to be published (the publisher failed).
    pub publish_pending: bool,
}

/// What a configuration reload changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// Services whose spec was written.
    pub services: Vec<String>,
    /// Versions registered for the first time (`service/version`).
    pub new_versions: Vec<String>,
    /// Rollouts created.
    pub new_rollouts: Vec<String>,
    /// Experiments created.
    pub new_experiments: Vec<String>,
    /// What was left as it is, and why (one line each).
    pub kept: Vec<String>,
}

impl RolloutView {
    /// The view of `record`, with what the running loop knows about it.
    pub(crate) fn new(record: &RolloutRecord, live: Live<'_>, now: UnixMillis) -> RolloutView {
        let state: Option<RolloutState> = serde_json::from_value(record.state.clone()).ok();
        let phase_since = state.as_ref().map_or(record.updated_at, |s| s.phase_since);
        let (strategy, step) = match live.compiled {
            Some(c) if c.manual => ("manual".to_string(), None),
            Some(c) => (
                c.plan.strategy.name().to_string(),
                match (&c.plan.strategy, &state) {
                    (rollgate_controller::Strategy::Steps(s), Some(st)) => {
                        Some(s.describe(st.step))
                    }
                    _ => None,
                },
            ),
            None if record.name.starts_with("restore-") => ("restore".to_string(), None),
            None => ("unknown".to_string(), None),
        };
        RolloutView {
            name: record.name.clone(),
            service: record.service.clone(),
            stable: record.stable.clone(),
            canary: record.canary.clone(),
            phase: record.phase,
            weight: record.weight,
            strategy,
            step,
            phase_since,
            time_in_phase_ms: now.saturating_sub(phase_since).max(0),
            pause: state.as_ref().and_then(|s| s.pause.clone()),
            rollback: state.as_ref().and_then(|s| s.rollback.clone()),
            hold: state.as_ref().and_then(|s| s.hold.clone()),
            verdict: live.verdict.cloned(),
            breaker_open_since: live.breaker_open_since,
            problem: live.problem.map(str::to_string),
            revision: record.revision,
            created_at: record.created_at,
            updated_at: record.updated_at,
            decisions: record.next_seq,
            spec: record.spec.clone(),
        }
    }
}

/// What the running loop knows about a rollout, for its view.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Live<'a> {
    pub compiled: Option<&'a Compiled>,
    pub verdict: Option<&'a VerdictSummary>,
    pub breaker_open_since: Option<UnixMillis>,
    pub problem: Option<&'a str>,
}
