//! What a reconcile step or a command returns: the next state, the decisions that explain it
//! and the effects the runtime carries out.

use std::collections::BTreeMap;

use rollgate_core::Ppm;
use rollgate_core::model::DecisionRecord;
use serde::{Deserialize, Serialize};

use crate::RolloutState;

/// The result of one reconcile step or command. The runtime writes `state` and `decisions`
/// in one store transaction, then carries out `effects` in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The rollout's next state (equal to the input when nothing happened).
    pub state: RolloutState,
    /// One record per change of weight or phase (and per new hold reason), numbered from the
    /// state's `next_seq`.
    pub decisions: Vec<DecisionRecord>,
    /// What to do outside the store, in order: the weight to publish, the stable version to
    /// change, then the notifications.
    pub effects: Vec<Effect>,
}

/// Something the runtime does after the state is committed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Publish a routing snapshot with this canary weight for the rollout.
    PublishWeight(Ppm),
    /// Make `version` the stable version of `service` (promotion or restore). Always comes
    /// after a `PublishWeight` of the same transition, if there is one.
    PromoteStable {
        /// The service.
        service: String,
        /// The version that becomes stable.
        version: String,
    },
    /// Tell people (webhooks, Slack).
    Notify(Notification),
}

/// A message for people, routed by its kind to the notification targets that want it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// What kind of event it is (`events = ["phase", "rollback"]` in config picks kinds).
    pub kind: NotificationKind,
    /// The rollout.
    pub rollout: String,
    /// One line for people.
    pub text: String,
    /// Structured fields: service, versions, phase, weight, actor, action.
    pub fields: BTreeMap<String, String>,
}

/// The kinds of notification, as named in `[[notifications]] events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The phase changed (started, paused, resumed, promoted, aborted, retried).
    Phase,
    /// Traffic is going back to stable (each step of a gradual rollback too).
    Rollback,
    /// The weight changed without a phase change (ramp, back-off, manual weight).
    Weight,
    /// A version was restored as stable.
    Restore,
}

impl NotificationKind {
    /// The name used in config.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Phase => "phase",
            NotificationKind::Rollback => "rollback",
            NotificationKind::Weight => "weight",
            NotificationKind::Restore => "restore",
        }
    }
}

impl Transition {
    /// Nothing happened: the same state, no decisions, no effects.
    pub fn unchanged(state: &RolloutState) -> Transition {
        Transition {
            state: state.clone(),
            decisions: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// The weight to publish, if this transition changed it.
    pub fn published_weight(&self) -> Option<Ppm> {
        self.effects.iter().find_map(|e| match e {
            Effect::PublishWeight(w) => Some(*w),
            _ => None,
        })
    }

    /// The notifications of this transition.
    pub fn notifications(&self) -> impl Iterator<Item = &Notification> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Notify(n) => Some(n),
            _ => None,
        })
    }
}
