//! How long the dashboard takes to answer each page with 50 rollouts and 10,000 decisions in
//! a real SQLite store (on disk, WAL) and 15 minutes of 1 s metric windows behind the charts:
//! the request goes through the same router `rollgate serve` mounts (session check, token
//! look-up, queries, rendering), in process, without the network.
//!
//! `cargo bench -p rollgate-dashboard --bench pages`
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/fixture.rs"]
mod fixture;

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fixture::{Browser, CONFIG, Fixture, Traffic};
use rollgate_control::testing::many_rollouts;
use rollgate_core::model::{Action, Actor, DecisionRecord};
use rollgate_dashboard::DashboardOptions;
use rollgate_store::{RolloutCommit, RolloutFilter, SqliteStore, Store};
use serde_json::json;

/// Rollouts besides `shop-v2`.
const OTHERS: usize = 49;
/// Decisions added to `shop-v2` (the rollout whose page is measured).
const BIG: usize = 5_050;
/// Decisions added to each other rollout.
const SMALL: usize = 102;

/// Each other rollout's analysis: one relative error condition.
const ANALYSIS: &str = r#"[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > baseline.error_rate + 1%"
"#;

fn config() -> String {
    format!("{CONFIG}{}", many_rollouts(OTHERS, ANALYSIS))
}

/// A hold decision with a verdict in its details, as the controller writes them.
fn decision(at: i64) -> DecisionRecord {
    DecisionRecord {
        id: 0,
        rollout: String::new(),
        seq: 0,
        at,
        actor: Actor::Controller,
        action: Action::Hold,
        phase_before: rollgate_core::model::Phase::Progressing,
        phase_after: rollgate_core::model::Phase::Progressing,
        weight_before: "10%".parse().unwrap(),
        weight_after: "10%".parse().unwrap(),
        reason: "holding at 10%: errors undecided on \"error_rate > 5%\" (n=1,204 vs 1,198)".into(),
        details: json!({"outcome": "inconclusive", "conditions": [
            {"name": "errors", "outcome": "inconclusive",
             "reason": "error_rate 0.81% vs baseline 0.79% (n=1,204 vs 1,198), undecided on \"error_rate > 5%\""},
            {"name": "latency", "outcome": "pass",
             "reason": "p99_latency 14.2ms vs baseline 13.9ms (n=1,204 vs 1,198), passes \"p99_latency > 1.5 * baseline.p99_latency\""}
        ]}),
    }
}

async fn add_decisions(store: &dyn Store, rollout: &str, n: usize, until: i64) {
    for chunk in 0..n.div_ceil(500) {
        let current = store.get_rollout(rollout).await.unwrap().unwrap();
        let k = 500.min(n - chunk * 500);
        let decisions = (0..k)
            .map(|i| decision(until - ((chunk * 500 + i) as i64) * 1_000))
            .collect();
        let commit = RolloutCommit::update(&current, current.clone(), decisions);
        store.commit(commit).await.unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("rollgate.db")).unwrap());
    let f = rt.block_on(Fixture::new(
        &config(),
        store.clone(),
        DashboardOptions::default(),
    ));
    rt.block_on(f.run(15 * 60, Traffic::default()));
    rt.block_on(async {
        add_decisions(store.as_ref(), "shop-v2", BIG, f.now()).await;
        for i in 0..OTHERS {
            add_decisions(store.as_ref(), &format!("svc{i}-v2"), SMALL, f.now()).await;
        }
    });
    let rollouts = rt
        .block_on(f.plane.rollouts(&RolloutFilter::default()))
        .unwrap();
    let total: u64 = rollouts.iter().map(|r| r.decisions).sum();
    println!("store: {} rollouts, {total} decisions", rollouts.len());
    assert_eq!(rollouts.len(), OTHERS + 1);
    assert!(total >= 10_000);

    let mut b = Browser::new(&f.app);
    rt.block_on(b.login(&f.operator));
    let mut group = c.benchmark_group("page");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    for (name, path) in [
        ("rollouts list (50 rollouts)", "/"),
        (
            "rollout page (5,050+ decisions, 15 min of windows)",
            "/rollouts/shop-v2",
        ),
        ("rollout live fragment", "/rollouts/shop-v2/live"),
        (
            "rollout page, older decisions",
            "/rollouts/shop-v2?before=2500",
        ),
        ("versions page", "/services/shop"),
        ("experiment page", "/experiments/ranker"),
    ] {
        let page = rt.block_on(b.get(path));
        assert_eq!(page.status, 200, "{path}");
        println!("{path}: {} KiB", page.body.len() / 1024);
        group.bench_function(name, |bench| {
            bench.iter(|| rt.block_on(b.get(path)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
