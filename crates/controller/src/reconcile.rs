//! The reconcile step: from the plan, the state and what was observed, the next state, the
//! decisions and the effects. Pure: the clock is `Observation::now`.

use rollgate_core::model::{Action, Actor, Phase};
use serde_json::json;

use crate::draft::Draft;
use crate::lifecycle::{Trigger, begin, drain, human, pause, resume, roll_back};
use crate::tick::progress;
use crate::{Health, Observation, Outcome, PauseKind, RolloutPlan, RolloutState, Transition};

/// One reconcile step. Safe to call as often as the runtime likes: time-based rules compare
/// with `observation.now`, and analysis counters advance once per verdict window.
///
/// In order: a pending rollout starts; a gradual rollback goes on draining; a failing
/// critical condition (beyond `failure_limit`), a breaker open too long or a missed progress
/// deadline rolls back; a timed pause ends; too many inconclusive windows pause; otherwise the
/// strategy moves the weight or holds.
pub fn reconcile(
    plan: &RolloutPlan,
    state: &RolloutState,
    observation: &Observation,
) -> Transition {
    let mut d = Draft::new(plan, state, observation.now);
    match state.phase {
        Phase::Promoted | Phase::RolledBack | Phase::Aborted => {}
        Phase::Pending => begin(&mut d, Action::Start, &Actor::Controller),
        Phase::Progressing | Phase::Paused => active(&mut d, observation),
    }
    d.finish()
}

fn active(d: &mut Draft<'_>, obs: &Observation) {
    let failed = count(d, obs.health.as_ref());
    if d.state.is_rolling_back() {
        drain(d);
        return;
    }
    if let Some(trigger) = rollback_trigger(d, obs, failed) {
        roll_back(d, trigger);
        return;
    }
    if d.state.phase == Phase::Paused {
        end_timed_pause(d);
        return;
    }
    if let Some(reason) = escalation(d, obs.health.as_ref()) {
        let details = obs
            .health
            .as_ref()
            .map(|h| serde_json::to_value(h).unwrap_or_default());
        pause(
            d,
            PauseKind::Inconclusive,
            &Actor::Controller,
            reason,
            None,
            details.unwrap_or_default(),
        );
        return;
    }
    progress(d, obs);
}

/// Why a person should look now: the analysis escalated, or more inconclusive windows in a
/// row than the plan's `inconclusive_limit`.
fn escalation(d: &Draft<'_>, health: Option<&Health>) -> Option<String> {
    let why = health.map_or("", |h| h.reason.as_str());
    if health.is_some_and(|h| h.escalate && h.window_end > d.state.phase_since) {
        return Some(format!(
            "the analysis asks for a person: {why}; resume to go on"
        ));
    }
    let limit = d.plan.limits.inconclusive_limit;
    (limit > 0 && d.state.inconclusive_streak > limit).then(|| {
        format!(
            "analysis inconclusive for {} windows in a row (inconclusive_limit {limit}): {why}; resume to go on",
            d.state.inconclusive_streak
        )
    })
}

/// Counts a verdict window once. Returns true when it is a failure beyond the limit.
fn count(d: &mut Draft<'_>, health: Option<&Health>) -> bool {
    let Some(h) = health else {
        return false;
    };
    if d.state.last_window.is_some_and(|w| h.window_end <= w) {
        return false;
    }
    d.state.last_window = Some(h.window_end);
    match h.outcome {
        Outcome::Fail => {
            d.state.failures = d.state.failures.saturating_add(1);
            d.state.inconclusive_streak = 0;
            d.state.failures > d.plan.limits.failure_limit
        }
        Outcome::Inconclusive => {
            d.state.inconclusive_streak = d.state.inconclusive_streak.saturating_add(1);
            false
        }
        Outcome::Pass => {
            d.state.inconclusive_streak = 0;
            false
        }
    }
}

/// The first reason to roll back, if any.
fn rollback_trigger(d: &Draft<'_>, obs: &Observation, failed: bool) -> Option<Trigger> {
    let limits = d.plan.limits;
    if let Some(h) = obs.health.as_ref().filter(|_| failed) {
        let condition = h.failing_condition.as_deref().unwrap_or("analysis");
        let mut reason = if h.reason.contains(condition) {
            h.reason.clone()
        } else {
            format!("condition {condition:?} failed: {}", h.reason)
        };
        if limits.failure_limit > 0 {
            let (n, limit) = (d.state.failures, limits.failure_limit);
            reason.push_str(&format!(" (failed windows {n}, failure_limit {limit})"));
        }
        return Some(Trigger {
            reason,
            details: serde_json::to_value(h).unwrap_or_default(),
        });
    }
    if let (Some(since), Some(limit)) = (obs.breaker_open_since, limits.breaker_open_limit_ms) {
        let open = d.since(since);
        if open > limit {
            return Some(Trigger {
                reason: format!(
                    "the canary's circuit breaker has been open for {} (breaker_open_limit {})",
                    human(open),
                    human(limit)
                ),
                details: json!({ "breaker_open_since": since, "open_ms": open, "limit_ms": limit }),
            });
        }
    }
    let deadline = limits.progress_deadline_ms?;
    let stalled = d.since(d.state.progress_at);
    if d.state.phase != Phase::Progressing || stalled <= deadline {
        return None;
    }
    let holding = d
        .state
        .hold
        .as_ref()
        .map_or_else(String::new, |h| format!(": {}", h.reason));
    Some(Trigger {
        reason: format!(
            "no progress for {} (progress_deadline {}) at {}{holding}",
            human(stalled),
            human(deadline),
            d.state.weight
        ),
        details: json!({ "progress_at": d.state.progress_at, "stalled_ms": stalled, "deadline_ms": deadline }),
    })
}

fn end_timed_pause(d: &mut Draft<'_>) {
    let Some(pause) = d.state.pause.as_ref() else {
        return;
    };
    if pause.until.is_some_and(|until| d.now >= until) {
        let reason = format!(
            "pause over after {}: {}",
            human(d.since(pause.since)),
            pause.reason
        );
        resume(d, &Actor::Controller, reason);
    }
}
