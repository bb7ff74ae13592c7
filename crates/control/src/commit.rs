//! The one write that moves a rollout, and what follows it: the new state, its decisions and
//! (on promote) the new stable version in one store transaction; then the snapshot is
//! rebuilt and published; then people are notified. Shared by the loop and the commands.

use rollgate_controller::{Effect, RolloutState, Transition};
use rollgate_core::model::{Action, Actor, DecisionRecord, UnixMillis};
use rollgate_store::{RolloutCommit, RolloutRecord, StableChange, StoreError};

use crate::plane::ControlPlane;

impl ControlPlane {
    /// Commits `t` on top of `current` (as read from the store). Returns the record as stored.
    pub(crate) async fn commit_transition(
        &self,
        current: &RolloutRecord,
        t: &Transition,
        now: UnixMillis,
    ) -> Result<RolloutRecord, StoreError> {
        let next = next_record(current, &t.state, now);
        let mut commit = RolloutCommit::update(current, next, t.decisions.clone());
        if let Some(change) = stable_change(t, now) {
            commit = commit.with_stable_change(change);
        }
        let decisions = commit.decisions.clone();
        let mut stored = commit.record.clone();
        let outcome = self.inner.store.commit(commit).await?;
        stored.revision = outcome.revision;
        log_decisions(&decisions, &outcome.decision_ids);
        Ok(stored)
    }

    /// After commits: rebuild and publish the snapshot if anything routed changed, then hand
    /// the notifications to the notifier (which never blocks).
    pub(crate) async fn after_commits(&self, transitions: &[Transition]) -> Option<u64> {
        let routed = transitions.iter().any(|t| {
            t.effects
                .iter()
                .any(|e| matches!(e, Effect::PublishWeight(_) | Effect::PromoteStable { .. }))
                || t.decisions.iter().any(|d| d.phase_before != d.phase_after)
        });
        let mut published = None;
        if routed {
            self.mark_dirty().await;
            match self.refresh(false).await {
                Ok(p) => published = p,
                Err(e) => {
                    tracing::error!(error = %e, "routing snapshot not rebuilt; retrying at the next tick")
                }
            }
        }
        for t in transitions {
            for n in t.notifications() {
                self.inner.opts.notifier.notify(n);
            }
        }
        published
    }
}

/// `current` with the state, phase and weight of `state`.
pub(crate) fn next_record(
    current: &RolloutRecord,
    state: &RolloutState,
    now: UnixMillis,
) -> RolloutRecord {
    RolloutRecord {
        state: serde_json::to_value(state).unwrap_or_default(),
        phase: state.phase,
        weight: state.weight,
        updated_at: now,
        ..current.clone()
    }
}

/// The stable change a promotion or restore makes, attributed to the decision that made it.
pub(crate) fn stable_change(t: &Transition, now: UnixMillis) -> Option<StableChange> {
    let (service, version) = t.effects.iter().find_map(|e| match e {
        Effect::PromoteStable { service, version } => Some((service.clone(), version.clone())),
        _ => None,
    })?;
    let decision = t
        .decisions
        .iter()
        .find(|d| matches!(d.action, Action::Promote | Action::Restore));
    Some(StableChange {
        service,
        version,
        since: now,
        actor: decision.map_or(Actor::Controller, |d| d.actor.clone()),
        reason: decision.map_or_else(|| "promoted".to_string(), |d| d.reason.clone()),
    })
}

/// One log line per decision, with key/value fields.
pub(crate) fn log_decisions(decisions: &[DecisionRecord], ids: &[i64]) {
    for (d, id) in decisions
        .iter()
        .zip(ids.iter().copied().chain(std::iter::repeat(0)))
    {
        tracing::info!(
            rollout = %d.rollout,
            seq = d.seq,
            id,
            action = d.action.as_str(),
            actor = %d.actor,
            phase = d.phase_after.as_str(),
            weight = %d.weight_after,
            weight_before = %d.weight_before,
            reason = %d.reason,
            "decision"
        );
    }
}
