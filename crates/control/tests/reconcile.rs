//! The reconcile loop in simulated time: a healthy canary is promoted, a failing one rolled
//! back with the condition and its numbers, publishing and notifying follow every commit.
#![allow(clippy::unwrap_used)]

#[path = "support/harness.rs"]
mod harness;

use harness::{CONFIG, Harness};
use rollgate_control::testing::{T0, Traffic};
use rollgate_controller::NotificationKind;
use rollgate_core::Ppm;
use rollgate_core::model::{Action, Phase};
use rollgate_store::DecisionQuery;

#[tokio::test]
async fn a_healthy_canary_is_promoted_step_by_step() {
    let h = Harness::start(CONFIG).await;
    // Equal error rates: the confident bounds stay loose for long, the point estimates pass.
    h.set_traffic(Traffic {
        rps: 50,
        canary_errors: 0.01,
        baseline_errors: 0.01,
    });
    // The first snapshot is published at start, from the store: the rollout pending at 0%.
    let first = h.publisher.last().unwrap();
    assert_eq!(first.weight("shop-v2"), Some(Ppm::ZERO));
    assert_eq!(first.spec.services[0].stable.as_deref(), Some("v1"));

    let took = h.run_until("shop-v2", Phase::Promoted, 120).await;
    let took = took.expect("promoted within two simulated minutes");
    assert!(took >= 20, "two 10 s steps cannot pass in {took} s");
    let all = h
        .store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    for d in &all {
        println!("{} {} {} {}", d.at - T0, d.action, d.weight_after, d.reason);
    }
    assert_eq!(
        h.actions("shop-v2").await,
        // At 100% no baseline is left: the relative condition is not judged there.
        [Action::Start, Action::Ramp, Action::Ramp, Action::Promote]
    );
    let stable = h.store.current_stable("shop").await.unwrap().unwrap();
    assert_eq!(stable.version, "v2");
    assert_eq!(stable.actor, rollgate_core::model::Actor::Controller);
    // Weights were published in order; the promoted rollout left the snapshot.
    let weights: Vec<Option<Ppm>> = h
        .publisher
        .published()
        .iter()
        .map(|s| s.weight("shop-v2"))
        .collect();
    assert_eq!(
        weights,
        [
            Some(Ppm::ZERO),
            Some(Ppm::percent(10)),
            Some(Ppm::percent(50)),
            Some(Ppm::FULL),
            None
        ]
    );
    let last = h.publisher.last().unwrap();
    assert_eq!(last.spec.services[0].stable.as_deref(), Some("v2"));
    let revisions: Vec<u64> = h.publisher.published().iter().map(|s| s.revision).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    // The ramp decision carries the verdict.
    let ramp = &h
        .store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap()[1];
    assert!(ramp.reason.contains("point estimates"), "{}", ramp.reason);
    let kinds: Vec<NotificationKind> = h.notifier.seen().iter().map(|n| n.kind).collect();
    assert!(kinds.contains(&NotificationKind::Phase), "{kinds:?}");
}

#[tokio::test]
async fn a_failing_condition_rolls_back_with_its_numbers() {
    let h = Harness::start(CONFIG).await;
    h.set_traffic(Traffic {
        rps: 20,
        canary_errors: 0.10,
        baseline_errors: 0.005,
    });
    let took = h.run_until("shop-v2", Phase::RolledBack, 60).await;
    let took = took.expect("rolled back within a simulated minute");
    println!("rolled back after {took} simulated seconds");
    let decisions = h
        .store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    let rollback = decisions.last().unwrap();
    assert_eq!(rollback.action, Action::Rollback);
    assert_eq!(rollback.weight_after, Ppm::ZERO);
    assert!(
        rollback.reason.contains("errors failed: error_rate 10%"),
        "{}",
        rollback.reason
    );
    assert!(
        rollback.details.get("details").is_some(),
        "{}",
        rollback.details
    );
    // 100% back to stable: the rollout left the snapshot, the stable version did not change.
    let last = h.publisher.last().unwrap();
    assert_eq!(last.weight("shop-v2"), None);
    assert_eq!(last.spec.services[0].stable.as_deref(), Some("v1"));
    assert!(
        h.notifier
            .seen()
            .iter()
            .any(|n| n.kind == NotificationKind::Rollback)
    );
    let verdict = h.plane.verdict("shop-v2").await.unwrap().unwrap();
    assert_eq!(verdict.outcome, rollgate_analysis::Outcome::Fail);
    // The loop leaves terminal rollouts alone.
    let before = h.actions("shop-v2").await.len();
    for _ in 0..5 {
        h.step().await;
    }
    assert_eq!(h.actions("shop-v2").await.len(), before);
}

#[tokio::test]
async fn no_data_holds_and_nothing_is_committed_every_tick() {
    let h = Harness::start(CONFIG).await;
    h.set_traffic(Traffic {
        rps: 0,
        ..Traffic::default()
    });
    for _ in 0..30 {
        h.step().await;
    }
    let r = h.plane.rollout("shop-v2").await.unwrap();
    assert_eq!((r.phase, r.weight), (Phase::Progressing, Ppm::percent(10)));
    let actions = h.actions("shop-v2").await;
    assert_eq!(actions[0], Action::Start);
    assert!(
        actions
            .iter()
            .all(|a| matches!(a, Action::Start | Action::Hold)),
        "{actions:?}"
    );
    // Counter-only changes are checkpointed, not committed every second.
    assert!(r.revision <= 6, "revision {} after 30 ticks", r.revision);
}
