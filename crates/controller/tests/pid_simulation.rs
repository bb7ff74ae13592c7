//! The PID strategy against a plant model: the canary's error rate as a function of its
//! weight (and time). With the example gains (kp 2, ki 0.2, kd 0, max_step 20%, threshold 2%)
//! it must ramp fast on a healthy canary, settle below the threshold on one that degrades with
//! load, back off on one that degrades over time, and never oscillate.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use rollgate_controller::{
    ControlSpec, Observation, Pid, PidSpec, RolloutPlan, RolloutState, Strategy, StrategySpec,
    reconcile,
};
use rollgate_core::Ppm;
use rollgate_core::model::{Phase, UnixMillis};

fn pid_plan() -> RolloutPlan {
    plan(StrategySpec::Pid(pid_spec()), ControlSpec::default())
}

/// Runs for `seconds`, reconciling every second with the error rate `plant(weight, now)`
/// measured exactly, and returns the weight after every interval (every 10 s).
fn run(
    plan: &RolloutPlan,
    seconds: i64,
    plant: impl Fn(f64, UnixMillis) -> f64,
) -> (RolloutState, Vec<f64>) {
    let Strategy::Pid(pid) = &plan.strategy else {
        unreachable!()
    };
    let mut state = reconcile(plan, &RolloutState::new(0), &Observation::at(0)).state;
    let mut trace = vec![state.weight.as_fraction()];
    for s in 1..=seconds {
        let now = s * SECOND;
        let mut h = pass(now);
        h.margin = Some(pid.margin(plant(state.weight.as_fraction(), now)));
        let t = reconcile(plan, &state, &Observation::at(now).with_health(h));
        check_transition(&state, &t);
        state = t.state;
        if s % 10 == 0 {
            trace.push(state.weight.as_fraction());
        }
        if state.phase.is_terminal() {
            break;
        }
    }
    (state, trace)
}

/// How often the weight changes direction, ignoring moves smaller than 0.1%.
fn direction_changes(trace: &[f64]) -> usize {
    let moves: Vec<f64> = trace
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| d.abs() >= 0.001)
        .collect();
    moves
        .windows(2)
        .filter(|m| m[0].signum() != m[1].signum())
        .count()
}

#[test]
fn a_healthy_canary_ramps_at_full_speed_and_is_promoted() {
    let (state, trace) = run(&pid_plan(), 600, |_, _| 0.004);
    assert_eq!(state.phase, Phase::Promoted);
    // 1% → 21% → 41% → 61% → 81% → 100%, then one more interval to promote.
    assert!(
        trace.len() <= 8,
        "took {} intervals: {trace:?}",
        trace.len()
    );
    assert!(trace.windows(2).all(|w| w[1] >= w[0]), "{trace:?}");
}

#[test]
fn a_canary_degrading_with_load_settles_below_the_threshold_without_oscillating() {
    // 0.4% errors at no load, 2% (the threshold) at 50%, 3.6% at 100%.
    let plant = |w: f64, _| 0.004 + 0.032 * w;
    let (state, trace) = run(&pid_plan(), 1_200, plant);
    assert_eq!(state.phase, Phase::Progressing);
    let peak = trace.iter().copied().fold(0.0, f64::max);
    assert!(peak <= 0.53, "overshoot to {peak}: {trace:?}");
    let last = *trace.last().unwrap();
    assert!(
        (0.47..=0.53).contains(&last),
        "settled at {last}: {trace:?}"
    );
    assert!(
        plant(peak, 0) < 0.05,
        "never close to the 5% rollback condition"
    );
    assert!(direction_changes(&trace) <= 1, "oscillates: {trace:?}");
    // Fast while far from the threshold: past 40% within 3 intervals.
    assert!(trace[3] >= 0.40, "{trace:?}");
}

#[test]
fn a_canary_degrading_over_time_is_backed_off_steadily() {
    // Healthy for two minutes, then 3% errors whatever the weight (above the 2% threshold).
    let plant = |_: f64, now: UnixMillis| if now < 120 * SECOND { 0.004 } else { 0.03 };
    let plan = plan(
        StrategySpec::Pid(PidSpec {
            max_step: pct(5),
            ..pid_spec()
        }),
        ControlSpec::default(),
    );
    let (state, trace) = run(&plan, 600, plant);
    assert_eq!(state.phase, Phase::Progressing);
    let at_turn = trace[12];
    assert!(at_turn >= 0.5, "ramped while healthy: {trace:?}");
    let after = &trace[12..];
    assert!(
        after.windows(2).all(|w| w[1] <= w[0]),
        "never ramps again while degraded: {trace:?}"
    );
    assert_eq!(state.weight, Ppm::ZERO, "{trace:?}");
    assert_eq!(direction_changes(&trace), 1, "{trace:?}");
}

#[test]
fn margin_and_update_agree_with_the_documented_formula() {
    let Strategy::Pid(pid) = &pid_plan().strategy else {
        unreachable!()
    };
    let e = pid.margin(0.016);
    assert!((e - 0.2).abs() < 1e-9);
    let out = pid.update(&Default::default(), e, pct(10));
    // u = kp·e + ki·Σe = 2·0.2 + 0.2·0.2 = 0.44, times max_step 20%.
    assert!((out.delta - 0.44 * 0.2).abs() < 1e-9, "{out:?}");
    // Far from the threshold the output saturates at max_step.
    let fast = pid.update(&Default::default(), pid.margin(0.01), pct(10));
    assert!((fast.delta - 0.2).abs() < 1e-12, "{fast:?}");
    assert_eq!(
        Pid::apply(pct(10), out.delta),
        Ppm::from_fraction(0.1 + out.delta)
    );
}
