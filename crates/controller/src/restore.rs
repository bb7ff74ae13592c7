//! `rollgate version restore SERVICE VERSION`: make an earlier snapshot stable again in one
//! command, recorded like every other decision.

use rollgate_core::model::{Action, Actor, UnixMillis, VersionSnapshot};
use serde_json::json;

use crate::command::abort;
use crate::draft::{Change, Draft};
use crate::{RolloutPlan, RolloutState, Transition};

/// Why a restore was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// The snapshot is another service's.
    #[error("version {version:?} belongs to service {belongs_to:?}, not {service:?}")]
    WrongService {
        /// The service being restored.
        service: String,
        /// The version asked for.
        version: String,
        /// The service the version belongs to.
        belongs_to: String,
    },
    /// The snapshot is already stable: nothing to do.
    #[error("version {version:?} is already the stable version of {service:?}; nothing to restore")]
    AlreadyStable {
        /// The service.
        service: String,
        /// The version.
        version: String,
    },
}

/// Makes `target` the stable version of the plan's service, recorded in the log of that
/// rollout (the service's running rollout, or its latest one).
///
/// A rollout still running on the service is aborted first (all traffic to stable, then the
/// stable version changes), because its canary was measured against the old stable version.
/// Effects: the weight (when aborting), then `PromoteStable { service, target }`.
pub fn restore_version(
    plan: &RolloutPlan,
    state: &RolloutState,
    current_stable: &str,
    target: &VersionSnapshot,
    actor: &Actor,
    now: UnixMillis,
) -> Result<Transition, RestoreError> {
    if target.service != plan.service {
        return Err(RestoreError::WrongService {
            service: plan.service.clone(),
            version: target.name.clone(),
            belongs_to: target.service.clone(),
        });
    }
    if target.name == current_stable {
        return Err(RestoreError::AlreadyStable {
            service: plan.service.clone(),
            version: target.name.clone(),
        });
    }
    let mut d = Draft::new(plan, state, now);
    let what = format!(
        "{actor} restored {} to {} (was {current_stable})",
        plan.service, target.name
    );
    if !state.phase.is_terminal() {
        abort(&mut d, actor, format!("aborted because {what}"));
    }
    let (phase, weight) = (d.state.phase, d.state.weight);
    let details = json!({
        "service": plan.service,
        "from": current_stable,
        "to": target.name,
        "labels": target.labels,
        "created_at": target.created_at,
    });
    d.record(
        Change::new(Action::Restore, phase, weight, what)
            .by(actor)
            .details(details),
    );
    d.promote_stable(&target.name);
    Ok(d.finish())
}
