//! Manual commands and version restore: which phases allow what, and what each records.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;

use fixtures::*;
use rollgate_controller::{
    Command, ControlSpec, Effect, GradualSpec, NotificationKind, Observation, PauseKind,
    RestoreError, RollbackSpec, RolloutPlan, RolloutState, StepSpec, StrategySpec, Transition,
    apply_command, restore_version,
};
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase, VersionSnapshot};

fn ann() -> Actor {
    Actor::User("ann".into())
}

fn cmd(plan: &RolloutPlan, state: &RolloutState, command: Command, now: i64) -> Transition {
    let t = apply_command(plan, state, command, &ann(), now).unwrap();
    check_transition(state, &t);
    assert!(
        t.decisions.iter().all(|d| d.actor == ann()),
        "{:?}",
        t.decisions
    );
    t
}

fn refused(plan: &RolloutPlan, state: &RolloutState, command: Command) -> String {
    apply_command(plan, state, command, &ann(), 0)
        .unwrap_err()
        .to_string()
}

fn tick(plan: &RolloutPlan, state: &RolloutState, obs: Observation) -> RolloutState {
    step(plan, state, obs).state
}

fn setup() -> (RolloutPlan, RolloutState) {
    let p = plan(example_steps(), ControlSpec::default());
    let s = tick(&p, &RolloutState::new(0), Observation::at(0));
    (p, s)
}

#[test]
fn pause_and_resume_keep_the_step() {
    let (p, s) = setup();
    let t = cmd(&p, &s, Command::Pause, SECOND);
    assert_eq!(actions(&t), [Action::Pause]);
    assert_eq!(t.decisions[0].reason, "paused by user:ann");
    assert_eq!(
        t.state.pause.as_ref().map(|p| p.kind),
        Some(PauseKind::Manual)
    );
    assert_eq!(
        refused(&p, &t.state, Command::Pause),
        "cannot pause rollout \"shop-v1.2\": it is already paused: paused by user:ann"
    );
    let t = cmd(&p, &t.state, Command::Resume, 2 * SECOND);
    assert_eq!(actions(&t), [Action::Resume]);
    assert_eq!(
        (t.state.phase, t.state.step, t.state.weight),
        (Phase::Progressing, 0, pct(1))
    );
    assert_eq!(
        refused(&p, &t.state, Command::Resume),
        "cannot resume rollout \"shop-v1.2\": it is not paused (it is progressing)"
    );
}

#[test]
fn resuming_a_pause_step_moves_to_the_next_step() {
    let p = plan(
        StrategySpec::Steps(vec![
            StepSpec::weight(pct(5)),
            StepSpec::pause(None),
            StepSpec::weight(pct(50)),
            StepSpec::weight(Ppm::FULL),
        ]),
        ControlSpec::default(),
    );
    let s = tick(&p, &RolloutState::new(0), Observation::at(0));
    let s = tick(&p, &s, observe(SECOND, pass, 0));
    assert_eq!((s.phase, s.step), (Phase::Paused, 1));
    let t = cmd(&p, &s, Command::Resume, 2 * SECOND);
    assert_eq!(actions(&t), [Action::Resume, Action::Ramp]);
    assert_eq!((t.state.step, t.state.weight), (2, pct(50)));
}

#[test]
fn promote_makes_the_canary_stable_from_any_live_phase() {
    let (p, s) = setup();
    for state in [
        RolloutState::new(0),
        s.clone(),
        cmd(&p, &s, Command::Pause, 1).state,
    ] {
        let t = cmd(&p, &state, Command::Promote, 5);
        assert_eq!(actions(&t), [Action::Promote]);
        assert_eq!(
            t.effects[..2],
            [
                Effect::PublishWeight(Ppm::FULL),
                Effect::PromoteStable {
                    service: "shop".into(),
                    version: "v1.2".into()
                }
            ]
        );
    }
}

#[test]
fn abort_sends_everyone_to_stable_and_retry_starts_over() {
    let (p, s) = setup();
    let s = tick(&p, &s, observe(MINUTE, pass, 900));
    assert_eq!(s.step, 1);
    let t = cmd(&p, &s, Command::Abort, MINUTE);
    assert_eq!((t.state.phase, t.state.weight), (Phase::Aborted, Ppm::ZERO));
    assert_eq!(
        refused(&p, &t.state, Command::Resume),
        "cannot resume rollout \"shop-v1.2\": it is aborted; `retry` starts it again from the first step"
    );
    let r = cmd(&p, &t.state, Command::Retry, 2 * MINUTE);
    assert_eq!(actions(&r), [Action::Retry]);
    assert_eq!(
        (r.state.phase, r.state.weight, r.state.step),
        (Phase::Progressing, pct(1), 0)
    );
    assert_eq!(
        (r.state.failures, r.state.started_at),
        (0, Some(2 * MINUTE))
    );
    assert!(
        r.decisions[0].reason.starts_with("retried by user:ann"),
        "{}",
        r.decisions[0].reason
    );
}

#[test]
fn retry_is_only_for_rolled_back_or_aborted_rollouts() {
    let (p, s) = setup();
    assert_eq!(
        refused(&p, &s, Command::Retry),
        "cannot retry rollout \"shop-v1.2\": it is progressing; only a rolled-back or aborted rollout can be retried"
    );
    let promoted = cmd(&p, &s, Command::Promote, 1).state;
    for c in [
        Command::Retry,
        Command::Resume,
        Command::Abort,
        Command::SetWeight(pct(3)),
    ] {
        assert!(refused(&p, &promoted, c).contains("it was promoted; start a new rollout"));
    }
    let rolled_back = tick(&p, &s, observe(SECOND, fail, 0));
    assert_eq!(rolled_back.phase, Phase::RolledBack);
    assert_eq!(
        cmd(&p, &rolled_back, Command::Retry, 2 * SECOND)
            .state
            .weight,
        pct(1)
    );
}

#[test]
fn a_pending_rollout_can_only_be_promoted_or_aborted() {
    let (p, _) = setup();
    let pending = RolloutState::new(0);
    for c in [Command::Pause, Command::Resume, Command::SetWeight(pct(5))] {
        assert!(
            refused(&p, &pending, c)
                .ends_with("it has not started yet; it starts at the next reconcile")
        );
    }
    assert_eq!(
        cmd(&p, &pending, Command::Abort, 1).state.phase,
        Phase::Aborted
    );
}

#[test]
fn set_weight_pauses_and_resume_picks_up_from_that_weight() {
    let (p, s) = setup();
    let t = cmd(&p, &s, Command::SetWeight(pct(7)), SECOND);
    assert_eq!(actions(&t), [Action::SetWeight]);
    assert_eq!((t.state.phase, t.state.weight), (Phase::Paused, pct(7)));
    assert!(t.state.manual_weight);
    // The strategy does not fight the person while paused.
    let held = tick(&p, &t.state, observe(10 * MINUTE, pass, 9_999));
    assert_eq!(held.weight, pct(7));
    // Resume: the first step at or above 7% is 10% (step 3).
    let r = cmd(&p, &held, Command::Resume, 11 * MINUTE);
    assert_eq!(actions(&r), [Action::Resume, Action::Ramp]);
    assert_eq!(
        (r.state.step, r.state.weight, r.state.manual_weight),
        (2, pct(10), false)
    );
}

#[test]
fn while_draining_only_abort_is_accepted() {
    let gradual = RollbackSpec::Gradual(GradualSpec::default());
    let p = plan(
        example_steps(),
        ControlSpec {
            rollback: gradual,
            ..ControlSpec::default()
        },
    );
    let s = tick(&p, &RolloutState::new(0), Observation::at(0));
    let s = cmd(&p, &s, Command::SetWeight(pct(40)), 0).state;
    let draining = tick(&p, &s, observe(SECOND, fail, 0));
    assert!(draining.is_rolling_back());
    assert_eq!(draining.weight, pct(30));
    for c in [
        Command::Pause,
        Command::Promote,
        Command::SetWeight(pct(1)),
        Command::Retry,
    ] {
        assert!(
            refused(&p, &draining, c).contains("it is rolling back (condition \"errors\" failed"),
            "{c}"
        );
    }
    let t = cmd(&p, &draining, Command::Abort, 2 * SECOND);
    assert_eq!((t.state.phase, t.state.weight), (Phase::Aborted, Ppm::ZERO));
    assert!(!t.state.is_rolling_back());
}

fn snapshot(service: &str, name: &str) -> VersionSnapshot {
    VersionSnapshot {
        service: service.into(),
        name: name.into(),
        endpoints: vec!["127.0.0.1:8000".into()],
        labels: BTreeMap::from([("commit".to_string(), "0a1b2c".to_string())]),
        created_at: 7,
        created_by: "config".into(),
    }
}

#[test]
fn restore_aborts_a_running_rollout_and_makes_the_snapshot_stable() {
    let (p, s) = setup();
    let r = restore_version(
        "shop",
        "v1.1",
        &snapshot("shop", "v1.0"),
        Some((&p, &s)),
        &ann(),
        MINUTE,
    )
    .unwrap();
    let abort = r.abort.unwrap();
    check_transition(&s, &abort);
    assert_eq!(actions(&abort), [Action::Abort]);
    assert_eq!(
        abort.decisions[0].reason,
        "aborted because user:ann restored shop to v1.0 (was v1.1)"
    );
    assert_eq!(abort.effects[0], Effect::PublishWeight(Ppm::ZERO));
    let fresh = RolloutState::new(MINUTE);
    assert_eq!(actions(&r.record), [Action::Restore]);
    check_transition(&fresh, &r.record);
    assert_eq!(r.record.state.next_seq, fresh.next_seq + 1);
    assert_eq!(
        (r.record.state.phase, r.record.state.weight),
        (Phase::Promoted, Ppm::FULL)
    );
    let d = &r.record.decisions[0];
    assert_eq!(
        (d.actor.clone(), d.rollout.as_str()),
        (ann(), "restore-shop-v1.0-60000")
    );
    assert_eq!(d.reason, "user:ann restored shop to v1.0 (was v1.1)");
    assert_eq!(d.details["labels"]["commit"], "0a1b2c");
    assert_eq!(
        r.record.effects[0],
        Effect::PromoteStable {
            service: "shop".into(),
            version: "v1.0".into()
        }
    );
    assert_eq!(
        r.record.notifications().next().map(|n| n.kind),
        Some(NotificationKind::Restore)
    );
    assert_eq!(
        (r.plan.stable.as_str(), r.plan.canary.as_str()),
        ("v1.1", "v1.0")
    );
}

#[test]
fn restore_leaves_a_finished_rollout_alone() {
    let (p, s) = setup();
    let promoted = cmd(&p, &s, Command::Promote, 1).state;
    let r = restore_version(
        "shop",
        "v1.2",
        &snapshot("shop", "v1.1"),
        Some((&p, &promoted)),
        &ann(),
        2,
    )
    .unwrap();
    assert!(r.abort.is_none());
    assert_eq!(
        r.record.effects[0],
        Effect::PromoteStable {
            service: "shop".into(),
            version: "v1.1".into()
        }
    );
    assert!(restore_version("shop", "v1.2", &snapshot("shop", "v1.1"), None, &ann(), 2).is_ok());
}

#[test]
fn restore_refuses_another_services_version_or_the_current_one() {
    let err =
        restore_version("shop", "v1.1", &snapshot("cart", "v3"), None, &ann(), 0).unwrap_err();
    assert!(matches!(err, RestoreError::WrongService { .. }));
    assert_eq!(
        err.to_string(),
        "version \"v3\" belongs to service \"cart\", not \"shop\""
    );
    let err =
        restore_version("shop", "v1.1", &snapshot("shop", "v1.1"), None, &ann(), 0).unwrap_err();
    assert!(matches!(err, RestoreError::AlreadyStable { .. }));
}
