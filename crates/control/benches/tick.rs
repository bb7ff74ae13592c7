//! One reconcile tick with 50 active rollouts on `MemStore`: list, observe (scripted metrics,
//! analysis verdict on a new window), reconcile, and the occasional checkpoint commit.
//!
//! `cargo bench -p rollgate-control --bench tick`
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/harness.rs"]
mod harness;

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use harness::Traffic;
use rollgate_control::{Clock, ControlOptions, ControlPlane, RecordingPublisher};
use rollgate_store::MemStore;

const ROLLOUTS: usize = 50;
const T0: i64 = 1_700_000_000_000;

fn config() -> String {
    let mut text = String::from("[control]\nwindow = \"1s\"\n");
    for i in 0..ROLLOUTS {
        write!(
            text,
            r#"
[[services]]
name = "svc{i}"
hosts = ["svc{i}.test"]
[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:1"]
[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:2"]
[[rollouts]]
name = "svc{i}-v2"
service = "svc{i}"
stable = "v1"
canary = "v2"
[rollouts.strategy]
steps = [{{ weight = "10%", min_duration = "1h" }}, {{ weight = "100%" }}]
[rollouts.analysis]
min_samples = 100
[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > baseline.error_rate + 1%"
[[rollouts.analysis.conditions]]
name = "errors-abs"
fail_when = "error_rate > 5%"
"#
        )
        .unwrap();
    }
    text
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = rollgate_config::parse(&config(), "bench.toml").unwrap();
    let (clock, time) = Clock::manual(T0);
    let opts = ControlOptions::new(&config, Default::default()).with_clock(clock);
    let traffic = Arc::new(Mutex::new(Traffic {
        rps: 20,
        canary_errors: 0.01,
        baseline_errors: 0.01,
    }));
    let provider = harness::scripted(&traffic);
    let plane = rt
        .block_on(ControlPlane::start(
            opts,
            Arc::new(MemStore::new()),
            Arc::new(RecordingPublisher::new()),
            provider,
        ))
        .unwrap();
    // Start every rollout, then measure the steady state.
    let now = time.fetch_add(1_000, Ordering::SeqCst) + 1_000;
    let report = rt.block_on(plane.tick(now));
    assert_eq!(report.commits, ROLLOUTS);
    c.bench_function("tick/50 rollouts, memstore, new window each tick", |b| {
        b.iter(|| {
            let now = time.fetch_add(1_000, Ordering::SeqCst) + 1_000;
            rt.block_on(plane.tick(now))
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
