//! What the control plane does with a window an edge pushes: arbitrary bytes through
//! `serde_json::from_slice::<Window>`, then into the window store
//! - the control plane's own (`rollgate_control::Windows`, 1 s windows, 15 min retention) at a
//!   fixed "now", as `ControlPlane::ingest_windows` does;
//! - a `WindowStore` of the window's own width whose clock is at the window's end, twice, so
//!   the window is kept and then merged with itself, with a cap of 4 series;
//!
//! then the built-in provider's reading of the kept windows: aggregates per cohort, every metric
//! of the example configuration's catalog computed, and the example rollout's analysis judging
//! them. No panic, no store beyond its series cap, and the wire form round-trips.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rollgate_analysis::{Analysis, CohortMetrics, RolloutMetrics, analyze};
use rollgate_control::Windows;
use rollgate_core::{Cohort, Ppm};
use rollgate_metrics::{Catalog, SeriesFilter, StoreConfig, Window, WindowStore};

const NOW: i64 = 1_700_000_000_000;
const MAX_SERIES: usize = 4;

struct Setup {
    catalog: Catalog,
    analysis: Analysis,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let config = rollgate_config::parse(include_str!("../../examples/rollgate.toml"), "example")
        .expect("the example configuration is valid");
    Setup {
        catalog: config.catalog.clone(),
        analysis: config.rollouts[0].analysis.clone(),
    }
});

fuzz_target!(|data: &[u8]| {
    let s = &*SETUP;
    let Ok(window) = serde_json::from_slice::<Window>(data) else {
        return;
    };
    let json = serde_json::to_vec(&window).expect("a window serialises");
    let again: Window = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
    assert_eq!(again, window, "the wire form does not round-trip");
    let _ = window.records();

    let plane = Windows::new(StoreConfig::default());
    let report = plane.insert(vec![window.clone()], NOW);
    assert_eq!(report.accepted + report.refused.len(), 1, "{report:?}");
    plane.with(|store| check_store(s, store));

    let mut store = WindowStore::new(StoreConfig {
        width_ms: window.width_ms,
        retention_ms: 60_000,
        max_series: MAX_SERIES,
    });
    let now = window.start.saturating_add(i64::from(window.width_ms));
    let first = store.insert(window.clone(), now);
    let second = store.insert(window.clone(), now);
    assert_eq!(first.is_ok(), second.is_ok(), "{first:?} then {second:?}");
    check_store(s, &store);
});

fn check_store(s: &Setup, store: &WindowStore) {
    let config = store.config();
    assert!(store.series().count() <= config.max_series);
    let width = i64::from(config.width_ms);
    let Some(latest) = store.latest_start() else {
        return;
    };
    for w in store.windows() {
        assert_eq!(w.width_ms, config.width_ms);
        assert_eq!(Window::start_of(w.start, w.width_ms), w.start);
    }
    let from = store.windows().next().map_or(latest, |w| w.start);
    let to = latest.saturating_add(width);
    let _ = store.rolling(&SeriesFilter::all(), to, 3);
    let all = store.aggregate(&SeriesFilter::all(), from, to);
    for name in s.catalog.names() {
        let _ = s.catalog.compute(name, &all);
    }
    // The built-in provider's document for the rollout of each kept series, then its verdict.
    let mut rollouts: Vec<String> = store.series().map(|k| k.rollout.to_string()).collect();
    rollouts.sort();
    rollouts.dedup();
    for rollout in rollouts.iter().take(2) {
        let mut doc = RolloutMetrics::new(rollout.clone(), Ppm::percent(10), from, to);
        for cohort in Cohort::ALL {
            let aggregate = store.aggregate(&SeriesFilter::cohort_of(rollout, cohort), from, to);
            let metrics = s
                .catalog
                .names()
                .filter_map(|m| Some((m.to_string(), s.catalog.compute(m, &aggregate)?)))
                .collect();
            let version = format!("{cohort:?}");
            doc.cohorts
                .insert(cohort, CohortMetrics { version, metrics });
        }
        let verdict = analyze(&doc, &s.analysis);
        let _ = verdict.to_string();
    }
}
