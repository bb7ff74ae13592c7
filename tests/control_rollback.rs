//! End to end with the real binary: `rollgate serve` in front of two real upstreams, the canary
//! answering 10% of its requests with 500, 200 requests/s of real HTTP load through the edge
//! with the canary at 10% (≈ 20 canary requests/s). The control plane must roll the canary back
//! within 10 s of its first error, after which 100% of requests go to stable; `SIGTERM` then
//! drains and exits 0.
//!
//! The condition that rolls back is `error_rate > 5%` judged `immediate` (on point estimates)
//! after `min_samples = 100`: at 20 canary requests/s the confident sequential tests need
//! longer (the analysis simulation measured a median of 8 s and a 95th percentile of 14 s for
//! `error_rate > baseline.error_rate + 1%`, 20 s for a non-immediate `error_rate > 5%`), so
//! the relative condition is configured too but the immediate one is expected to fire first.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use rollgate_core::model::{Action, Phase};
use rollgate_store::{DecisionQuery, SqliteStore, Store};
use support::load;
use support::serve::Serve;
use support::upstream::Upstream;

/// The rollout: one 10% step held for ten minutes, guarded by the two error conditions.
const ROLLOUT: &str = r#"
[rollouts.strategy]
steps = [{ weight = "10%", min_duration = "10m" }, { weight = "100%" }]

[rollouts.analysis]
min_samples = 100

[[rollouts.analysis.conditions]]
name = "errors-fast"
fail_when = "error_rate > 5%"
immediate = true

[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > baseline.error_rate + 1%"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_within_ten_seconds() {
    let stable = Upstream::start("v1").await;
    let canary = Upstream::start("v2").await;
    canary.set_error_rate(100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.toml");
    std::fs::write(
        &path,
        support::config::served(&stable.endpoint(), &canary.endpoint(), ROLLOUT),
    )
    .unwrap();
    let mut serve = Serve::start(&path, &dir.path().join("data"));

    // Load until the canary has been silent for 2 s after serving (or 40 s in all).
    let samples = load::run(&serve.url("/"), 200, "u", Duration::from_secs(40), |s| {
        let last = s.iter().rev().find(|x| x.version == "v2").map(|x| x.at);
        last.is_some_and(|t| t.elapsed() > Duration::from_secs(2))
    })
    .await;
    let first_error = samples
        .iter()
        .find(|s| s.version == "v2" && s.status >= 500)
        .map(|s| s.at);
    let last_canary = samples
        .iter()
        .rev()
        .find(|s| s.version == "v2")
        .map(|s| s.at);
    let (first_error, last_canary) = (first_error.expect("the canary erred"), last_canary.unwrap());
    let took = last_canary.duration_since(first_error);
    let canary_share =
        samples.iter().filter(|s| s.version == "v2").count() as f64 / samples.len() as f64;
    println!(
        "canary rolled back {:.1} s after its first error ({} requests, canary share before the rollback {:.1}%)",
        took.as_secs_f64(),
        samples.len(),
        100.0 * canary_share
    );
    assert!(
        took < Duration::from_secs(10),
        "rollback took {took:?}\n{}",
        serve.proc.logs()
    );

    // Afterwards everyone is on stable.
    let after = load::run(&serve.url("/"), 200, "w", Duration::from_secs(2), |_| false).await;
    assert!(after.len() > 200, "{}", after.len());
    assert!(
        after.iter().all(|s| s.version == "v1" && s.status == 200),
        "{:?}",
        after.iter().find(|s| s.version != "v1")
    );

    // SIGTERM: drain and exit 0.
    serve.proc.signal("TERM");
    let status = serve
        .proc
        .wait(Duration::from_secs(20))
        .expect("exited after SIGTERM");
    assert!(status.success(), "{status}\n{}", serve.proc.logs());

    // The decision names the condition and its numbers.
    let store = SqliteStore::open(serve.store_path()).unwrap();
    let rollout = store.get_rollout("shop-v2").await.unwrap().unwrap();
    assert_eq!(rollout.phase, Phase::RolledBack);
    let decisions = store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    let rollback = decisions
        .iter()
        .find(|d| d.action == Action::Rollback)
        .expect("a rollback decision");
    println!("decision: {}", rollback.reason);
    assert!(rollback.reason.contains("errors"), "{}", rollback.reason);
    assert!(
        rollback.reason.contains("error_rate"),
        "{}",
        rollback.reason
    );
}
