//! Whole rollouts in simulated time: traffic, errors, verdicts, a reconcile every second and a
//! restart after each one.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/sim.rs"]
mod sim;

use fixtures::*;
use rollgate_controller::{
    Command, ControlSpec, GradualSpec, RollbackSpec, RolloutPlan, StepSpec, StrategySpec,
};
use rollgate_core::model::{Action, Actor, Phase};
use rollgate_core::{BucketingVersion, Ppm, bucket};
use sim::{Sim, in_canary};

fn walk() -> RolloutPlan {
    let control = ControlSpec {
        progress_deadline: Some(secs(600)),
        ..ControlSpec::default()
    };
    plan(example_steps(), control)
}

fn healthy() -> sim::ErrorModel {
    Box::new(|_, _| 0.005)
}

#[test]
fn a_healthy_canary_walks_every_step_to_promoted() {
    let mut sim = Sim::new(walk(), healthy());
    assert!(sim.run_until(3_600, |s| s.phase == Phase::Paused));
    let paused_at = sim.now;
    sim.command(Command::Resume, "ann");
    assert!(sim.run_until(3_600, |s| s.phase.is_terminal()));
    assert_eq!(sim.state.phase, Phase::Promoted);
    assert_eq!(sim.weights(), [pct(1), pct(5), pct(10), pct(25), Ppm::FULL]);
    let steps: Vec<Action> = sim
        .log
        .iter()
        .map(|d| d.action)
        .filter(|a| *a != Action::Hold)
        .collect();
    assert_eq!(
        steps,
        [
            Action::Start,
            Action::Ramp,
            Action::Ramp,
            Action::Pause,
            Action::Resume,
            Action::Ramp,
            Action::Ramp,
            Action::Promote
        ]
    );
    let promote = sim.log.last().unwrap();
    assert_eq!(promote.actor, Actor::Controller);
    assert!(
        promote.reason.contains("every step done"),
        "{}",
        promote.reason
    );
    // Each step lasted at least its minimum duration: 30s + 60s + 60s before the pause.
    assert!(paused_at >= 150 * SECOND, "{paused_at}");
    let resume = sim.log.iter().find(|d| d.action == Action::Resume).unwrap();
    assert_eq!(resume.actor, Actor::User("ann".into()));
}

#[test]
fn an_error_jump_at_step_3_rolls_back_naming_the_condition_and_numbers() {
    let jump: sim::ErrorModel = Box::new(|s, _| if s.step >= 2 { 0.12 } else { 0.005 });
    let mut sim = Sim::new(walk(), jump);
    assert!(sim.run_until(3_600, |s| s.phase.is_terminal()));
    assert_eq!(sim.state.phase, Phase::RolledBack);
    assert_eq!(sim.weights(), [pct(1), pct(5), pct(10), Ppm::ZERO]);
    let rollback = sim.log.last().unwrap();
    assert_eq!(rollback.action, Action::Rollback);
    assert_eq!(
        (rollback.weight_before, rollback.weight_after),
        (pct(10), Ppm::ZERO)
    );
    // The analysis' own line: the condition, the values of both cohorts with their sample
    // sizes, the threshold and the test's p-value.
    let reason = &rollback.reason;
    assert!(
        reason.starts_with("rolled back: errors failed: error_rate "),
        "{reason}"
    );
    assert!(
        reason.contains("vs baseline") && reason.contains("(n="),
        "{reason}"
    );
    assert!(
        reason.contains("fails \"error_rate > 5%\"; sequential p="),
        "{reason}"
    );
    assert_eq!(rollback.details["failing_condition"], "errors");
    let condition = &rollback.details["details"]["conditions"][0];
    assert_eq!(
        (condition["name"].as_str(), condition["outcome"].as_str()),
        (Some("errors"), Some("fail"))
    );
    assert!(rollback.details["canary_samples"].as_u64().unwrap() >= sim::MIN_SAMPLES);
    // Caught within seconds of entering step 3, not after its minimum duration.
    let entered = sim.published[2].0;
    assert!(
        rollback.at - entered < 30 * SECOND,
        "took {}ms",
        rollback.at - entered
    );
}

#[test]
fn a_pause_step_waits_for_resume() {
    let mut sim = Sim::new(walk(), healthy());
    assert!(sim.run_until(3_600, |s| s.phase == Phase::Paused));
    let logged = sim.log.len();
    // Two hours later, with passing verdicts every second and a 10 minute progress deadline:
    // still paused at 10%, and nothing more in the log.
    assert!(!sim.run_until(7_200, |s| s.phase != Phase::Paused));
    assert_eq!((sim.state.weight, sim.log.len()), (pct(10), logged));
    sim.command(Command::Resume, "ann");
    assert!(sim.run_until(3_600, |s| s.phase.is_terminal()));
    assert_eq!(sim.state.phase, Phase::Promoted);
}

#[test]
fn a_gradual_rollback_removes_units_in_reverse_order_of_entry() {
    let gradual = RollbackSpec::Gradual(GradualSpec {
        step: Some(pct(5)),
        interval: Some(secs(10)),
    });
    let p = plan(
        StrategySpec::Steps(vec![
            StepSpec::weight(pct(10)).min_duration(secs(30)),
            StepSpec::weight(pct(20)).min_duration(secs(30)),
            StepSpec::weight(pct(30)).min_duration(secs(30)),
            StepSpec::weight(Ppm::FULL).min_duration(secs(30)),
        ]),
        ControlSpec {
            rollback: gradual,
            ..ControlSpec::default()
        },
    );
    let salt = p.name.clone();
    let jump: sim::ErrorModel = Box::new(|s, _| if s.step >= 2 { 0.2 } else { 0.005 });
    let mut sim = Sim::new(p, jump);
    let units: Vec<u32> = (0..20_000)
        .map(|i| bucket(BucketingVersion::V1, &salt, &format!("user-{i}")))
        .collect();
    let mut entered = vec![None; units.len()];
    let mut left = vec![None; units.len()];
    let mut tick = 0u32;
    while !sim.state.phase.is_terminal() && tick < 3_600 {
        sim.second();
        tick += 1;
        for (i, b) in units.iter().enumerate() {
            let canary = in_canary(*b, sim.state.weight);
            if canary && entered[i].is_none() {
                entered[i] = Some(tick);
            }
            if !canary && entered[i].is_some() && left[i].is_none() {
                left[i] = Some(tick);
            }
        }
    }
    assert_eq!(sim.state.phase, Phase::RolledBack);
    let weights: Vec<u32> = sim.weights().iter().map(|w| w.get() / 10_000).collect();
    assert_eq!(weights, [10, 20, 30, 25, 20, 15, 10, 5, 0]);
    let mut order: Vec<(u32, u32)> = entered
        .iter()
        .zip(&left)
        .filter_map(|(e, l)| Some(((*e)?, l.expect("every unit that entered has left"))))
        .collect();
    assert!(
        order.len() > 5_000,
        "about 30% of 20000 units entered: {}",
        order.len()
    );
    // Sorted by entry (and, within one entry, latest exit first), exits never get later:
    // every unit that entered later left no later than every unit that entered before it.
    order.sort_by_key(|&(e, l)| (e, std::cmp::Reverse(l)));
    assert!(
        order.windows(2).all(|w| w[0].1 >= w[1].1),
        "not last in, first out"
    );
    let mut exits: Vec<u32> = order.iter().map(|(_, l)| *l).collect();
    exits.dedup();
    assert_eq!(
        exits.len(),
        6,
        "six reductions of 5%, each removing its own units"
    );
    let first_wave = order
        .iter()
        .filter(|(e, _)| *e == order[0].0)
        .map(|(_, l)| *l)
        .min()
        .unwrap();
    let last_wave = order
        .iter()
        .filter(|(e, _)| *e == order[order.len() - 1].0)
        .map(|(_, l)| *l)
        .max()
        .unwrap();
    assert!(
        first_wave > last_wave,
        "early adopters ({first_wave}) left after the latest ({last_wave})"
    );
}
