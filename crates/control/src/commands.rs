//! What people do to rollouts: run a command (pause, resume, promote, abort, set-weight,
//! retry) and create a rollout from a spec. Each command is read → decide → commit with the
//! revision check, retried a few times when the loop wrote first; then published and notified.

use rollgate_controller::{Command, CommandError, RolloutState, apply_command};
use rollgate_core::model::{Action, Actor, DecisionRecord, Phase, UnixMillis};
use rollgate_core::{Ppm, SpecErrors};
use rollgate_store::{RolloutCommit, RolloutFilter, RolloutRecord, StoreError};
use serde_json::Value;

use crate::compile::{Compiled, compile, fallback_plan};
use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::view::RolloutView;

/// Attempts of a command whose commit keeps meeting a concurrent change.
pub const COMMAND_ATTEMPTS: u32 = 5;

impl ControlPlane {
    /// Runs `command` on `rollout` for `actor`. Refused commands change nothing and say why
    /// (`Refused`); a rollout that kept changing under the command gives `Conflict`.
    pub async fn command(
        &self,
        rollout: &str,
        command: Command,
        actor: Actor,
    ) -> Result<RolloutView, ControlError> {
        for _ in 0..COMMAND_ATTEMPTS {
            let record = self.find_rollout(rollout).await?;
            let compiled = compile(&record.spec, self.expr_catalog()).ok();
            let plan = compiled
                .as_ref()
                .map_or_else(|| fallback_plan(&record), |c| c.plan.clone());
            if let Some(why) = manual_refusal(compiled.as_ref(), command) {
                return Err(CommandError {
                    command,
                    rollout: record.name.clone(),
                    why,
                }
                .into());
            }
            let state = stored_state(&record)?;
            let now = self.now();
            let t = apply_command(&plan, &state, command, &actor, now)?;
            match self.commit_transition(&record, &t, now).await {
                Ok(stored) => {
                    self.after_commits(std::slice::from_ref(&t)).await;
                    return Ok(self.view_of(&stored));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ControlError::Conflict {
            rollout: rollout.to_string(),
            attempts: COMMAND_ATTEMPTS,
        })
    }

    /// Creates a rollout from `spec`, a `[[rollouts]]` table as JSON, validated like the
    /// configuration file (every problem with its path relative to the table). The service
    /// must exist and have no active rollout, both versions must exist, and `stable` must be
    /// the service's current stable version.
    pub async fn create_rollout(
        &self,
        spec: Value,
        actor: Actor,
    ) -> Result<RolloutView, ControlError> {
        let compiled = compile(&spec, self.expr_catalog()).map_err(ControlError::Invalid)?;
        let now = self.now();
        let record = self.insert_rollout(compiled, &actor, now).await?;
        tracing::info!(rollout = %record.name, actor = %actor, "rollout created");
        self.mark_dirty().await;
        if let Err(e) = self.refresh(false).await {
            tracing::error!(error = %e, "routing snapshot not rebuilt; retrying at the next tick");
        }
        Ok(self.view_of(&record))
    }

    /// Checks a compiled rollout against the store and creates it. A rollout with a strategy
    /// starts `pending` (the next tick starts it); one without starts `paused` at its
    /// configured weight, with a `start` decision.
    pub(crate) async fn insert_rollout(
        &self,
        compiled: Compiled,
        actor: &Actor,
        now: UnixMillis,
    ) -> Result<RolloutRecord, ControlError> {
        self.check_new_rollout(&compiled).await?;
        let config = &compiled.config;
        let (state, decisions) = initial_state(&compiled, actor, now);
        let record = RolloutRecord {
            name: config.name.clone(),
            service: config.service.clone(),
            spec: serde_json::to_value(config).unwrap_or_default(),
            state: serde_json::to_value(&state).unwrap_or_default(),
            phase: state.phase,
            weight: state.weight,
            stable: config.stable.clone(),
            canary: config.canary.clone(),
            revision: 0,
            created_at: now,
            updated_at: now,
            next_seq: 0,
        };
        let commit = RolloutCommit::create(record.clone(), decisions);
        let stored = commit.record.clone();
        let outcome = match self.inner.store.commit(commit).await {
            Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }) => {
                return Err(ControlError::invalid(
                    "name",
                    format!("a rollout named {:?} already exists", config.name),
                ));
            }
            other => other?,
        };
        Ok(RolloutRecord {
            revision: outcome.revision,
            ..stored
        })
    }

    /// The checks the configuration cannot make alone: against the store.
    async fn check_new_rollout(&self, c: &Compiled) -> Result<(), ControlError> {
        let store = &self.inner.store;
        let config = &c.config;
        let mut errs = SpecErrors::new();
        let routing = crate::routing::build_spec(store.as_ref()).await?;
        let mut services = routing.services.clone();
        for s in &mut services {
            let all = store.list_versions(&s.name).await?;
            s.versions = all
                .into_iter()
                .map(|v| rollgate_core::VersionSpec {
                    name: v.snapshot.name,
                    endpoints: v.snapshot.endpoints,
                    labels: v.snapshot.labels,
                })
                .collect();
        }
        config.route().validate_into("", &services, &mut errs);
        if let Some(existing) = store.get_rollout(&config.name).await? {
            errs.push(
                "name",
                format!(
                    "a rollout named {:?} already exists ({}); rollout names are never reused, pick a new one",
                    config.name, existing.phase
                ),
            );
        }
        let active = store
            .list_rollouts(&RolloutFilter {
                active_only: true,
                service: Some(config.service.clone()),
            })
            .await?;
        if let Some(other) = active.iter().find(|r| r.name != config.name) {
            errs.push(
                "service",
                format!(
                    "service {:?} already has rollout {:?} ({}): a service takes one rollout at a time; promote or abort it first",
                    config.service, other.name, other.phase
                ),
            );
        }
        if let Some(current) = store.current_stable(&config.service).await?
            && current.version != config.stable
            && services.iter().any(|s| s.name == config.service)
        {
            errs.push(
                "stable",
                format!(
                    "{:?} is not the stable version of {:?}: {:?} is (since {})",
                    config.stable, config.service, current.version, current.since
                ),
            );
        }
        errs.into_result().map_err(ControlError::Invalid)
    }

    /// The stored record of `name`, or `NotFound` with a suggestion.
    pub(crate) async fn find_rollout(&self, name: &str) -> Result<RolloutRecord, ControlError> {
        if let Some(r) = self.inner.store.get_rollout(name).await? {
            return Ok(r);
        }
        let all = self
            .inner
            .store
            .list_rollouts(&RolloutFilter::default())
            .await?;
        Err(ControlError::not_found(
            "rollout",
            name,
            all.iter().map(|r| r.name.as_str()),
        ))
    }
}

/// The state a new rollout is stored with, and its first decisions.
fn initial_state(
    c: &Compiled,
    actor: &Actor,
    now: UnixMillis,
) -> (RolloutState, Vec<DecisionRecord>) {
    let mut state = RolloutState::new(now);
    if !c.manual {
        return (state, Vec::new());
    }
    let weight = c.config.weight.unwrap_or(Ppm::ZERO);
    let reason = format!(
        "no strategy: serving the configured weight {weight}; it changes only by hand (set-weight, promote, abort)"
    );
    state.phase = Phase::Paused;
    state.weight = weight;
    state.peak = weight;
    state.started_at = Some(now);
    state.manual_weight = true;
    state.pause = Some(rollgate_controller::Pause {
        kind: rollgate_controller::PauseKind::Manual,
        reason: reason.clone(),
        since: now,
        until: None,
    });
    state.next_seq = 1;
    let decision = DecisionRecord {
        id: 0,
        rollout: c.config.name.clone(),
        seq: 0,
        at: now,
        actor: actor.clone(),
        action: Action::Start,
        phase_before: Phase::Pending,
        phase_after: Phase::Paused,
        weight_before: Ppm::ZERO,
        weight_after: weight,
        reason,
        details: Value::Null,
    };
    (state, vec![decision])
}

/// Why a rollout without a strategy refuses `command`: resuming or retrying would hand it to
/// a strategy it does not have.
fn manual_refusal(compiled: Option<&Compiled>, command: Command) -> Option<String> {
    let manual = compiled.is_some_and(|c| c.manual);
    (manual && matches!(command, Command::Resume | Command::Retry)).then(|| {
        "it has no strategy: its weight changes only by hand (set-weight), or promote or abort it; \
         to ramp it automatically, create a new rollout with a strategy"
            .to_string()
    })
}

/// The controller state stored with `record`.
pub(crate) fn stored_state(record: &RolloutRecord) -> Result<RolloutState, ControlError> {
    serde_json::from_value(record.state.clone()).map_err(|e| {
        ControlError::Store(StoreError::Corrupt(format!(
            "state of rollout {:?}: {e}",
            record.name
        )))
    })
}
