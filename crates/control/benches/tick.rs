//! One reconcile tick with 50 active rollouts on `MemStore`: list, observe (scripted metrics,
//! analysis verdict on a new window), reconcile, and the occasional checkpoint commit.
//!
//! `cargo bench -p rollgate-control --bench tick`
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_analysis::CohortMetrics;
use rollgate_control::{
    Clock, ControlOptions, ControlPlane, MetricQuery, RecordingPublisher, ScriptedProvider,
};
use rollgate_metrics::{MetricValue, SufficientStats};
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

fn value(n: u64, x: u64) -> BTreeMap<String, MetricValue> {
    BTreeMap::from([
        (
            "error_rate".into(),
            MetricValue {
                value: Some(x as f64 / n as f64),
                samples: n,
                stats: SufficientStats::Ratio {
                    numerator: x,
                    denominator: n,
                },
            },
        ),
        (
            "requests".into(),
            MetricValue {
                value: Some(n as f64),
                samples: n,
                stats: SufficientStats::Count { count: n },
            },
        ),
    ])
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = rollgate_config::parse(&config(), "bench.toml").unwrap();
    let (clock, time) = Clock::manual(T0);
    let opts = ControlOptions::new(&config, Default::default()).with_clock(clock);
    let provider = Arc::new(ScriptedProvider::new(|q: &MetricQuery| {
        let seconds = u64::try_from((q.to - q.from) / 1_000).unwrap_or(0);
        let n = seconds * 20;
        let mut doc = q.empty_document();
        for &cohort in &q.cohorts {
            let metrics = value(n, n / 100);
            doc.cohorts.insert(
                cohort,
                CohortMetrics {
                    version: q.version_of(cohort).into(),
                    metrics,
                },
            );
        }
        Ok(doc)
    }));
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
