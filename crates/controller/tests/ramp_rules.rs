//! The rules of the interval-driven strategies (linear, exponential, PID), driven through
//! `reconcile`.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use rollgate_controller::{
    Command, ControlSpec, ExponentialSpec, HoldKind, LinearSpec, Observation, Outcome, PauseKind,
    RolloutPlan, StrategySpec, apply_command,
};
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase};

fn linear_plan(max: Option<Ppm>) -> RolloutPlan {
    plan(
        StrategySpec::Linear(LinearSpec {
            step: pct(10),
            interval: secs(60),
            back_off: Some(pct(5)),
            max,
        }),
        ControlSpec::default(),
    )
}

#[test]
fn linear_adds_its_step_each_healthy_interval_and_backs_off_when_degraded() {
    let p = linear_plan(None);
    let s = started(&p);
    assert_eq!(s.weight, pct(10));
    let t = step(&p, &s, observe(59 * SECOND, pass, 0));
    assert_eq!(t.state.weight, pct(10), "the interval has not passed");
    let s = step(&p, &s, observe(MINUTE, pass, 0)).state;
    assert_eq!(s.weight, pct(20));
    let mut h = pass(2 * MINUTE);
    h.degraded = Some("error_rate 1.4% > 1%".into());
    let t = step(&p, &s, Observation::at(2 * MINUTE).with_health(h));
    assert_eq!(actions(&t), [Action::Reduce]);
    assert_eq!(t.state.weight, pct(15));
    assert!(
        t.decisions[0].reason.contains("error_rate 1.4% > 1%"),
        "{}",
        t.decisions[0].reason
    );
}

#[test]
fn linear_promotes_after_a_healthy_interval_at_100_percent() {
    let p = linear_plan(None);
    let mut s = started(&p);
    let mut now = 0;
    while s.phase == Phase::Progressing {
        now += MINUTE;
        s = step(&p, &s, observe(now, pass, 0)).state;
    }
    assert_eq!(s.phase, Phase::Promoted);
    assert_eq!(
        now,
        10 * MINUTE,
        "9 ramps from 10% to 100%, then one interval at 100%"
    );
}

#[test]
fn a_ramp_capped_below_100_percent_pauses_for_promotion() {
    let p = linear_plan(Some(pct(30)));
    let mut s = started(&p);
    for i in 1..=3 {
        s = step(&p, &s, observe(i * MINUTE, pass, 0)).state;
    }
    assert_eq!((s.phase, s.weight), (Phase::Paused, pct(30)));
    assert_eq!(s.pause.as_ref().map(|p| p.kind), Some(PauseKind::Finished));
    let err = apply_command(
        &p,
        &s,
        Command::Resume,
        &Actor::User("bo".into()),
        4 * MINUTE,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("reached its max 30%: promote to finish, or abort"),
        "{err}"
    );
}

#[test]
fn exponential_doubles_each_healthy_interval() {
    let p = plan(
        StrategySpec::Exponential(ExponentialSpec {
            start: pct(1),
            factor: 2.0,
            interval: secs(60),
            max: None,
        }),
        ControlSpec::default(),
    );
    let mut s = started(&p);
    let mut weights = vec![s.weight];
    for i in 1..=4 {
        s = step(&p, &s, observe(i * MINUTE, pass, 0)).state;
        weights.push(s.weight);
    }
    assert_eq!(weights, [pct(1), pct(2), pct(4), pct(8), pct(16)]);
    let mut h = health(5 * MINUTE, Outcome::Pass);
    h.degraded = Some("p99 up".into());
    let t = step(&p, &s, Observation::at(5 * MINUTE).with_health(h));
    assert_eq!(t.state.weight, pct(8));
}

#[test]
fn pid_waits_for_its_metric_and_ramps_on_margin() {
    let p = plan(StrategySpec::Pid(pid_spec()), ControlSpec::default());
    let s = started(&p);
    assert_eq!(s.weight, pct(1));
    let t = step(&p, &s, observe(10 * SECOND, pass, 0));
    assert_eq!(hold_kind(&t), Some(HoldKind::NoMargin));
    let mut h = pass(10 * SECOND);
    h.margin = Some(1.0);
    let t = step(&p, &s, Observation::at(10 * SECOND).with_health(h.clone()));
    assert_eq!(t.state.weight, pct(21));
    // An inconclusive verdict never raises the weight, even with a healthy margin.
    h.outcome = Outcome::Inconclusive;
    let t = step(&p, &s, Observation::at(10 * SECOND).with_health(h.clone()));
    assert_eq!(t.state.weight, pct(1));
    assert_eq!(t.state.pid, s.pid, "nothing integrates while holding");
    // But a negative margin lowers it whatever the verdict.
    h.margin = Some(-0.5);
    let t = step(
        &p,
        &started(&p),
        Observation::at(10 * SECOND).with_health(h),
    );
    assert_eq!(t.state.weight, Ppm::ZERO);
}
