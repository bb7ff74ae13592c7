//! How long one look takes: the three conditions of `examples/rollgate.toml` over
//! `examples/metrics-sample.json` (12,000 requests per cohort, latency histograms).
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_analysis::stats::{Anytime, Estimate, mann_whitney_bins};
use rollgate_analysis::{AnalysisSpec, ConditionSpec, RolloutMetrics, Tracker, analyze};
use rollgate_core::Cohort;
use rollgate_metrics::SufficientStats;
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

fn statistics(c: &mut Criterion) {
    let anytime = Anytime::default();
    let canary = Estimate::proportion(831, 12_040).unwrap();
    let baseline = Estimate::proportion(108, 11_980).unwrap();
    c.bench_function("stats/sequential two-proportion", |b| {
        b.iter(|| {
            let d = Estimate::linear(
                &[(1.0, black_box(canary)), (-1.0, black_box(baseline))],
                -0.01,
            );
            anytime.test(&d)
        })
    });
    let doc = sample();
    let bins = |cohort| match &doc.value(cohort, "p99_latency").unwrap().stats {
        SufficientStats::Distribution { bins, .. } => bins.clone(),
        _ => Vec::new(),
    };
    let (x, y) = (bins(Cohort::Canary), bins(Cohort::Baseline));
    c.bench_function("stats/mann-whitney bins", |b| {
        b.iter(|| mann_whitney_bins(black_box(&x), black_box(&y)))
    });
}

criterion_group!(benches, three_conditions, statistics);
criterion_main!(benches);
