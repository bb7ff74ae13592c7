//! End to end with the real binary: `kill -9` the control plane mid-rollout, start it again on
//! the same data directory: the rollout continues from the same step and weight, every
//! decision recorded before the kill is still there exactly once, and the rollout goes on to
//! its promotion with the decision log a gap-free continuation.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use rollgate_core::Ppm;
use rollgate_core::model::Phase;
use rollgate_store::{DecisionQuery, RolloutRecord, SqliteStore, Store};
use support::load;
use support::serve::Serve;
use support::upstream::Upstream;

/// Three steps: the 50% one long enough to be killed in, short enough to finish after.
const ROLLOUT: &str = r#"
[rollouts.strategy]
steps = [
  { weight = "10%", min_duration = "2s" },
  { weight = "50%", min_duration = "8s" },
  { weight = "100%" },
]

[rollouts.analysis]
min_samples = 20

[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > 5%"
"#;

async fn rollout(path: &std::path::Path) -> RolloutRecord {
    let store = SqliteStore::open(path).unwrap();
    store.get_rollout("shop-v2").await.unwrap().unwrap()
}

/// Load at 100 req/s until the stored rollout satisfies `done` (at most `limit`).
async fn load_until(
    serve: &Serve,
    limit: Duration,
    done: impl Fn(&RolloutRecord) -> bool,
) -> RolloutRecord {
    let start = Instant::now();
    loop {
        load::run(
            &serve.url("/"),
            100,
            "u",
            Duration::from_millis(500),
            |_| false,
        )
        .await;
        let r = rollout(&serve.store_path()).await;
        if done(&r) {
            return r;
        }
        assert!(
            start.elapsed() < limit,
            "rollout stuck at {} {}\n{}",
            r.phase,
            r.weight,
            serve.proc.logs()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_rollout_resumes_from_the_same_step_without_losing_decisions() {
    let stable = Upstream::start("v1").await;
    let canary = Upstream::start("v2").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.toml");
    std::fs::write(
        &path,
        support::config::served(&stable.endpoint(), &canary.endpoint(), ROLLOUT),
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut first = Serve::start(&path, &data);

    let before = load_until(&first, Duration::from_secs(30), |r| {
        r.weight == Ppm::percent(50)
    })
    .await;
    let state_before: serde_json::Value = before.state.clone();
    first.proc.kill9();
    let store = SqliteStore::open(data.join("rollgate.db")).unwrap();
    let decisions_before = store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    let at_kill = store.get_rollout("shop-v2").await.unwrap().unwrap();
    drop(store);
    assert_eq!(
        (at_kill.phase, at_kill.weight),
        (Phase::Progressing, Ppm::percent(50))
    );
    assert_eq!(at_kill.state["step"], state_before["step"]);

    let second = Serve::start(&path, &data);
    let resumed = rollout(&second.store_path()).await;
    assert_eq!(
        (resumed.phase, resumed.weight),
        (at_kill.phase, at_kill.weight)
    );
    assert_eq!(resumed.state["step"], at_kill.state["step"]);
    assert_eq!(
        resumed.state["step_since"], at_kill.state["step_since"],
        "the step's clock goes on"
    );
    // The edge of the new process routes by the stored weight at once.
    let samples = load::run(&second.url("/"), 200, "r", Duration::from_secs(1), |_| {
        false
    })
    .await;
    let share = samples.iter().filter(|s| s.version == "v2").count() as f64 / samples.len() as f64;
    println!(
        "canary share right after the restart: {:.1}% of {}",
        100.0 * share,
        samples.len()
    );
    assert!((0.35..0.65).contains(&share), "{share}");

    let done = load_until(&second, Duration::from_secs(40), |r| {
        r.phase == Phase::Promoted
    })
    .await;
    assert_eq!(done.weight, Ppm::FULL);
    let store = SqliteStore::open(second.store_path()).unwrap();
    let all = store
        .list_decisions(&DecisionQuery::for_rollout("shop-v2"))
        .await
        .unwrap();
    assert_eq!(
        &all[..decisions_before.len()],
        &decisions_before[..],
        "decisions before the kill are kept as they were"
    );
    let seqs: Vec<u64> = all.iter().map(|d| d.seq).collect();
    assert_eq!(
        seqs,
        (0..all.len() as u64).collect::<Vec<_>>(),
        "no decision lost or duplicated"
    );
    let actions: Vec<String> = all.iter().map(|d| d.action.to_string()).collect();
    println!("decisions: {}", actions.join(", "));
}
