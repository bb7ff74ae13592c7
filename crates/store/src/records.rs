//! The records the store keeps, besides those defined in `rollgate_core::model`.
//!
//! Fields the API lists or filters on are typed; the rest (specs, controller state) are JSON
//! documents the store keeps verbatim, so the controller and the config can evolve without a
//! schema migration.

use rollgate_core::Ppm;
use rollgate_core::model::{Actor, Phase, UnixMillis, VersionSnapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A service the edge serves, with its routing spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    /// The service name (`shop`).
    pub name: String,
    /// The service's routing spec (hosts, path prefix, unit, timeouts…) as JSON.
    pub spec: Value,
    /// When the spec was last written.
    pub updated_at: UnixMillis,
}

/// A rollout and the controller's current state for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutRecord {
    /// The rollout name, unique in the store (`shop-v1.2`).
    pub name: String,
    /// The service it moves.
    pub service: String,
    /// The full rollout spec (canary, stable, strategy, analysis, audience) as JSON.
    pub spec: Value,
    /// The controller's state (step index, timers, strategy state…) as JSON.
    pub state: Value,
    /// Where the rollout is in its life.
    pub phase: Phase,
    /// The canary's current share of eligible units.
    pub weight: Ppm,
    /// The stable version's name.
    pub stable: String,
    /// The canary version's name.
    pub canary: String,
    /// Bumped by every commit; a writer must name the revision it read (optimistic
    /// concurrency). Assigned by the store: 1 after creation.
    pub revision: u64,
    /// When the rollout was created.
    pub created_at: UnixMillis,
    /// When its state last changed.
    pub updated_at: UnixMillis,
    /// The `seq` the rollout's next decision gets.
    pub next_seq: u64,
}

impl RolloutRecord {
    /// True while the rollout can still move (its phase is not terminal).
    pub fn is_active(&self) -> bool {
        !self.phase.is_terminal()
    }
}

/// One change of a service's stable version: from `since` on, `version` was stable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StableChange {
    /// The service.
    pub service: String,
    /// The version that became stable.
    pub version: String,
    /// When it became stable.
    pub since: UnixMillis,
    /// Who made it stable (the controller on promotion, a user on restore, `config` at first).
    pub actor: Actor,
    /// Why, in one line.
    pub reason: String,
}

/// A span of time during which a version was the service's stable version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StablePeriod {
    /// When it became stable.
    pub since: UnixMillis,
    /// When another version replaced it; `None` while it is still stable.
    pub until: Option<UnixMillis>,
    /// Who made it stable.
    pub actor: Actor,
    /// Why.
    pub reason: String,
}

/// A version snapshot together with the periods it was stable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionEntry {
    /// The immutable snapshot.
    pub snapshot: VersionSnapshot,
    /// Every period it was stable, oldest first; empty if it never was.
    pub stable_periods: Vec<StablePeriod>,
}

impl VersionEntry {
    /// True when this version is the service's stable version now.
    pub fn is_stable(&self) -> bool {
        self.stable_periods
            .last()
            .is_some_and(|p| p.until.is_none())
    }
}

/// Whether an experiment is still assigning units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentState {
    /// Units are assigned to variants.
    Running,
    /// The experiment is over; its records are kept.
    Stopped,
}

impl ExperimentState {
    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentState::Running => "running",
            ExperimentState::Stopped => "stopped",
        }
    }

    /// Parses the name used in the API and the store.
    pub fn parse(s: &str) -> Option<ExperimentState> {
        match s {
            "running" => Some(ExperimentState::Running),
            "stopped" => Some(ExperimentState::Stopped),
            _ => None,
        }
    }
}

/// An A/B experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRecord {
    /// The experiment name, unique in the store.
    pub name: String,
    /// Its spec (service, layer, allocation, variants, metrics) as JSON.
    pub spec: Value,
    /// Running or stopped.
    pub state: ExperimentState,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it was stopped, if it was.
    pub stopped_at: Option<UnixMillis>,
}

/// Which rollouts `list_rollouts` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutFilter {
    /// Only rollouts whose phase is not terminal.
    pub active_only: bool,
    /// Only rollouts of this service.
    pub service: Option<String>,
}

impl RolloutFilter {
    /// True when `record` passes the filter.
    pub fn matches(&self, record: &RolloutRecord) -> bool {
        (!self.active_only || record.is_active())
            && self.service.as_ref().is_none_or(|s| *s == record.service)
    }
}
