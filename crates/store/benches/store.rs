//! Store throughput: a rollout commit (state + one decision, fsynced) and reading pages of a
//! 10,000-decision log.
//!
//! Run with `cargo bench -p rollgate-store --bench store`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_core::Ppm;
use rollgate_core::model::Action;
use rollgate_store::conformance::{decision, rollout, seed_service};
use rollgate_store::{
    DecisionQuery, MemStore, Order, RolloutCommit, RolloutRecord, SqliteStore, Store,
};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Commits state + one decision on top of `current` and advances it.
async fn commit_one(store: &dyn Store, current: &mut RolloutRecord) {
    let mut next = current.clone();
    next.weight = Ppm::saturating(u64::from(current.weight.get()) + 1);
    let decisions = vec![decision(Action::Ramp, 0, 1, 1_000)];
    let commit = RolloutCommit::update(current, next, decisions);
    let record = commit.record.clone();
    let outcome = store.commit(commit).await.unwrap();
    *current = RolloutRecord {
        revision: outcome.revision,
        ..record
    };
}

async fn prepared(store: &dyn Store, name: &str) -> RolloutRecord {
    seed_service(store, "shop").await.unwrap();
    store.create_rollout(rollout(name, "shop")).await.unwrap()
}

fn commits(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    let mem = MemStore::new();
    let mut group = c.benchmark_group("commit");
    for (label, store) in [
        ("sqlite", &sqlite as &dyn Store),
        ("mem", &mem as &dyn Store),
    ] {
        let mut current = rt.block_on(prepared(store, "bench"));
        group.bench_function(format!("{label}/state+1 decision"), |b| {
            b.iter(|| rt.block_on(commit_one(store, &mut current)));
        });
    }
    group.finish();
}

fn pages(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    rt.block_on(async {
        seed_service(&store, "shop").await.unwrap();
        for name in ["a", "b"] {
            let current = store.create_rollout(rollout(name, "shop")).await.unwrap();
            let batch = (0..5_000)
                .map(|i| decision(Action::Hold, 1, 1, i))
                .collect();
            store
                .commit(RolloutCommit::update(&current, current.clone(), batch))
                .await
                .unwrap();
        }
    });
    let queries = [
        ("first 100 of rollout", DecisionQuery::for_rollout("a")),
        (
            "100 after id 5000",
            DecisionQuery {
                after_id: Some(5_000),
                ..DecisionQuery::default()
            },
        ),
        (
            "newest 100",
            DecisionQuery {
                order: Order::NewestFirst,
                ..DecisionQuery::default()
            },
        ),
        (
            "100 in a time range",
            DecisionQuery {
                since: Some(2_500),
                until: Some(3_000),
                ..DecisionQuery::default()
            },
        ),
    ];
    let mut group = c.benchmark_group("list_decisions of 10000");
    for (label, query) in &queries {
        group.bench_function(*label, |b| {
            b.iter(|| {
                let page = rt.block_on(store.list_decisions(black_box(query))).unwrap();
                assert_eq!(page.len(), 100);
                page
            });
        });
    }
    group.bench_function("count of rollout", |b| {
        let query = DecisionQuery::for_rollout("b");
        b.iter(|| {
            rt.block_on(store.count_decisions(black_box(&query)))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, commits, pages);
criterion_main!(benches);
