//! Property: no sequence of observations and commands breaks the state machine. Every
//! transition is an edge of the diagram, terminal phases move only by retry (or restore),
//! weights stay in [0, 100%], decision seqs never repeat, each decision's before/after chain
//! matches the state, and the state survives a JSON round trip (a restart) unchanged.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use proptest::prelude::*;
use rollgate_controller::{
    Command, ControlSpec, ExponentialSpec, GradualSpec, Health, LinearSpec, Observation, Outcome,
    PidSpec, RollbackSpec, RolloutPlan, RolloutState, StrategySpec, apply_command, reconcile,
};
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase};

#[derive(Clone, Debug)]
enum Event {
    Tick {
        dt_ms: i64,
        verdict: Option<Verdict>,
        new_window: bool,
        samples: u64,
        breaker_open_ms: Option<i64>,
    },
    Command(Command),
}

fn strategy(kind: usize) -> StrategySpec {
    match kind {
        0 => example_steps(),
        1 => StrategySpec::Linear(LinearSpec {
            step: pct(10),
            interval: secs(30),
            back_off: Some(pct(5)),
            max: None,
        }),
        2 => StrategySpec::Exponential(ExponentialSpec {
            start: pct(1),
            factor: 2.0,
            interval: secs(30),
            max: Some(pct(60)),
        }),
        _ => StrategySpec::Pid(PidSpec {
            kd: 0.5,
            ..pid_spec()
        }),
    }
}

fn plans() -> impl Strategy<Value = RolloutPlan> {
    (0..4usize, any::<bool>(), 0..3u32, 0..3u32, any::<bool>()).prop_map(
        |(kind, gradual, fl, il, deadline)| {
            let control = ControlSpec {
                rollback: if gradual {
                    RollbackSpec::Gradual(GradualSpec::default())
                } else {
                    RollbackSpec::Immediate
                },
                progress_deadline: deadline.then(|| secs(600)),
                breaker_open_limit: None,
            };
            let mut plan = plan(strategy(kind), control);
            plan.limits.failure_limit = fl;
            plan.limits.inconclusive_limit = il;
            plan
        },
    )
}

fn commands() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Pause),
        Just(Command::Resume),
        Just(Command::Promote),
        Just(Command::Abort),
        Just(Command::Retry),
        (0..=Ppm::SCALE).prop_map(|w| Command::SetWeight(Ppm::new(w).unwrap())),
    ]
}

/// Outcome, degraded, PID margin, escalate.
type Verdict = (Outcome, bool, Option<f64>, bool);

fn verdicts() -> impl Strategy<Value = Option<Verdict>> {
    let outcome = prop_oneof![
        4 => Just(Outcome::Pass),
        1 => Just(Outcome::Fail),
        2 => Just(Outcome::Inconclusive),
    ];
    proptest::option::weighted(
        0.85,
        (
            outcome,
            proptest::bool::weighted(0.2),
            proptest::option::of(-2.0..1.2f64),
            proptest::bool::weighted(0.05),
        ),
    )
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    let tick = (
        0..120_000i64,
        verdicts(),
        any::<bool>(),
        0..2_000u64,
        proptest::option::weighted(0.1, 0..200_000i64),
    )
        .prop_map(
            |(dt_ms, verdict, new_window, samples, breaker_open_ms)| Event::Tick {
                dt_ms,
                verdict,
                new_window,
                samples,
                breaker_open_ms,
            },
        );
    proptest::collection::vec(
        prop_oneof![6 => tick, 1 => commands().prop_map(Event::Command)],
        1..80,
    )
}

fn verdict(window_end: i64, (outcome, degraded, margin, escalate): Verdict) -> Health {
    let mut h = if outcome == Outcome::Fail {
        fail(window_end)
    } else {
        health(window_end, outcome)
    };
    h.degraded = degraded.then(|| "conversion_rate 1.1% < 1.4%".to_string());
    h.margin = margin;
    h.escalate = escalate;
    h
}

/// The state as a restart reads it back from the store.
fn restart(state: &RolloutState) -> RolloutState {
    let json = serde_json::to_string(state).unwrap();
    let mut back: RolloutState = serde_json::from_str(&json).unwrap();
    assert!((back.pid.integral - state.pid.integral).abs() < 1e-9);
    back.pid = state.pid;
    assert_eq!(&back, state, "state changed through JSON");
    back
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_sequence_of_events_breaks_the_state_machine(plan in plans(), events in events()) {
        let mut state = RolloutState::new(0);
        let (mut now, mut window) = (0i64, 0i64);
        let actor = Actor::User("prop".into());
        let mut seqs = Vec::new();
        for event in events {
            let before = state.clone();
            let t = match event {
                Event::Tick { dt_ms, verdict: v, new_window, samples, breaker_open_ms } => {
                    now += dt_ms;
                    if new_window { window = now; }
                    let mut obs = Observation::at(now).with_samples(samples);
                    obs.health = v.map(|v| verdict(window, v));
                    obs.breaker_open_since = breaker_open_ms.map(|ms| now - ms);
                    reconcile(&plan, &before, &obs)
                }
                Event::Command(c) => match apply_command(&plan, &before, c, &actor, now) {
                    Ok(t) => t,
                    Err(e) => {
                        prop_assert!(e.to_string().starts_with(&format!("cannot {c} rollout")), "{e}");
                        continue;
                    }
                },
            };
            check_transition(&before, &t);
            if before.phase.is_terminal() {
                for d in &t.decisions {
                    prop_assert!(d.phase_after == before.phase || d.action == Action::Retry, "{d:?}");
                }
                if before.phase == Phase::Promoted {
                    prop_assert_eq!(t.state.phase, Phase::Promoted);
                }
            }
            seqs.extend(t.decisions.iter().map(|d| d.seq));
            state = restart(&t.state);
        }
        prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seqs not increasing: {seqs:?}");
    }
}
