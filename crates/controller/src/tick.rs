//! The strategy's move while progressing: advance a step, ramp, back off, promote, or hold.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase};
use serde_json::Value;

use crate::draft::{Change, Draft};
use crate::lifecycle::{enter_step, human, pause, promote};
use crate::{Health, HoldKind, Observation, Outcome, PauseKind, Pid, StepPlan, Steps, Strategy};

/// What the latest verdict allows.
enum Signal<'h> {
    /// Passing, nothing degraded.
    Healthy(&'h Health),
    /// Passing, but a non-critical condition fails.
    Degraded(&'h Health, &'h str),
    /// Failing within `failure_limit` (beyond it the rollout already rolled back).
    Failing(&'h Health),
    /// Nothing to act on: no verdict, or an inconclusive one.
    Unknown(HoldKind, String),
}

fn signal(health: Option<&Health>) -> Signal<'_> {
    match health {
        None => Signal::Unknown(HoldKind::NoAnalysis, "no analysis verdict yet".to_string()),
        Some(h) => match (h.outcome, h.degraded.as_deref()) {
            (Outcome::Inconclusive, _) => Signal::Unknown(
                HoldKind::Inconclusive,
                format!("analysis inconclusive: {}", h.reason),
            ),
            (Outcome::Fail, _) => Signal::Failing(h),
            (Outcome::Pass, Some(why)) => Signal::Degraded(h, why),
            (Outcome::Pass, None) => Signal::Healthy(h),
        },
    }
}

fn details(health: &Health) -> Value {
    serde_json::to_value(health).unwrap_or_default()
}

/// The strategy's move for a progressing rollout.
pub(crate) fn progress(d: &mut Draft<'_>, obs: &Observation) {
    match &d.plan.strategy {
        Strategy::Steps(steps) => step_tick(d, steps, obs),
        Strategy::Linear(l) => ramp_tick(d, obs, |w| l.up(w), |w| l.down(w)),
        Strategy::Exponential(e) => ramp_tick(d, obs, |w| e.up(w), |w| e.down(w)),
        Strategy::Pid(p) => pid_tick(d, p, obs),
    }
}

fn tolerated(d: &mut Draft<'_>, h: &Health) {
    let (n, limit) = (d.state.failures, d.plan.limits.failure_limit);
    d.hold(
        HoldKind::FailureTolerated,
        || format!("failure {n} of {limit} tolerated, holding: {}", h.reason),
        || details(h),
    );
}

fn step_tick(d: &mut Draft<'_>, steps: &Steps, obs: &Observation) {
    let index = d.state.step;
    let Some(&StepPlan::Weight {
        min_duration_ms,
        min_samples,
        ..
    }) = steps.get(index)
    else {
        // Progressing on a pause step (or past the end) only happens to state written by
        // hand: move on rather than stall.
        enter_step(
            d,
            index + 1,
            &Actor::Controller,
            "the step is not a weight step",
            Value::Null,
        );
        return;
    };
    let elapsed = d.since(d.state.step_since);
    let samples = obs.samples_in_step;
    match signal(obs.health.as_ref()) {
        Signal::Failing(h) => tolerated(d, h),
        _ if elapsed < min_duration_ms => d.hold(
            HoldKind::Waiting,
            || {
                format!(
                    "{}: held {} of {}",
                    steps.describe(index),
                    human(elapsed),
                    human(min_duration_ms)
                )
            },
            || Value::Null,
        ),
        _ if samples < min_samples => d.hold(
            HoldKind::Samples,
            || {
                format!(
                    "{}: {samples} of {min_samples} canary samples",
                    steps.describe(index)
                )
            },
            || Value::Null,
        ),
        Signal::Unknown(kind, reason) => d.hold(kind, || reason, || Value::Null),
        Signal::Healthy(h) | Signal::Degraded(h, _) => {
            let mut why = format!(
                "after {} with {samples} canary samples, analysis passed: {}",
                human(elapsed),
                h.reason
            );
            if let Some(degraded) = &h.degraded {
                why.push_str(&format!("; non-critical: {degraded}"));
            }
            enter_step(d, index + 1, &Actor::Controller, &why, details(h));
        }
    }
}

fn ramp_tick(
    d: &mut Draft<'_>,
    obs: &Observation,
    up: impl Fn(Ppm) -> Ppm,
    down: impl Fn(Ppm) -> Ppm,
) {
    let interval = d.plan.strategy.interval_ms().unwrap_or(0);
    let elapsed = d.since(d.state.step_since);
    if elapsed < interval {
        d.hold(
            HoldKind::Waiting,
            || format!("interval: {} of {}", human(elapsed), human(interval)),
            || Value::Null,
        );
        return;
    }
    match signal(obs.health.as_ref()) {
        Signal::Unknown(kind, reason) => d.hold(kind, || reason, || Value::Null),
        Signal::Healthy(h) => go_up(d, up(d.state.weight), h),
        Signal::Degraded(h, why) => go_down(d, down(d.state.weight), h, HoldKind::Degraded, why),
        Signal::Failing(h) => {
            let why = format!(
                "failure {} of {} tolerated: {}",
                d.state.failures, d.plan.limits.failure_limit, h.reason
            );
            go_down(d, down(d.state.weight), h, HoldKind::FailureTolerated, &why);
        }
    }
}

fn go_up(d: &mut Draft<'_>, next: Ppm, h: &Health) {
    let (weight, cap) = (d.state.weight, d.plan.strategy.cap());
    let name = d.plan.strategy.name();
    if weight >= cap {
        if cap == Ppm::FULL {
            let reason = format!(
                "{name} ramp held 100% for a healthy interval ({}): {} is now stable",
                h.reason, d.plan.canary
            );
            promote(d, &Actor::Controller, reason, details(h));
        } else {
            let reason = format!("{name} ramp reached its max {cap}: promote to finish, or abort");
            pause(
                d,
                PauseKind::Finished,
                &Actor::Controller,
                reason,
                None,
                details(h),
            );
        }
        return;
    }
    d.state.step_since = d.now;
    let reason = format!("{name} ramp {weight} → {next}: {}", h.reason);
    d.record(Change::new(Action::Ramp, Phase::Progressing, next, reason).details(details(h)));
}

fn go_down(d: &mut Draft<'_>, next: Ppm, h: &Health, kind: HoldKind, why: &str) {
    let weight = d.state.weight;
    if next >= weight {
        d.hold(kind, || format!("holding {weight}: {why}"), || details(h));
        return;
    }
    d.state.step_since = d.now;
    let reason = format!(
        "{} ramp backs off {weight} → {next}: {why}",
        d.plan.strategy.name()
    );
    d.record(Change::new(Action::Reduce, Phase::Progressing, next, reason).details(details(h)));
}

fn pid_tick(d: &mut Draft<'_>, pid: &Pid, obs: &Observation) {
    let elapsed = d.since(d.state.step_since);
    if elapsed < pid.interval_ms {
        d.hold(
            HoldKind::Waiting,
            || format!("interval: {} of {}", human(elapsed), human(pid.interval_ms)),
            || Value::Null,
        );
        return;
    }
    let Some(h) = obs.health.as_ref() else {
        d.hold(
            HoldKind::NoAnalysis,
            || "no analysis verdict yet".to_string(),
            || Value::Null,
        );
        return;
    };
    let Some(margin) = h.margin else {
        d.hold(
            HoldKind::NoMargin,
            || format!("{} has no value yet", pid.metric),
            || details(h),
        );
        return;
    };
    let weight = d.state.weight;
    let out = pid.update(&d.state.pid, margin, weight);
    if out.delta > 0.0 && h.outcome != Outcome::Pass {
        // Only a passing verdict may raise the weight; the controller's state is left as it
        // was, so nothing winds up while holding.
        match signal(Some(h)) {
            Signal::Failing(h) => tolerated(d, h),
            Signal::Unknown(kind, reason) => d.hold(kind, || reason, || details(h)),
            Signal::Healthy(_) | Signal::Degraded(..) => {}
        }
        return;
    }
    d.state.pid = out.state;
    d.state.step_since = d.now;
    let why = format!(
        "{} margin {:.3} to {}",
        pid.metric, out.error, pid.threshold
    );
    if out.delta > 0.0 && weight == Ppm::FULL {
        let reason = format!("PID held 100% with {why}: {} is now stable", d.plan.canary);
        promote(d, &Actor::Controller, reason, details(h));
        return;
    }
    let next = Pid::apply(weight, out.delta);
    let action = match next.cmp(&weight) {
        std::cmp::Ordering::Greater => Action::Ramp,
        std::cmp::Ordering::Less => Action::Reduce,
        std::cmp::Ordering::Equal => {
            d.hold(
                HoldKind::Waiting,
                || format!("PID steady at {weight}: {why}"),
                || Value::Null,
            );
            return;
        }
    };
    let reason = format!("PID {weight} → {next} ({:+.2}%): {why}", out.delta * 100.0);
    d.record(Change::new(action, Phase::Progressing, next, reason).details(details(h)));
}
