//! Telemetry in: windows from an edge recorder and SDK events reach the built-in provider, the
//! analysis and the charts.
#![allow(clippy::unwrap_used)]

#[path = "support/harness.rs"]
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use harness::CONFIG;
use rollgate_control::testing::{T0, TestPlane};
use rollgate_control::{ControlPlane, Event};
use rollgate_core::model::Phase;
use rollgate_core::{AttributesView, Cohort, Ppm};
use rollgate_metrics::{Recorder, RequestRecord, SeriesKey};
use serde_json::json;

async fn builtin_plane(config: &str) -> (ControlPlane, Arc<AtomicI64>, Arc<Recorder>) {
    let t = TestPlane::start(config).await;
    (t.plane, t.clock, t.edge)
}

/// One second of edge traffic at `now`: `n` requests per cohort, `errors` of the canary's 5xx.
fn record_second(edge: &Recorder, now: i64, n: u64, errors: u64) {
    let reg = edge.registry();
    let canary = reg
        .series(&SeriesKey::new("shop", "shop-v2", "v2", Cohort::Canary))
        .unwrap();
    let base = reg
        .series(&SeriesKey::new("shop", "shop-v2", "v1", Cohort::Baseline))
        .unwrap();
    for i in 0..n {
        let at = now + (i * 1_000 / n) as i64;
        let status = if i < errors { 500 } else { 200 };
        let rec = |series, status| RequestRecord {
            series,
            status,
            latency_us: 2_000,
            bytes_out: 10,
            error: None,
        };
        edge.record_request(at, &rec(canary, status));
        edge.record_request(at, &rec(base, 200));
    }
}

#[tokio::test]
async fn edge_windows_drive_a_rollback_through_the_builtin_provider() {
    let (plane, time, edge) = builtin_plane(CONFIG).await;
    let mut rolled_back_at = None;
    for s in 1..=60 {
        let now = T0 + s * 1_000;
        record_second(&edge, now - 1_000, 20, 2);
        time.store(now, Ordering::SeqCst);
        let report = plane.ingest_windows(edge.close_until(now));
        assert!(report.refused.is_empty(), "{report:?}");
        plane.tick(now).await;
        if plane.rollout("shop-v2").await.unwrap().phase == Phase::RolledBack {
            rolled_back_at = Some(s);
            break;
        }
    }
    let s = rolled_back_at.expect("rolled back within a simulated minute");
    println!("builtin provider: rolled back {s} s after the start (20 canary req/s, 10% errors)");
    let m = plane.metrics("shop-v2", T0, T0 + 120_000).await.unwrap();
    let canary = m.value(Cohort::Canary, "error_rate").unwrap();
    assert!((canary.value.unwrap() - 0.1).abs() < 0.02, "{canary:?}");
    let series = plane
        .series("shop-v2", "error_rate", T0, T0 + 30_000)
        .await
        .unwrap();
    assert_eq!(series.step_ms, 1_000);
    assert_eq!(series.cohorts[&Cohort::Canary].len(), 30);
    let long = plane
        .series("shop-v2", "requests", T0, T0 + 3_600_000)
        .await
        .unwrap();
    assert!(long.cohorts[&Cohort::Canary].len() <= rollgate_control::MAX_POINTS as usize);
    assert!(
        plane
            .series("shop-v2", "eror_rate", T0, T0 + 1)
            .await
            .unwrap_err()
            .to_string()
            .contains("error_rate")
    );
}

#[tokio::test]
async fn events_join_the_units_cohort_and_bad_ones_say_why() {
    let config = format!(
        "{CONFIG}\n[[metrics]]\nname = \"conversion_rate\"\nratio = {{ numerator = \"conversion\", denominator = \"exposure\" }}\n"
    );
    let (plane, time, _edge) = builtin_plane(&config).await;
    time.store(T0 + 1_000, Ordering::SeqCst);
    plane.tick(T0 + 1_000).await; // started at 10%
    let table = plane.routing();
    let units: Vec<String> = (0..400).map(|i| format!("user-{i}")).collect();
    let canary_units = units
        .iter()
        .filter(|u| table.cohort_of("shop-v2", u) == Some(Cohort::Canary))
        .count();
    assert!(canary_units > 10, "{canary_units}");
    let events: Vec<Event> = units
        .iter()
        .map(|u| Event {
            service: "shop".into(),
            unit: u.clone(),
            event: "exposure".into(),
            value: None,
            version: None,
            attributes: AttributesView::default(),
        })
        .collect();
    let report = plane.record_events(&events);
    assert_eq!((report.accepted, report.rejected.len()), (400, 0));

    let batch = vec![
        json!({"service": "shop", "unit": "u1", "event": "conversion"}),
        json!({"service": "shpo", "unit": "u1", "event": "conversion"}),
        json!({"service": "shop", "unit": "u1", "event": "Conversion!"}),
        json!({"service": "shop", "unit": "u1", "event": "page_load_ms", "value": f64::MAX}),
        json!({"service": "shop", "unit": "u1", "event": "conversion", "version": "v3"}),
        json!({"service": "shop", "unit": "u1", "event": "conversion", "valeu": 1}),
        json!({"service": "shop", "unit": "", "event": "conversion"}),
    ];
    let report = plane.record_json_events(&batch);
    assert_eq!(report.accepted, 1);
    let fields: Vec<(usize, &str)> = report
        .rejected
        .iter()
        .map(|e| (e.index, e.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (1, "service"),
            (2, "event"),
            (3, "value"),
            (4, "version"),
            (5, "valeu"),
            (6, "unit")
        ]
    );
    assert!(
        report.rejected[0].reason.contains("did you mean \"shop\""),
        "{:?}",
        report.rejected[0]
    );
    assert!(
        report.rejected[3].reason.contains("v1"),
        "{:?}",
        report.rejected[3]
    );

    time.store(T0 + 3_000, Ordering::SeqCst);
    plane.tick(T0 + 3_000).await;
    let m = plane.metrics("shop-v2", T0, T0 + 3_000).await.unwrap();
    let exposures = m.value(Cohort::Canary, "exposure").unwrap().samples;
    assert_eq!(exposures, canary_units as u64);
    let weight = plane.rollout("shop-v2").await.unwrap().weight;
    assert_eq!(weight, Ppm::percent(10));
}
