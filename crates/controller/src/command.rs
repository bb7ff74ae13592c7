//! Manual commands: pause, resume, promote, abort, set weight, retry — each checked against the
//! rollout's phase and recorded with the person who gave it.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase, UnixMillis};
use serde_json::Value;

use crate::draft::{Change, Draft};
use crate::lifecycle::{begin, pause, promote, resume};
use crate::{Command, PauseKind, RolloutPlan, RolloutState, Transition};

/// Why a command was refused: the rollout's phase does not allow it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot {command} rollout {rollout:?}: {why}")]
pub struct CommandError {
    /// The refused command.
    pub command: Command,
    /// The rollout.
    pub rollout: String,
    /// What is in the way, and what to do instead.
    pub why: String,
}

/// Applies a manual `command` given by `actor` at `now`. Nothing changes when it is refused.
///
/// | command | allowed in |
/// | --- | --- |
/// | pause | progressing |
/// | resume | paused (not after a ramp finished below 100%) |
/// | promote | pending, progressing, paused |
/// | abort | pending, progressing, paused (also while rolling back) |
/// | set-weight | progressing, paused |
/// | retry | rolled back, aborted |
///
/// While a gradual rollback drains, only abort is accepted.
pub fn apply_command(
    plan: &RolloutPlan,
    state: &RolloutState,
    command: Command,
    actor: &Actor,
    now: UnixMillis,
) -> Result<Transition, CommandError> {
    if let Some(why) = refusal(state, command) {
        return Err(CommandError {
            command,
            rollout: plan.name.clone(),
            why,
        });
    }
    let mut d = Draft::new(plan, state, now);
    match command {
        Command::Pause => pause(
            &mut d,
            PauseKind::Manual,
            actor,
            format!("paused by {actor}"),
            None,
            Value::Null,
        ),
        Command::Resume => resume(&mut d, actor, format!("resumed by {actor}")),
        Command::Promote => {
            let reason = format!(
                "promoted by {actor} at {}: {} is now stable",
                state.weight, plan.canary
            );
            promote(&mut d, actor, reason, Value::Null);
        }
        Command::Abort => abort(&mut d, actor, format!("aborted by {actor}")),
        Command::SetWeight(weight) => set_weight(&mut d, actor, weight),
        Command::Retry => begin(&mut d, Action::Retry, actor),
    }
    Ok(d.finish())
}

/// Stops the rollout: all traffic to stable at once.
pub(crate) fn abort(d: &mut Draft<'_>, actor: &Actor, reason: String) {
    d.state.pause = None;
    d.state.rollback = None;
    d.state.manual_weight = false;
    d.record(Change::new(Action::Abort, Phase::Aborted, Ppm::ZERO, reason).by(actor));
}

fn set_weight(d: &mut Draft<'_>, actor: &Actor, weight: Ppm) {
    let reason = format!(
        "weight set to {weight} by {actor}; the rollout is paused until resumed, then the strategy goes on from {weight}"
    );
    d.state.pause = Some(crate::Pause {
        kind: PauseKind::Manual,
        reason: reason.clone(),
        since: d.now,
        until: None,
    });
    d.state.manual_weight = true;
    d.state.progress_at = d.now;
    d.record(Change::new(Action::SetWeight, Phase::Paused, weight, reason).by(actor));
}

/// Why `command` is not allowed now, or `None` when it is.
fn refusal(state: &RolloutState, command: Command) -> Option<String> {
    let phase = state.phase;
    if phase.is_terminal() {
        return match (phase, command) {
            (Phase::RolledBack | Phase::Aborted, Command::Retry) => None,
            (Phase::Promoted, _) => {
                Some("it was promoted; start a new rollout to ship another version".into())
            }
            _ => Some(format!(
                "it is {phase}; `retry` starts it again from the first step"
            )),
        };
    }
    if let Some(r) = &state.rollback {
        return match command {
            Command::Abort => None,
            _ => Some(format!(
                "it is rolling back ({}); abort sends all traffic to stable now",
                r.reason
            )),
        };
    }
    match (phase, command) {
        (_, Command::Retry) => Some(format!(
            "it is {phase}; only a rolled-back or aborted rollout can be retried"
        )),
        (_, Command::Promote | Command::Abort) => None,
        (Phase::Pending, _) => {
            Some("it has not started yet; it starts at the next reconcile".into())
        }
        (Phase::Paused, Command::Pause) => {
            Some(format!("it is already paused: {}", pause_reason(state)))
        }
        (Phase::Progressing, Command::Resume) => {
            Some("it is not paused (it is progressing)".into())
        }
        (Phase::Paused, Command::Resume) => match &state.pause {
            Some(p) if p.kind == PauseKind::Finished => Some(p.reason.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn pause_reason(state: &RolloutState) -> &str {
    state
        .pause
        .as_ref()
        .map_or("no reason recorded", |p| p.reason.as_str())
}
