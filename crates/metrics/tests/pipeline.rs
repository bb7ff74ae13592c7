//! From records to numbers: N records in are N in the windows, in the store's aggregate, in
//! the metric values and in the Prometheus text, with several threads recording at once.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rollgate_core::Cohort;
use rollgate_metrics::{
    Catalog, ErrorSide, Exposition, MetricSpec, Recorder, RecorderConfig, RequestRecord,
    SeriesFilter, SeriesKey, StoreConfig, SufficientStats, WindowStore,
};

const THREADS: u64 = 4;
const PER_THREAD: u64 = 25_000;

fn example_metrics() -> Vec<MetricSpec> {
    #[derive(serde::Deserialize)]
    struct Doc {
        metrics: Vec<MetricSpec>,
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rollgate.toml");
    let text = std::fs::read_to_string(path).unwrap();
    toml::from_str::<Doc>(&text).unwrap().metrics
}

/// Status and side of the i-th request: 1% upstream 5xx, 0.5% proxy 502, 0.5% client gone.
fn outcome(i: u64) -> (u16, Option<ErrorSide>) {
    match i % 200 {
        0 | 1 => (500, None),
        2 => (502, Some(ErrorSide::Proxy)),
        3 => (RequestRecord::NO_STATUS, Some(ErrorSide::Downstream)),
        _ => (200, None),
    }
}

#[test]
fn counts_are_exact_from_records_to_exposition() {
    let catalog = Catalog::from_specs(&example_metrics()).unwrap();
    let recorder = Arc::new(Recorder::new(RecorderConfig::default(), catalog.events()));
    let canary = SeriesKey::new("shop", "shop-v1.2", "v1.2", Cohort::Canary);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (recorder, canary) = (recorder.clone(), canary.clone());
            std::thread::spawn(move || {
                let series = recorder.registry().series(&canary).unwrap();
                for i in 0..PER_THREAD {
                    let (status, error) = outcome(i);
                    let record = RequestRecord {
                        series,
                        status,
                        latency_us: 1_000 + i % 5_000,
                        bytes_out: 10,
                        error,
                    };
                    // Spread over windows [0, 1s) … [2s, 3s).
                    recorder.record_request((i % 3_000) as i64, &record);
                    if i % 10 == 0 {
                        recorder
                            .record_event_named(i as i64 % 3_000, &canary, "exposure", None)
                            .unwrap();
                    }
                    if i % 40 == t {
                        recorder
                            .record_event_named(i as i64 % 3_000, &canary, "conversion", None)
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());

    let windows = recorder.close_until(3_000);
    assert_eq!(windows.len(), 3);
    let mut store = WindowStore::new(StoreConfig::default());
    let exposition = Exposition::new(100);
    for window in windows {
        exposition.add_window(&window);
        let outcome = store.insert(window, 3_000).unwrap();
        assert!(outcome.dropped.is_empty());
    }

    let total = THREADS * PER_THREAD;
    let aggregate = store.aggregate(
        &SeriesFilter::cohort_of("shop-v1.2", Cohort::Canary),
        0,
        3_000,
    );
    assert_eq!(aggregate.windows, 3);
    assert_eq!(aggregate.stats.requests.requests, total);

    let error_rate = catalog.compute("error_rate", &aggregate).unwrap();
    let upstream_5xx = THREADS * PER_THREAD.div_ceil(200) * 2;
    assert_eq!(
        error_rate.stats,
        SufficientStats::Ratio {
            numerator: upstream_5xx,
            denominator: total
        }
    );
    assert_eq!(
        catalog.compute("http_5xx", &aggregate).unwrap().samples,
        upstream_5xx + THREADS * PER_THREAD / 200
    );
    assert_eq!(
        catalog.compute("proxy_errors", &aggregate).unwrap().value,
        Some((THREADS * PER_THREAD / 200) as f64)
    );

    let conversion = catalog.compute("conversion_rate", &aggregate).unwrap();
    let exposures = THREADS * PER_THREAD / 10;
    let conversions = THREADS * PER_THREAD / 40;
    assert_eq!(
        conversion.stats,
        SufficientStats::Ratio {
            numerator: conversions,
            denominator: exposures
        }
    );
    assert_eq!(conversion.samples, exposures);

    let text = exposition.render().unwrap();
    let labels = r#"service="shop",rollout="shop-v1.2",version="v1.2",cohort="canary""#;
    let expect = [
        format!(r#"rollgate_request_duration_seconds_count{{{labels}}} {total}"#),
        format!(r#"rollgate_version_errors_total{{{labels}}} {upstream_5xx}"#),
        format!(r#"rollgate_events_total{{{labels},event="exposure"}} {exposures}"#),
        format!(r#"rollgate_events_total{{{labels},event="conversion"}} {conversions}"#),
        format!(
            r#"rollgate_response_bytes_total{{{labels}}} {}"#,
            total * 10
        ),
    ];
    for line in expect {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let by_class: u64 = text
        .lines()
        .filter(|l| l.starts_with("rollgate_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(by_class, total);
}

#[test]
fn the_example_config_metrics_resolve() {
    let catalog = Catalog::from_specs(&example_metrics()).unwrap();
    assert_eq!(
        catalog.unit("conversion_rate"),
        Some(rollgate_metrics::MetricUnit::Ratio)
    );
    assert_eq!(
        catalog.unit("avg_page_load_ms"),
        Some(rollgate_metrics::MetricUnit::DurationMs)
    );
    let events: Vec<&str> = catalog.events().collect();
    assert_eq!(events, ["conversion", "exposure", "page_load_ms"]);
}
