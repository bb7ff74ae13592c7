//! The transition under construction: every change of phase or weight goes through
//! [`Draft::record`], which numbers the decision, updates the state and queues the
//! notification, so the audit log and the state can never disagree.

use std::collections::BTreeMap;

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, DecisionRecord, Phase, UnixMillis};
use serde_json::Value;

use crate::{
    Effect, Hold, HoldKind, Notification, NotificationKind, RolloutPlan, RolloutState, Transition,
};

/// A transition being built from a starting state.
pub(crate) struct Draft<'a> {
    pub plan: &'a RolloutPlan,
    pub state: RolloutState,
    pub now: UnixMillis,
    start_weight: Ppm,
    decisions: Vec<DecisionRecord>,
    effects: Vec<Effect>,
    notifications: Vec<Effect>,
}

/// One change to record: who, what, the phase and weight after it, and why.
pub(crate) struct Change {
    pub actor: Actor,
    pub action: Action,
    pub phase: Phase,
    pub weight: Ppm,
    pub reason: String,
    pub details: Value,
}

impl Change {
    /// A change decided by the controller, without details.
    pub fn new(action: Action, phase: Phase, weight: Ppm, reason: String) -> Change {
        Change {
            actor: Actor::Controller,
            action,
            phase,
            weight,
            reason,
            details: Value::Null,
        }
    }

    /// The same change decided by `actor`.
    pub fn by(mut self, actor: &Actor) -> Change {
        self.actor = actor.clone();
        self
    }

    /// The same change with the numbers behind it.
    pub fn details(mut self, details: Value) -> Change {
        self.details = details;
        self
    }
}

impl<'a> Draft<'a> {
    pub fn new(plan: &'a RolloutPlan, state: &RolloutState, now: UnixMillis) -> Draft<'a> {
        Draft {
            plan,
            state: state.clone(),
            now,
            start_weight: state.weight,
            decisions: Vec::new(),
            effects: Vec::new(),
            notifications: Vec::new(),
        }
    }

    /// Milliseconds from `t` to now (0 if `t` is in the future).
    pub fn since(&self, t: UnixMillis) -> u64 {
        u64::try_from(self.now.saturating_sub(t)).unwrap_or(0)
    }

    /// Records a change of phase and/or weight, and applies it to the state.
    pub fn record(&mut self, change: Change) {
        let before = (self.state.phase, self.state.weight);
        if change.phase != self.state.phase {
            self.state.phase_since = self.now;
        }
        self.state.phase = change.phase;
        self.state.weight = change.weight;
        if change.weight > self.state.peak {
            self.state.peak = change.weight;
            self.state.progress_at = self.now;
        }
        self.state.hold = None;
        let kind = notification_kind(change.action, before, (change.phase, change.weight));
        let decision = self.push(change, before);
        if let Some(kind) = kind {
            self.notify(kind, &decision);
        }
    }

    /// Holds the weight for `kind`. A decision is recorded only when the kind of reason
    /// changes and is worth recording, so the log shows each hold once, not every window.
    pub fn hold(
        &mut self,
        kind: HoldKind,
        reason: impl FnOnce() -> String,
        details: impl FnOnce() -> Value,
    ) {
        if self.state.hold.as_ref().is_some_and(|h| h.kind == kind) {
            return;
        }
        let reason = reason();
        self.state.hold = Some(Hold {
            kind,
            reason: reason.clone(),
            since: self.now,
        });
        if kind.is_recorded() {
            let before = (self.state.phase, self.state.weight);
            let change = Change::new(Action::Hold, before.0, before.1, reason).details(details());
            self.push(change, before);
        }
    }

    /// Queues making `version` the service's stable version.
    pub fn promote_stable(&mut self, version: &str) {
        self.effects.push(Effect::PromoteStable {
            service: self.plan.service.clone(),
            version: version.to_string(),
        });
    }

    /// The finished transition: the weight to publish first (if it changed), then the stable
    /// version change (if any), then the notifications in the order of the decisions.
    pub fn finish(self) -> Transition {
        let mut effects = Vec::with_capacity(self.effects.len() + self.notifications.len() + 1);
        if self.state.weight != self.start_weight {
            effects.push(Effect::PublishWeight(self.state.weight));
        }
        effects.extend(self.effects);
        effects.extend(self.notifications);
        Transition {
            state: self.state,
            decisions: self.decisions,
            effects,
        }
    }

    fn push(&mut self, change: Change, before: (Phase, Ppm)) -> DecisionRecord {
        let decision = DecisionRecord {
            id: 0,
            rollout: self.plan.name.clone(),
            seq: self.state.next_seq,
            at: self.now,
            actor: change.actor,
            action: change.action,
            phase_before: before.0,
            phase_after: change.phase,
            weight_before: before.1,
            weight_after: change.weight,
            reason: change.reason,
            details: change.details,
        };
        self.state.next_seq += 1;
        self.decisions.push(decision.clone());
        decision
    }

    fn notify(&mut self, kind: NotificationKind, d: &DecisionRecord) {
        let plan = self.plan;
        let fields = BTreeMap::from([
            ("service".to_string(), plan.service.clone()),
            ("stable".to_string(), plan.stable.clone()),
            ("canary".to_string(), plan.canary.clone()),
            ("action".to_string(), d.action.to_string()),
            ("actor".to_string(), d.actor.to_string()),
            ("phase".to_string(), d.phase_after.to_string()),
            ("weight".to_string(), d.weight_after.to_string()),
        ]);
        let text = format!(
            "{}: {} ({} → {}, {} → {}): {}",
            plan.name,
            d.action,
            d.phase_before,
            d.phase_after,
            d.weight_before,
            d.weight_after,
            d.reason
        );
        self.notifications.push(Effect::Notify(Notification {
            kind,
            rollout: plan.name.clone(),
            text,
            fields,
        }));
    }
}

/// The notification a decision deserves, if any.
fn notification_kind(
    action: Action,
    before: (Phase, Ppm),
    after: (Phase, Ppm),
) -> Option<NotificationKind> {
    match action {
        Action::Rollback => Some(NotificationKind::Rollback),
        Action::Restore => Some(NotificationKind::Restore),
        Action::Hold => None,
        _ if before.0 != after.0 => Some(NotificationKind::Phase),
        _ if before.1 != after.1 => Some(NotificationKind::Weight),
        _ => None,
    }
}
