//! One test per rule of the rollout state machine, driven through `reconcile`.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use rollgate_controller::{
    ControlSpec, Effect, GradualSpec, HoldKind, NotificationKind, Observation, PauseKind,
    RollbackSpec, RolloutPlan, RolloutState, StepSpec, StrategySpec, Transition,
};
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase};

fn steps_plan() -> RolloutPlan {
    plan(example_steps(), ControlSpec::default())
}

#[test]
fn a_pending_rollout_starts_at_its_first_step() {
    let p = steps_plan();
    let t = step(&p, &RolloutState::new(0), Observation::at(5));
    assert_eq!(actions(&t), [Action::Start]);
    assert_eq!(
        (t.state.phase, t.state.weight, t.state.step),
        (Phase::Progressing, pct(1), 0)
    );
    assert_eq!(t.state.started_at, Some(5));
    assert_eq!(t.effects[0], Effect::PublishWeight(pct(1)));
    assert_eq!(t.decisions[0].actor, Actor::Controller);
    assert_eq!(
        t.notifications().next().map(|n| n.kind),
        Some(NotificationKind::Phase)
    );
}

#[test]
fn a_first_pause_step_starts_paused_at_zero() {
    let p = plan(
        StrategySpec::Steps(vec![StepSpec::pause(None), StepSpec::weight(Ppm::FULL)]),
        ControlSpec::default(),
    );
    let t = step(&p, &RolloutState::new(0), Observation::at(0));
    assert_eq!(actions(&t), [Action::Start, Action::Pause]);
    assert_eq!((t.state.phase, t.state.weight), (Phase::Paused, Ppm::ZERO));
}

#[test]
fn a_step_holds_until_its_min_duration_without_logging_it() {
    let p = steps_plan();
    let s = started(&p);
    let t = step(&p, &s, observe(29 * SECOND, pass, 900));
    assert!(t.decisions.is_empty());
    assert_eq!(t.state.weight, pct(1));
    assert_eq!(hold_kind(&t), Some(HoldKind::Waiting));
}

#[test]
fn a_step_holds_until_its_min_samples_and_logs_the_hold_once() {
    let p = steps_plan();
    let s = started(&p);
    let t = step(&p, &s, observe(31 * SECOND, pass, 120));
    assert_eq!(actions(&t), [Action::Hold]);
    assert!(
        t.decisions[0].reason.contains("120 of 500 canary samples"),
        "{}",
        t.decisions[0].reason
    );
    let again = step(&p, &t.state, observe(32 * SECOND, pass, 130));
    assert!(
        again.decisions.is_empty(),
        "the same hold reason is not logged twice"
    );
}

#[test]
fn an_inconclusive_or_missing_verdict_holds() {
    let p = steps_plan();
    let s = started(&p);
    let t = step(&p, &s, observe(40 * SECOND, inconclusive, 900));
    assert_eq!(actions(&t), [Action::Hold]);
    assert_eq!(t.state.weight, pct(1));
    let t = step(&p, &s, Observation::at(40 * SECOND).with_samples(900));
    assert_eq!(actions(&t), [Action::Hold]);
    assert_eq!(hold_kind(&t), Some(HoldKind::NoAnalysis));
}

#[test]
fn a_passing_step_with_enough_time_and_samples_advances() {
    let p = steps_plan();
    let s = started(&p);
    let t = step(&p, &s, observe(31 * SECOND, pass, 500));
    assert_eq!(actions(&t), [Action::Ramp]);
    assert_eq!(
        (t.state.step, t.state.weight, t.state.step_since),
        (1, pct(5), 31 * SECOND)
    );
    let d = &t.decisions[0];
    assert!(
        d.reason.starts_with("step 2 of 6 (5%): 1% → 5%"),
        "{}",
        d.reason
    );
    assert_eq!(d.details["window_end"], 31 * SECOND);
    assert_eq!(t.effects[0], Effect::PublishWeight(pct(5)));
}

#[test]
fn a_non_critical_failure_does_not_stop_steps() {
    let p = steps_plan();
    let s = started(&p);
    let mut h = pass(31 * SECOND);
    h.degraded = Some("conversion_rate 1.1% < 1.4%".into());
    let t = step(
        &p,
        &s,
        Observation::at(31 * SECOND)
            .with_health(h)
            .with_samples(500),
    );
    assert_eq!(actions(&t), [Action::Ramp]);
    assert!(
        t.decisions[0]
            .reason
            .contains("non-critical: conversion_rate"),
        "{}",
        t.decisions[0].reason
    );
}

#[test]
fn passing_the_last_step_promotes_the_canary() {
    let p = plan(
        StrategySpec::Steps(vec![StepSpec::weight(pct(50)), StepSpec::weight(Ppm::FULL)]),
        ControlSpec::default(),
    );
    let s = started(&p);
    let s = step(&p, &s, observe(SECOND, pass, 0)).state;
    assert_eq!(s.weight, Ppm::FULL);
    let t = step(&p, &s, observe(2 * SECOND, pass, 0));
    assert_eq!(actions(&t), [Action::Promote]);
    assert_eq!(t.state.phase, Phase::Promoted);
    assert!(t.effects.contains(&Effect::PromoteStable {
        service: "shop".into(),
        version: "v1.2".into()
    }));
    assert!(
        t.decisions[0].reason.contains("v1.2 is now stable"),
        "{}",
        t.decisions[0].reason
    );
}

#[test]
fn a_failing_condition_rolls_back_at_once_naming_it_and_its_numbers() {
    let p = steps_plan();
    let s = started(&p);
    let t = step(&p, &s, observe(10 * SECOND, fail, 0));
    assert_eq!(actions(&t), [Action::Rollback]);
    assert_eq!(
        (t.state.phase, t.state.weight),
        (Phase::RolledBack, Ppm::ZERO)
    );
    let d = &t.decisions[0];
    assert!(
        d.reason
            .contains("condition \"errors\" failed: error_rate 7.9% > 5% (canary 95 of 1200"),
        "{}",
        d.reason
    );
    assert_eq!(d.details["failing_condition"], "errors");
    assert_eq!(t.effects[0], Effect::PublishWeight(Ppm::ZERO));
    assert_eq!(
        t.notifications().next().map(|n| n.kind),
        Some(NotificationKind::Rollback)
    );
}

#[test]
fn failures_within_the_limit_hold_and_each_window_counts_once() {
    let mut p = plan(example_steps(), ControlSpec::default());
    p.limits.failure_limit = 1;
    let s = started(&p);
    let t = step(&p, &s, observe(40 * SECOND, fail, 900));
    assert_eq!(actions(&t), [Action::Hold]);
    assert_eq!(t.state.failures, 1);
    // The same window again: not a second failure.
    let t = step(
        &p,
        &t.state,
        Observation::at(41 * SECOND)
            .with_health(fail(40 * SECOND))
            .with_samples(900),
    );
    assert_eq!((t.state.failures, t.state.phase), (1, Phase::Progressing));
    let t = step(&p, &t.state, observe(42 * SECOND, fail, 900));
    assert_eq!(actions(&t), [Action::Rollback]);
    assert!(
        t.decisions[0]
            .reason
            .contains("failed windows 2, failure_limit 1"),
        "{}",
        t.decisions[0].reason
    );
}

#[test]
fn a_gradual_rollback_steps_down_every_interval_then_ends_rolled_back() {
    let gradual = RollbackSpec::Gradual(GradualSpec {
        step: Some(pct(10)),
        interval: Some(secs(10)),
    });
    let p = plan(
        StrategySpec::Steps(vec![StepSpec::weight(pct(25)), StepSpec::weight(Ppm::FULL)]),
        ControlSpec {
            rollback: gradual,
            ..ControlSpec::default()
        },
    );
    let s = started(&p);
    let t = step(&p, &s, observe(SECOND, fail, 0));
    assert_eq!(
        (t.state.phase, t.state.weight),
        (Phase::Progressing, pct(15))
    );
    assert!(t.state.is_rolling_back());
    let t = step(&p, &t.state, observe(5 * SECOND, pass, 0));
    assert_eq!(
        t.state.weight,
        pct(15),
        "waits for the interval, ignores later verdicts"
    );
    let t = step(&p, &t.state, Observation::at(11 * SECOND));
    assert_eq!(t.state.weight, pct(5));
    let t = step(&p, &t.state, Observation::at(21 * SECOND));
    assert_eq!(
        (t.state.phase, t.state.weight),
        (Phase::RolledBack, Ppm::ZERO)
    );
    assert!(!t.state.is_rolling_back());
    assert!(t.decisions.iter().all(|d| d.action == Action::Rollback));
}

#[test]
fn missing_the_progress_deadline_rolls_back_but_paused_time_does_not_count() {
    let control = ControlSpec {
        progress_deadline: Some(secs(120)),
        ..ControlSpec::default()
    };
    let p = plan(example_steps(), control);
    let s = started(&p);
    let held = step(&p, &s, observe(MINUTE, pass, 10)).state;
    let t = step(
        &p,
        &held,
        Observation::at(2 * MINUTE + SECOND).with_samples(10),
    );
    assert_eq!(actions(&t), [Action::Rollback]);
    assert!(
        t.decisions[0].reason.contains(
            "no progress for 2m 1s (progress_deadline 2m) at 1%: step 1 of 6 (1%): 10 of 500"
        ),
        "{}",
        t.decisions[0].reason
    );
    // Paused for an hour, then resumed: the deadline counts from the resume.
    let paused = rollgate_controller::apply_command(
        &p,
        &s,
        rollgate_controller::Command::Pause,
        &Actor::User("ann".into()),
        0,
    )
    .unwrap();
    let idle = step(&p, &paused.state, Observation::at(60 * MINUTE));
    assert!(idle.decisions.is_empty());
    let resumed = rollgate_controller::apply_command(
        &p,
        &idle.state,
        rollgate_controller::Command::Resume,
        &Actor::User("ann".into()),
        60 * MINUTE,
    )
    .unwrap();
    let t = step(
        &p,
        &resumed.state,
        Observation::at(61 * MINUTE).with_samples(10),
    );
    assert_eq!(t.state.phase, Phase::Progressing);
}

#[test]
fn a_breaker_open_too_long_rolls_back() {
    let p = steps_plan();
    let s = started(&p);
    let t = step(
        &p,
        &s,
        Observation::at(50 * SECOND).with_breaker_open_since(0),
    );
    assert_eq!(
        t.state.phase,
        Phase::Progressing,
        "open 50s, within the default 1m"
    );
    let t = step(
        &p,
        &s,
        Observation::at(61 * SECOND).with_breaker_open_since(0),
    );
    assert_eq!(actions(&t), [Action::Rollback]);
    assert!(
        t.decisions[0]
            .reason
            .contains("circuit breaker has been open for 1m 1s"),
        "{}",
        t.decisions[0].reason
    );
}

fn at_pause_step(p: &RolloutPlan) -> RolloutState {
    let mut s = started(p);
    for (i, samples) in [(1, 900), (2, 0), (3, 0)] {
        let now = i * 2 * MINUTE;
        s = step(p, &s, observe(now, pass, samples)).state;
    }
    s
}

#[test]
fn a_pause_step_without_duration_waits_for_a_person() {
    let p = steps_plan();
    let s = at_pause_step(&p);
    assert_eq!((s.phase, s.weight, s.step), (Phase::Paused, pct(10), 3));
    assert_eq!(s.pause.as_ref().map(|p| p.kind), Some(PauseKind::Step));
    let t = step(&p, &s, observe(600 * MINUTE, pass, 0));
    assert!(t.decisions.is_empty());
    assert_eq!(t.state.phase, Phase::Paused);
}

#[test]
fn a_timed_pause_step_resumes_on_its_own_and_moves_on() {
    let p = plan(
        StrategySpec::Steps(vec![
            StepSpec::weight(pct(5)),
            StepSpec::pause(Some(secs(600))),
            StepSpec::weight(Ppm::FULL),
        ]),
        ControlSpec::default(),
    );
    let s = started(&p);
    let s = step(&p, &s, observe(SECOND, pass, 0)).state;
    assert_eq!(s.phase, Phase::Paused);
    let t = step(&p, &s, Observation::at(SECOND + 599 * SECOND));
    assert!(t.decisions.is_empty());
    let t = step(&p, &s, Observation::at(SECOND + 600 * SECOND));
    assert_eq!(actions(&t), [Action::Resume, Action::Ramp]);
    assert_eq!(
        (t.state.phase, t.state.weight, t.state.step),
        (Phase::Progressing, Ppm::FULL, 2)
    );
}

#[test]
fn a_failure_while_paused_still_rolls_back() {
    let p = steps_plan();
    let s = at_pause_step(&p);
    let now = 10 * MINUTE;
    let t = step(&p, &s, observe(now, fail, 0));
    assert_eq!(
        (t.state.phase, t.state.weight),
        (Phase::RolledBack, Ppm::ZERO)
    );
    assert!(t.state.pause.is_none());
}

#[test]
fn too_many_inconclusive_windows_pause_for_a_person() {
    let mut p = plan(example_steps(), ControlSpec::default());
    p.limits.inconclusive_limit = 2;
    let mut s = started(&p);
    for i in 1..=2 {
        s = step(&p, &s, observe(i * SECOND, inconclusive, 0)).state;
        assert_eq!(s.phase, Phase::Progressing);
    }
    let t = step(&p, &s, observe(3 * SECOND, inconclusive, 0));
    assert_eq!(actions(&t), [Action::Pause]);
    assert_eq!(
        t.state.pause.as_ref().map(|p| p.kind),
        Some(PauseKind::Inconclusive)
    );
    assert!(
        t.decisions[0]
            .reason
            .contains("inconclusive for 3 windows in a row"),
        "{}",
        t.decisions[0].reason
    );
}

#[test]
fn terminal_phases_never_change_on_their_own() {
    let p = steps_plan();
    for phase in [Phase::Promoted, Phase::RolledBack, Phase::Aborted] {
        let mut s = RolloutState::new(0);
        s.phase = phase;
        s.weight = if phase == Phase::Promoted {
            Ppm::FULL
        } else {
            Ppm::ZERO
        };
        let obs = observe(60 * MINUTE, fail, 0).with_breaker_open_since(0);
        let t = step(&p, &s, obs);
        assert_eq!(t, Transition::unchanged(&s), "{phase}");
    }
}

#[test]
fn an_escalating_analysis_pauses_once_and_a_resume_sticks() {
    let p = steps_plan();
    let s = started(&p);
    let mut h = inconclusive(5 * SECOND);
    h.escalate = true;
    let t = step(&p, &s, Observation::at(5 * SECOND).with_health(h.clone()));
    assert_eq!(actions(&t), [Action::Pause]);
    assert!(
        t.decisions[0]
            .reason
            .starts_with("the analysis asks for a person"),
        "{}",
        t.decisions[0].reason
    );
    let resumed = rollgate_controller::apply_command(
        &p,
        &t.state,
        rollgate_controller::Command::Resume,
        &rollgate_core::model::Actor::User("ann".into()),
        6 * SECOND,
    )
    .unwrap();
    // The same (stale) escalating window after the resume does not pause again; a new one does.
    let again = step(
        &p,
        &resumed.state,
        Observation::at(7 * SECOND).with_health(h.clone()),
    );
    assert_eq!(again.state.phase, Phase::Progressing);
    h.window_end = 8 * SECOND;
    let later = step(&p, &again.state, Observation::at(8 * SECOND).with_health(h));
    assert_eq!(later.state.phase, Phase::Paused);
}
