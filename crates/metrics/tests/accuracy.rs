//! Quantile accuracy: the sketch's p50 … p999 against the exact quantiles of the recorded
//! latencies, for several distributions, directly and through the whole pipeline.
#![allow(clippy::unwrap_used)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rollgate_core::Cohort;
use rollgate_metrics::{
    Catalog, RequestRecord, SeriesFilter, SeriesKey, Shard, Sketch, StoreConfig, WindowConfig,
    WindowStore,
};

const QUANTILES: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];
const N: usize = 200_000;

/// The exact value at rank `⌊q·(n − 1)⌋`, the rank the sketch reports.
fn exact(sorted: &[u64], q: f64) -> f64 {
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize] as f64
}

fn normal(rng: &mut StdRng) -> f64 {
    // Box-Muller.
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Latencies in microseconds.
fn distributions() -> Vec<(&'static str, Vec<u64>)> {
    let mut rng = StdRng::seed_from_u64(7);
    let uniform = (0..N).map(|_| rng.random_range(1..2_000_000)).collect();
    let lognormal = (0..N)
        .map(|_| (8.5 + 1.2 * normal(&mut rng)).exp() as u64)
        .collect();
    let bimodal = (0..N)
        .map(|_| {
            let (mu, sigma) = if rng.random::<f64>() < 0.9 {
                (2_000.0, 300.0)
            } else {
                (250_000.0, 40_000.0)
            };
            (mu + sigma * normal(&mut rng)).max(1.0) as u64
        })
        .collect();
    let heavy_tail = (0..N)
        .map(|_| (100.0 / rng.random::<f64>().max(1e-9).powf(1.0 / 1.5)) as u64)
        .collect();
    vec![
        ("uniform", uniform),
        ("lognormal", lognormal),
        ("bimodal", bimodal),
        ("pareto", heavy_tail),
    ]
}

fn relative_error(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.max(1.0)
}

#[test]
fn sketch_quantiles_are_within_one_percent() {
    for (name, values) in distributions() {
        let sketch = Sketch::of(values.iter().copied());
        let mut sorted = values;
        sorted.sort_unstable();
        for q in QUANTILES {
            let (got, want) = (sketch.quantile(q).unwrap(), exact(&sorted, q));
            let err = relative_error(got, want);
            assert!(
                err <= 0.01,
                "{name} q={q}: sketch {got} vs exact {want} ({:.3}%)",
                err * 100.0
            );
        }
    }
}

#[test]
fn p99_latency_through_shards_store_and_catalog_is_within_one_percent() {
    let catalog = Catalog::builtin();
    for (name, values) in distributions() {
        let registry = rollgate_metrics::Registry::new(Default::default(), []);
        let key = SeriesKey::new("shop", "shop-v1.2", "v1.2", Cohort::Canary);
        let series = registry.series(&key).unwrap();
        // Four shards, spread over ten one-second windows.
        let mut shards: Vec<Shard> = (0..4)
            .map(|_| Shard::new(WindowConfig::default()))
            .collect();
        for (i, &latency_us) in values.iter().enumerate() {
            let record = RequestRecord {
                series,
                status: 200,
                latency_us,
                bytes_out: 0,
                error: None,
            };
            shards[i % 4].record_request((i % 10_000) as i64, &record);
        }
        let mut store = WindowStore::new(StoreConfig::default());
        for shard in &mut shards {
            for window in shard.close_until(10_000, &registry) {
                assert!(
                    store
                        .insert(window, 10_000)
                        .unwrap()
                        .refused_series
                        .is_empty()
                );
            }
        }
        let aggregate = store.aggregate(
            &SeriesFilter::cohort_of("shop-v1.2", Cohort::Canary),
            0,
            10_000,
        );
        assert_eq!(aggregate.stats.requests.requests, N as u64);

        let mut sorted = values;
        sorted.sort_unstable();
        for (metric, q) in [
            ("p50_latency", 0.5),
            ("p99_latency", 0.99),
            ("p999_latency", 0.999),
        ] {
            let value = catalog.compute(metric, &aggregate).unwrap();
            assert_eq!(value.samples, N as u64);
            let (got_ms, want_ms) = (value.value.unwrap(), exact(&sorted, q) / 1_000.0);
            let err = (got_ms - want_ms).abs() / want_ms;
            assert!(
                err <= 0.01,
                "{name} {metric}: {got_ms}ms vs exact {want_ms}ms ({:.3}%)",
                err * 100.0
            );
        }
        let avg = catalog.compute("avg_latency", &aggregate).unwrap();
        let exact_mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / N as f64 / 1_000.0;
        assert!(
            (avg.value.unwrap() - exact_mean).abs() <= 1e-9 * exact_mean,
            "{name}: mean is exact"
        );
    }
}
