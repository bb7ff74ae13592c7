//! The moves every path shares: start, enter a step, pause, resume, promote, roll back.
//! Each records its decision through the [`Draft`], so reconcile and commands behave alike.

use rollgate_core::model::{Action, Actor, Phase};
use rollgate_core::{DurationSpec, Ppm};
use serde_json::Value;

use crate::draft::{Change, Draft};
use crate::{Draining, Pause, PauseKind, PidState, RollbackMode, StepPlan, Strategy};

/// Why traffic is going back to stable, with the numbers.
pub(crate) struct Trigger {
    pub reason: String,
    pub details: Value,
}

/// A duration in milliseconds as people read it: `1m 30s`.
pub(crate) fn human(ms: u64) -> DurationSpec {
    DurationSpec::from_millis(ms)
}

/// Starts (or, with `Action::Retry`, restarts) the rollout from its first step with fresh
/// counters.
pub(crate) fn begin(d: &mut Draft<'_>, action: Action, actor: &Actor) {
    let now = d.now;
    let s = &mut d.state;
    s.step = 0;
    s.step_since = now;
    s.started_at = Some(now);
    s.progress_at = now;
    s.peak = Ppm::ZERO;
    s.pause = None;
    s.manual_weight = false;
    s.pid = PidState::default();
    s.rollback = None;
    s.failures = 0;
    s.inconclusive_streak = 0;
    s.hold = None;
    let verb = if action == Action::Retry {
        "retried"
    } else {
        "started"
    };
    match &d.plan.strategy {
        Strategy::Steps(steps) => {
            let first = steps.get(0).and_then(StepPlan::target).unwrap_or(Ppm::ZERO);
            let reason = format!("{verb} by {actor}: {}", steps.describe(0));
            d.record(Change::new(action, Phase::Progressing, first, reason).by(actor));
            if matches!(steps.get(0), Some(StepPlan::Pause { .. })) {
                enter_step(d, 0, actor, "the first step is a pause", Value::Null);
            }
        }
        other => {
            let start = other.start_weight().unwrap_or(Ppm::ZERO);
            let reason = format!("{verb} by {actor}: {} ramp at {start}", other.name());
            d.record(Change::new(action, Phase::Progressing, start, reason).by(actor));
        }
    }
}

/// Moves to step `index` of the steps strategy (promoting past the last one). `why` says
/// what allowed the move, with its numbers.
pub(crate) fn enter_step(
    d: &mut Draft<'_>,
    index: usize,
    actor: &Actor,
    why: &str,
    details: Value,
) {
    let Strategy::Steps(steps) = &d.plan.strategy else {
        return;
    };
    let now = d.now;
    let Some(step) = steps.get(index) else {
        let reason = format!("every step done ({why}): {} is now stable", d.plan.canary);
        promote(d, actor, reason, details);
        return;
    };
    let name = steps.describe(index);
    d.state.step = index;
    d.state.step_since = now;
    d.state.progress_at = now;
    d.state.hold = None;
    match *step {
        StepPlan::Weight { weight, .. } => {
            let before = d.state.weight;
            if weight != before || d.state.phase != Phase::Progressing {
                let action = if weight >= before {
                    Action::Ramp
                } else {
                    Action::Reduce
                };
                let reason = format!("{name}: {before} → {weight} ({why})");
                d.record(
                    Change::new(action, Phase::Progressing, weight, reason)
                        .by(actor)
                        .details(details),
                );
            }
        }
        StepPlan::Pause { duration_ms } => {
            let (until, wait) = match duration_ms {
                Some(ms) => (
                    Some(now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX))),
                    format!("for {}", human(ms)),
                ),
                None => (
                    None,
                    "until someone runs `rollgate rollout resume`".to_string(),
                ),
            };
            let reason = format!("{name}: holding {} {wait}", d.state.weight);
            pause(d, PauseKind::Step, actor, reason, until, details);
        }
    }
}

/// Pauses at the current weight.
pub(crate) fn pause(
    d: &mut Draft<'_>,
    kind: PauseKind,
    actor: &Actor,
    reason: String,
    until: Option<i64>,
    details: Value,
) {
    d.state.pause = Some(Pause {
        kind,
        reason: reason.clone(),
        since: d.now,
        until,
    });
    let weight = d.state.weight;
    d.record(
        Change::new(Action::Pause, Phase::Paused, weight, reason)
            .by(actor)
            .details(details),
    );
}

/// Resumes a paused rollout: a pause step moves on to the next step, a hand-set weight hands
/// control back to the strategy from that weight, any other pause continues where it was.
pub(crate) fn resume(d: &mut Draft<'_>, actor: &Actor, reason: String) {
    let paused = d.state.pause.take();
    d.state.inconclusive_streak = 0;
    d.state.progress_at = d.now;
    // The margin before the pause says nothing about the next one: no derivative kick.
    d.state.pid.last_error = None;
    let weight = d.state.weight;
    d.record(Change::new(Action::Resume, Phase::Progressing, weight, reason).by(actor));
    if std::mem::take(&mut d.state.manual_weight) {
        if let Strategy::Steps(steps) = &d.plan.strategy {
            let next = steps.first_at_or_above(weight).unwrap_or(steps.len());
            let why = format!("picking up from the weight set by hand, {weight}");
            enter_step(d, next, actor, &why, Value::Null);
        }
        return;
    }
    if paused.is_some_and(|p| p.kind == PauseKind::Step) {
        let next = d.state.step + 1;
        enter_step(d, next, actor, "the pause is over", Value::Null);
    }
}

/// Makes the canary the stable version: weight 100%, phase promoted.
pub(crate) fn promote(d: &mut Draft<'_>, actor: &Actor, reason: String, details: Value) {
    d.state.pause = None;
    d.state.rollback = None;
    d.state.manual_weight = false;
    d.record(
        Change::new(Action::Promote, Phase::Promoted, Ppm::FULL, reason)
            .by(actor)
            .details(details),
    );
    let canary = d.plan.canary.clone();
    d.promote_stable(&canary);
}

/// Starts a rollback in the plan's mode: at once, or the first reduction of a gradual one.
pub(crate) fn roll_back(d: &mut Draft<'_>, trigger: Trigger) {
    d.state.pause = None;
    d.state.manual_weight = false;
    match d.plan.rollback {
        RollbackMode::Immediate => {
            let reason = format!("rolled back: {}", trigger.reason);
            d.record(
                Change::new(Action::Rollback, Phase::RolledBack, Ppm::ZERO, reason)
                    .details(trigger.details),
            );
        }
        RollbackMode::Gradual { step, .. } => {
            d.state.rollback = Some(Draining {
                reason: trigger.reason,
                since: d.now,
                last_at: d.now,
                from: d.state.weight,
            });
            reduce(d, step, trigger.details);
        }
    }
}

/// One step of a gradual rollback, when its interval has passed (or at once if the plan now
/// says immediate).
pub(crate) fn drain(d: &mut Draft<'_>) {
    let Some(last_at) = d.state.rollback.as_ref().map(|r| r.last_at) else {
        return;
    };
    match d.plan.rollback {
        RollbackMode::Immediate => reduce(d, Ppm::FULL, Value::Null),
        RollbackMode::Gradual { step, interval_ms } => {
            if d.since(last_at) >= interval_ms {
                reduce(d, step, Value::Null);
            }
        }
    }
}

/// Lowers the weight by `step`; at 0 the rollout is rolled back.
fn reduce(d: &mut Draft<'_>, step: Ppm, details: Value) {
    let now = d.now;
    let Some(draining) = d.state.rollback.as_mut() else {
        return;
    };
    draining.last_at = now;
    let cause = draining.reason.clone();
    let before = d.state.weight;
    let after = Ppm::saturating(u64::from(before.get().saturating_sub(step.get())));
    let change = if after == Ppm::ZERO {
        d.state.rollback = None;
        let reason = format!("rolled back gradually, {before} → 0%: {cause}");
        Change::new(Action::Rollback, Phase::RolledBack, after, reason)
    } else {
        let reason = format!(
            "rolling back gradually, {before} → {after} (the units that entered last leave first): {cause}"
        );
        Change::new(Action::Rollback, Phase::Progressing, after, reason)
    };
    d.record(change.details(details));
}
