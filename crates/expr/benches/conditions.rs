//! Parse+check of the example conditions, and evaluation of a checked condition.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_expr::{Catalog, Condition, Env, Interval, MetricUnit, Scope};

const EXAMPLES: [&str; 5] = [
    "error_rate > 5%",
    "p99_latency > 1.5 * baseline.p99_latency",
    "conversion_rate < baseline.conversion_rate - 2%",
    "error_rate > 1% and requests > 500",
    "avg_page_load_ms - baseline.avg_page_load_ms > 200ms",
];

fn catalog() -> Catalog {
    [
        ("requests", MetricUnit::Count),
        ("error_rate", MetricUnit::Ratio),
        ("p99_latency", MetricUnit::DurationMs),
        ("conversion_rate", MetricUnit::Ratio),
        ("avg_page_load_ms", MetricUnit::DurationMs),
    ]
    .into_iter()
    .collect()
}

/// Values the way an analysis would hand them over: a fixed table, looked up by name.
struct Table;

impl Env for Table {
    fn value(&self, scope: Scope, metric: &str) -> Option<Interval> {
        let shift = if scope == Scope::Canary { 1.1 } else { 1.0 };
        let est = match metric {
            "requests" => 1200.0,
            "error_rate" => 0.012,
            "p99_latency" => 180.0,
            "conversion_rate" => 0.031,
            "avg_page_load_ms" => 950.0,
            _ => return None,
        } * shift;
        Interval::new(est * 0.9, est, est * 1.1)
    }
}

fn parse(c: &mut Criterion) {
    let catalog = catalog();
    c.bench_function("parse_check/5_examples", |b| {
        b.iter(|| {
            for src in EXAMPLES {
                black_box(Condition::parse(black_box(src), &catalog).unwrap());
            }
        });
    });
}

fn eval(c: &mut Criterion) {
    let catalog = catalog();
    let simple = Condition::parse(EXAMPLES[0], &catalog).unwrap();
    let scaled = Condition::parse(EXAMPLES[1], &catalog).unwrap();
    let both = Condition::parse(EXAMPLES[3], &catalog).unwrap();
    c.bench_function("eval/error_rate > 5%", |b| {
        b.iter(|| black_box(&simple).eval(&Table))
    });
    c.bench_function("eval/p99 > 1.5 * baseline.p99", |b| {
        b.iter(|| black_box(&scaled).eval(&Table))
    });
    c.bench_function("eval/a > 1% and requests > 500", |b| {
        b.iter(|| black_box(&both).eval(&Table))
    });
    c.bench_function("explain/p99 > 1.5 * baseline.p99", |b| {
        b.iter(|| black_box(&scaled).explain(&Table))
    });
}

criterion_group!(benches, parse, eval);
criterion_main!(benches);
