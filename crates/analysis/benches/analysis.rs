//! How long one look takes: the three conditions of `examples/rollgate.toml` over
//! `examples/metrics-sample.json` (12,000 requests per cohort, latency histograms).
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_analysis::{AnalysisSpec, ConditionSpec, RolloutMetrics, Tracker, analyze};
use std::hint::black_box;

fn sample() -> RolloutMetrics {
    let path = format!(
        "{}/../../examples/metrics-sample.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn three_conditions(c: &mut Criterion) {
    let doc = sample();
    let spec = AnalysisSpec {
        conditions: vec![
            ConditionSpec::new("errors", "error_rate > 5%"),
            ConditionSpec::new("latency", "p99_latency > 1.5 * baseline.p99_latency"),
            ConditionSpec::new(
                "conversion",
                "conversion_rate < baseline.conversion_rate - 2%",
            ),
        ],
        ..AnalysisSpec::default()
    };
    let analysis = spec.build(&doc.catalog()).unwrap();
    c.bench_function("analyze/3 conditions", |b| {
        b.iter(|| analyze(black_box(&doc), black_box(&analysis)))
    });
    let mut tracker = Tracker::new();
    c.bench_function("tracker/3 conditions", |b| {
        b.iter(|| tracker.judge(black_box(&analysis), black_box(&doc)))
    });
    for condition in &analysis.conditions {
        c.bench_function(&format!("condition/{}", condition.name), |b| {
            b.iter(|| analysis.judge_condition(black_box(condition), black_box(&doc)))
        });
    }
}

criterion_group!(benches, three_conditions);
criterion_main!(benches);
