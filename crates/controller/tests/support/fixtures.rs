//! Plans, verdicts and invariant checks shared by the integration tests.
#![allow(dead_code)]

use rollgate_controller::{
    ControlSpec, Effect, Health, HoldKind, Observation, Outcome, PidSpec, RolloutIds, RolloutPlan,
    RolloutState, StepSpec, StrategySpec, Transition, reconcile,
};
use rollgate_core::model::{Action, Phase, UnixMillis};
use rollgate_core::{DurationSpec, Ppm};

pub const SECOND: UnixMillis = 1_000;
pub const MINUTE: UnixMillis = 60 * SECOND;

pub fn ids() -> RolloutIds {
    RolloutIds {
        name: "shop-v1.2".into(),
        service: "shop".into(),
        stable: "v1.1".into(),
        canary: "v1.2".into(),
    }
}

pub fn plan(strategy: StrategySpec, control: ControlSpec) -> RolloutPlan {
    match RolloutPlan::build(ids(), &strategy, &control) {
        Ok(plan) => plan,
        Err(errs) => panic!("invalid test plan:\n{errs}"),
    }
}

pub fn pct(p: u32) -> Ppm {
    Ppm::percent(p)
}

pub fn secs(s: u64) -> DurationSpec {
    DurationSpec::from_secs(s)
}

/// 1% (30s, 500 samples) → 5% (1m) → 10% → pause → 25% → 100%: like the example config.
pub fn example_steps() -> StrategySpec {
    StrategySpec::Steps(vec![
        StepSpec::weight(pct(1))
            .min_duration(secs(30))
            .min_samples(500),
        StepSpec::weight(pct(5)).min_duration(secs(60)),
        StepSpec::weight(pct(10)).min_duration(secs(60)),
        StepSpec::pause(None),
        StepSpec::weight(pct(25)).min_duration(secs(60)),
        StepSpec::weight(Ppm::FULL),
    ])
}

pub fn health(window_end: UnixMillis, outcome: Outcome) -> Health {
    Health {
        window_end,
        outcome,
        reason: format!("verdict {outcome}"),
        failing_condition: None,
        escalate: false,
        degraded: None,
        canary_samples: 1_000,
        baseline_samples: 1_000,
        margin: None,
        details: serde_json::json!({ "window_end": window_end }),
    }
}

pub fn pass(window_end: UnixMillis) -> Health {
    health(window_end, Outcome::Pass)
}

pub fn fail(window_end: UnixMillis) -> Health {
    Health {
        failing_condition: Some("errors".into()),
        reason: "error_rate 7.9% > 5% (canary 95 of 1200, baseline 5 of 1180)".into(),
        ..health(window_end, Outcome::Fail)
    }
}

pub fn inconclusive(window_end: UnixMillis) -> Health {
    health(window_end, Outcome::Inconclusive)
}

/// An observation at `now` with the verdict `verdict(now)` and `samples` canary samples in
/// the step.
pub fn observe(now: UnixMillis, verdict: fn(UnixMillis) -> Health, samples: u64) -> Observation {
    Observation::at(now)
        .with_health(verdict(now))
        .with_samples(samples)
}

/// The kind of hold the transition left the rollout in.
pub fn hold_kind(t: &Transition) -> Option<HoldKind> {
    t.state.hold.as_ref().map(|h| h.kind)
}

/// The PID example of the config: error_rate under 2%, kp 2, ki 0.2, 10s, max step 20%.
pub fn pid_spec() -> PidSpec {
    PidSpec {
        metric: "error_rate".into(),
        threshold: pct(2),
        kp: 2.0,
        ki: 0.2,
        kd: 0.0,
        interval: secs(10),
        max_step: pct(20),
        start: None,
    }
}

/// One reconcile, with every invariant of [`check_transition`] checked.
pub fn step(plan: &RolloutPlan, state: &RolloutState, obs: Observation) -> Transition {
    let t = reconcile(plan, state, &obs);
    check_transition(state, &t);
    t
}

/// The state right after the first reconcile started the rollout at time 0.
pub fn started(plan: &RolloutPlan) -> RolloutState {
    step(plan, &RolloutState::new(0), Observation::at(0)).state
}

/// The actions of a transition's decisions.
pub fn actions(t: &Transition) -> Vec<Action> {
    t.decisions.iter().map(|d| d.action).collect()
}

/// Every invariant a transition from `before` must keep: decisions numbered from
/// `before.next_seq` without gaps, each decision's "before" equal to the previous "after",
/// the final state equal to the last "after" (or unchanged without decisions), the published
/// weight equal to the final weight exactly when it changed, and the terminal phases' weights.
pub fn check_transition(before: &RolloutState, t: &Transition) {
    let mut cursor = (before.phase, before.weight);
    for (i, d) in t.decisions.iter().enumerate() {
        assert_eq!(d.seq, before.next_seq + i as u64, "seq of {d:?}");
        assert_eq!(
            (d.phase_before, d.weight_before),
            cursor,
            "chain broken at {d:?}"
        );
        assert!(
            allowed(d.phase_before, d.phase_after, d.action),
            "invalid transition {d:?}"
        );
        cursor = (d.phase_after, d.weight_after);
    }
    assert_eq!(
        (t.state.phase, t.state.weight),
        cursor,
        "state does not match the last decision"
    );
    assert_eq!(t.state.next_seq, before.next_seq + t.decisions.len() as u64);
    assert!(t.state.weight.get() <= Ppm::SCALE);
    let published: Vec<Ppm> = t
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::PublishWeight(w) => Some(*w),
            _ => None,
        })
        .collect();
    // A restore record is never routed, so it publishes nothing.
    let restore = t.decisions.iter().any(|d| d.action == Action::Restore);
    if t.state.weight == before.weight || restore {
        assert!(
            published.is_empty(),
            "published an unchanged weight: {published:?}"
        );
    } else {
        assert_eq!(published, [t.state.weight]);
    }
    match t.state.phase {
        Phase::RolledBack | Phase::Aborted => assert_eq!(t.state.weight, Ppm::ZERO),
        Phase::Promoted => assert_eq!(t.state.weight, Ppm::FULL),
        _ => {}
    }
}

/// The state machine's edges.
pub fn allowed(from: Phase, to: Phase, action: Action) -> bool {
    use Phase::*;
    match (from, to) {
        (Pending, Progressing) => action == Action::Start,
        (Pending, Promoted) => matches!(action, Action::Promote | Action::Restore),
        (Pending, Aborted) => action == Action::Abort,
        (Progressing | Paused, Progressing | Paused | RolledBack | Aborted | Promoted) => true,
        (RolledBack | Aborted, Progressing) => action == Action::Retry,
        (RolledBack | Aborted | Promoted, _) if from == to => action == Action::Restore,
        _ => false,
    }
}
