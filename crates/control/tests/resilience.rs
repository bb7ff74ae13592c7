//! What must not stop the loop: a concurrent writer (conflict), a failing publisher, a dead
//! webhook, a restart.
#![allow(clippy::unwrap_used)]

#[path = "support/harness.rs"]
mod harness;
#[path = "support/racing.rs"]
mod racing;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use harness::{CONFIG, Harness};
use racing::RacingStore;
use rollgate_config::{NotificationEvent, NotificationFormat, NotificationSpec};
use rollgate_control::testing::Traffic;
use rollgate_control::{Notifier, Snapshot, Webhooks};
use rollgate_controller::{Command, Notification, NotificationKind};
use rollgate_core::model::{Action, Actor, Phase};
use rollgate_core::{DurationSpec, Ppm};
use rollgate_store::{DecisionQuery, MemStore, Store};

#[tokio::test]
async fn a_conflicting_commit_is_decided_again_at_the_next_tick() {
    let racing = Arc::new(RacingStore::new(Arc::new(MemStore::new())));
    let h = Harness::start_on(CONFIG, racing.clone()).await;
    racing.race_next(1);
    let report = h.step().await;
    assert_eq!((report.conflicts, report.commits), (1, 0));
    assert_eq!(
        h.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::Pending
    );
    let report = h.step().await;
    assert_eq!((report.conflicts, report.commits), (0, 1));
    assert_eq!(h.actions("shop-v2").await, [Action::Start]);

    // A command retries on its own.
    racing.race_next(2);
    let v = h
        .plane
        .command("shop-v2", Command::Pause, Actor::User("ann".into()))
        .await
        .unwrap();
    assert_eq!(v.phase, Phase::Paused);
    assert_eq!(racing.conflicts.load(Ordering::SeqCst), 3);
    assert_eq!(h.actions("shop-v2").await, [Action::Start, Action::Pause]);
}

#[tokio::test]
async fn a_failed_publish_is_retried_every_tick_and_never_undoes_the_decision() {
    let h = Harness::start(CONFIG).await;
    h.publisher.fail_next(3);
    let report = h.step().await;
    assert_eq!(
        report.commits, 1,
        "the start is committed although publishing fails"
    );
    assert!(report.publish_pending);
    assert_eq!(
        h.plane.rollout("shop-v2").await.unwrap().weight,
        Ppm::percent(10)
    );
    assert_eq!(
        h.publisher.last().unwrap().weight("shop-v2"),
        Some(Ppm::ZERO)
    );
    h.step().await;
    let report = h.step().await;
    assert!(report.published.is_some(), "{report:?}");
    assert!(!report.publish_pending);
    let last = h.publisher.last().unwrap();
    assert_eq!(last.weight("shop-v2"), Some(Ppm::percent(10)));
    let stored = h
        .store
        .get_meta(Snapshot::REVISION_KEY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, last.revision.to_string());
    assert_eq!(h.publisher.attempts(), 1 + 3 + 1);
}

#[tokio::test]
async fn a_dead_webhook_never_delays_a_rollback() {
    // Accepts connections and never answers.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook/secret", hole.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = hole.accept().await {
            conns.push(c);
        }
    });
    let spec = NotificationSpec {
        url,
        format: NotificationFormat::Json,
        events: vec![NotificationEvent::Decision],
        timeout: DurationSpec::from_secs(5),
        retries: 3,
        headers: Default::default(),
    };
    let hooks = Webhooks::start(&[spec]).unwrap();
    // Fill the queue past its depth: notify must still return at once.
    let note = Notification {
        kind: NotificationKind::Weight,
        rollout: "x".into(),
        text: "t".into(),
        fields: Default::default(),
    };
    let started = Instant::now();
    for _ in 0..(rollgate_control::QUEUE_DEPTH * 2) {
        hooks.notify(&note);
    }
    assert!(started.elapsed() < Duration::from_secs(1));

    let h = Harness::start_with(CONFIG, |b| b.notifier(Arc::new(hooks))).await;
    h.set_traffic(Traffic {
        rps: 50,
        canary_errors: 0.2,
        baseline_errors: 0.0,
    });
    let started = Instant::now();
    let rolled_back = h.run_until("shop-v2", Phase::RolledBack, 30).await;
    let took = started.elapsed();
    assert!(rolled_back.is_some());
    assert!(
        took < Duration::from_secs(2),
        "ticks took {took:?} with a dead webhook"
    );
    assert_eq!(h.publisher.last().unwrap().weight("shop-v2"), None);
}

#[tokio::test]
async fn a_restart_resumes_from_the_stored_step_without_losing_or_repeating_decisions() {
    let store = Arc::new(MemStore::new());
    let first = Harness::start_on(CONFIG, store.clone()).await;
    for _ in 0..15 {
        first.step().await;
    }
    let before = first.plane.rollout("shop-v2").await.unwrap();
    assert_eq!(
        (before.phase, before.weight),
        (Phase::Progressing, Ppm::percent(50))
    );
    let decisions_before = store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    let now = first.now();
    drop(first);

    let second = Harness::start_on(CONFIG, store.clone()).await;
    second.clock.store(now, Ordering::SeqCst);
    let after = second.plane.rollout("shop-v2").await.unwrap();
    assert_eq!(
        (after.phase, after.weight, after.step.clone()),
        (before.phase, before.weight, before.step)
    );
    // The first snapshot after the restart carries the stored weight.
    assert_eq!(
        second.publisher.last().unwrap().weight("shop-v2"),
        Some(Ppm::percent(50))
    );
    let decisions_after = store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    assert_eq!(decisions_after, decisions_before);
    // And it goes on to the end, each decision recorded once.
    second
        .run_until("shop-v2", Phase::Promoted, 60)
        .await
        .unwrap();
    let all = store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    let seqs: Vec<u64> = all.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, (0..all.len() as u64).collect::<Vec<_>>());
    assert_eq!(&all[..decisions_before.len()], &decisions_before[..]);
}
