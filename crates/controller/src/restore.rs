//! `rollgate version restore SERVICE VERSION`: make an earlier snapshot stable again in one
//! command, recorded like every other decision.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase, UnixMillis, VersionSnapshot};
use serde_json::json;

use crate::command::abort;
use crate::draft::{Change, Draft};
use crate::{
    Effect, Limits, RollbackMode, RolloutPlan, RolloutState, StepPlan, Steps, Strategy, Transition,
};

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

/// What a restore writes: the abort of a rollout still running on the service (commit it
/// first), then a short record of its own, already promoted, whose one `restore` decision
/// names who restored what.
#[derive(Clone, Debug, PartialEq)]
pub struct Restore {
    /// The running rollout's abort, if there was one: its new state, the `abort` decision, the
    /// weight 0 to publish.
    pub abort: Option<Transition>,
    /// The restore record's plan: named `restore-SERVICE-VERSION-MILLIS`, from the current
    /// stable version to the restored one.
    pub plan: RolloutPlan,
    /// The restore record's state (promoted, 100%) with its `restore` decision; the effects are
    /// `PromoteStable { service, version }` and a `restore` notification.
    pub record: Transition,
}

/// Makes `target` the stable version of `service` (whose stable version is `current_stable`).
///
/// A rollout still running on the service (`running`) is aborted first, because its canary
/// was measured against the old stable version; retry it afterwards if it should go on.
pub fn restore_version(
    service: &str,
    current_stable: &str,
    target: &VersionSnapshot,
    running: Option<(&RolloutPlan, &RolloutState)>,
    actor: &Actor,
    now: UnixMillis,
) -> Result<Restore, RestoreError> {
    if target.service != service {
        return Err(RestoreError::WrongService {
            service: service.to_string(),
            version: target.name.clone(),
            belongs_to: target.service.clone(),
        });
    }
    if target.name == current_stable {
        return Err(RestoreError::AlreadyStable {
            service: service.to_string(),
            version: target.name.clone(),
        });
    }
    let what = format!(
        "{actor} restored {service} to {} (was {current_stable})",
        target.name
    );
    let abort = running
        .filter(|(_, state)| !state.phase.is_terminal())
        .map(|(plan, state)| {
            let mut d = Draft::new(plan, state, now);
            abort(&mut d, actor, format!("aborted because {what}"));
            d.finish()
        });
    let plan = RolloutPlan {
        name: format!("restore-{service}-{}-{now}", target.name),
        service: service.to_string(),
        stable: current_stable.to_string(),
        canary: target.name.clone(),
        strategy: Strategy::Steps(Steps::new(vec![StepPlan::weight(Ppm::FULL, 0, 0)])),
        rollback: RollbackMode::Immediate,
        limits: Limits::default(),
    };
    let details = json!({
        "service": service,
        "from": current_stable,
        "to": target.name,
        "labels": target.labels,
        "created_at": target.created_at,
    });
    let mut d = Draft::new(&plan, &RolloutState::new(now), now);
    d.record(
        Change::new(Action::Restore, Phase::Promoted, Ppm::FULL, what)
            .by(actor)
            .details(details),
    );
    d.promote_stable(&target.name);
    let mut record = d.finish();
    // The record is never routed: nothing to publish but the new stable version.
    record
        .effects
        .retain(|e| !matches!(e, Effect::PublishWeight(_)));
    Ok(Restore {
        abort,
        plan,
        record,
    })
}
