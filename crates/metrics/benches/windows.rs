//! Recording into windows, merging windows and computing metrics.
//!
//! `cargo bench -p rollgate-metrics --bench windows`
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rollgate_core::Cohort;
use rollgate_metrics::{
    Aggregate, Catalog, Recorder, RecorderConfig, Registry, RegistryLimits, RequestRecord,
    SeriesFilter, SeriesId, SeriesKey, Shard, Window, WindowConfig,
};

const BATCH: usize = 100_000;

fn keys() -> Vec<SeriesKey> {
    let mut keys = Vec::new();
    for (version, cohort) in [
        ("v1.1", Cohort::Stable),
        ("v1.1", Cohort::Baseline),
        ("v1.2", Cohort::Canary),
    ] {
        for service in ["shop", "search"] {
            keys.push(SeriesKey::new(
                service,
                &format!("{service}-v1.2"),
                version,
                cohort,
            ));
        }
    }
    keys
}

/// Requests with lognormal-ish latencies (median ~5 ms), 1% 5xx, over `series`.
fn records(series: &[SeriesId], n: usize) -> Vec<RequestRecord> {
    let mut rng = StdRng::seed_from_u64(1);
    (0..n)
        .map(|i| {
            let z: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0;
            let latency_us = (8.5 + 1.5 * z).exp() as u64;
            let status = if rng.random::<f64>() < 0.01 { 503 } else { 200 };
            RequestRecord {
                series: series[i % series.len()],
                status,
                latency_us,
                bytes_out: 512,
                error: None,
            }
        })
        .collect()
}

fn setup() -> (Registry, Vec<SeriesKey>, Vec<RequestRecord>) {
    let registry = Registry::new(RegistryLimits::default(), []);
    let keys = keys();
    let ids: Vec<SeriesId> = keys.iter().map(|k| registry.series(k).unwrap()).collect();
    let records = records(&ids, BATCH);
    (registry, keys, records)
}

fn record(c: &mut Criterion) {
    let (registry, keys, records) = setup();
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("shard", |b| {
        let mut shard = Shard::new(WindowConfig::default());
        let mut now = 0;
        b.iter(|| {
            // 100k records per one-second window, then close it: the edge's steady state.
            for r in &records {
                shard.record_request(now, r);
            }
            now += 1_000;
            black_box(shard.close_until(now, &registry));
        });
    });
    let recorder = Recorder::new(RecorderConfig::default(), []);
    let ids: Vec<SeriesId> = keys
        .iter()
        .map(|k| recorder.registry().series(k).unwrap())
        .collect();
    let records = self::records(&ids, BATCH);
    group.bench_function("recorder_one_thread", |b| {
        let mut now = 0;
        b.iter(|| {
            for r in &records {
                recorder.record_request(now, r);
            }
            now += 1_000;
            black_box(recorder.close_until(now));
        });
    });
    group.finish();
}

/// 1,000 one-second windows of six series, 1,000 requests each per window.
fn windows() -> Vec<Window> {
    let (registry, _, records) = setup();
    let mut shard = Shard::new(WindowConfig::default());
    let mut windows = Vec::new();
    for w in 0..1_000i64 {
        let start = w * 1_000;
        let offset = (w as usize * 6_000) % (BATCH - 6_000);
        for r in &records[offset..offset + 6_000] {
            shard.record_request(start, r);
        }
        windows.extend(shard.close_until(start + 1_000, &registry));
    }
    windows
}

fn merge(c: &mut Criterion) {
    let windows = windows();
    let canary = SeriesFilter::cohort_of("shop-v1.2", Cohort::Canary);
    let mut group = c.benchmark_group("merge");
    group.throughput(Throughput::Elements(windows.len() as u64));
    group.bench_function("aggregate_1000_windows_one_series", |b| {
        b.iter(|| black_box(Aggregate::of(&windows, &canary, 0, i64::MAX)));
    });
    group.bench_function("aggregate_1000_windows_all_series", |b| {
        b.iter(|| black_box(Aggregate::of(&windows, &SeriesFilter::all(), 0, i64::MAX)));
    });
    // The store's path: windows of one start from many shards or edges, merged pairwise.
    let same_start: Vec<Window> = windows
        .iter()
        .map(|w| Window {
            start: 0,
            ..w.clone()
        })
        .collect();
    group.bench_function("window_merge_1000_same_start", |b| {
        b.iter(|| {
            let mut total = Window::new(0, 1_000);
            for w in &same_start {
                total.merge(w).unwrap();
            }
            black_box(total)
        });
    });
    group.finish();

    let catalog = Catalog::builtin();
    let aggregate = Aggregate::of(&windows, &canary, 0, i64::MAX);
    c.bench_function("compute/p99_latency", |b| {
        b.iter(|| black_box(catalog.compute("p99_latency", &aggregate)))
    });
    c.bench_function("compute/error_rate", |b| {
        b.iter(|| black_box(catalog.compute("error_rate", &aggregate)))
    });
}

criterion_group!(benches, record, merge);
criterion_main!(benches);
