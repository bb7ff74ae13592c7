//! What `rollgate analyze FILE` does with a metrics document: arbitrary bytes through
//! `serde_json::from_slice::<RolloutMetrics>`, then `rollgate_analysis::analyze` with
//! - the analysis of the example configuration's rollout (`--config examples/rollgate.toml`);
//! - a wide analysis over every kind of statistic, with `immediate` conditions, tolerated
//!   failures and the sample-ratio check set to hold;
//! - conditions checked against the document's own catalog (`--condition EXPR`).
//!
//! No panic, whatever the numbers (huge, zero, negative, inconsistent with their statistics):
//! the verdict prints, serialises to JSON, and a tracker judging the same document twice
//! counts two checks.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rollgate_analysis::{
    Analysis, AnalysisSpec, ConditionSpec, RolloutMetrics, RolloutVerdict, SrmPolicy, Tracker,
    analyze,
};
use rollgate_expr::{Catalog, MetricUnit};

/// `--condition` expressions a user would pass.
const CLI_CONDITIONS: [&str; 4] = [
    "error_rate > 5%",
    "p99_latency > 1.5 * baseline.p99_latency",
    "conversion_rate < baseline.conversion_rate - 2%",
    "avg_page_load_ms > baseline.avg_page_load_ms + 100ms or requests < 10",
];

static FIXED: LazyLock<Vec<Analysis>> = LazyLock::new(|| {
    let config = rollgate_config::parse(include_str!("../../examples/rollgate.toml"), "example")
        .expect("the example configuration is valid");
    let example = config.rollouts[0].analysis.clone();
    let catalog: Catalog = [
        ("requests", MetricUnit::Count),
        ("error_rate", MetricUnit::Ratio),
        ("p50_latency", MetricUnit::DurationMs),
        ("p99_latency", MetricUnit::DurationMs),
        ("avg_latency", MetricUnit::DurationMs),
        ("conversion_rate", MetricUnit::Ratio),
        ("avg_page_load_ms", MetricUnit::DurationMs),
        ("apdex", MetricUnit::Number),
    ]
    .into_iter()
    .collect();
    let mut immediate = ConditionSpec::new("p50", "canary.p50_latency > 2 * stable.p50_latency");
    immediate.immediate = true;
    let mut soft = ConditionSpec::new("apdex", "apdex < baseline.apdex * 0.9");
    soft.critical = false;
    let wide = AnalysisSpec {
        alpha: 0.05,
        min_samples: 1,
        failure_limit: 2,
        inconclusive_limit: 1,
        design_samples: 10,
        srm: SrmPolicy::Hold,
        conditions: vec![
            ConditionSpec::new("errors", "error_rate > baseline.error_rate + 1%"),
            ConditionSpec::new("latency", "p99_latency > baseline.p99_latency + 20ms"),
            ConditionSpec::new("mean", "avg_latency > 1.2 * baseline.avg_latency"),
            ConditionSpec::new("volume", "requests < 0.5 * baseline.requests"),
            ConditionSpec::new("page", "avg_page_load_ms > baseline.avg_page_load_ms"),
            immediate,
            soft,
        ],
        ..AnalysisSpec::default()
    }
    .build(&catalog)
    .unwrap_or_else(|e| panic!("the wide analysis builds: {e}"));
    vec![example, wide]
});

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<RolloutMetrics>(data) else {
        return;
    };
    for analysis in FIXED.iter() {
        judge(&doc, analysis);
    }
    let spec = AnalysisSpec {
        conditions: CLI_CONDITIONS
            .iter()
            .map(|c| ConditionSpec::new(*c, *c))
            .collect(),
        ..AnalysisSpec::default()
    };
    for one in &spec.conditions {
        let single = AnalysisSpec {
            conditions: vec![one.clone()],
            ..spec.clone()
        };
        if let Ok(analysis) = single.build(&doc.catalog()) {
            judge(&doc, &analysis);
        }
    }
});

fn judge(doc: &RolloutMetrics, analysis: &Analysis) {
    let verdict = analyze(doc, analysis);
    check(&verdict, analysis);
    let mut tracker = Tracker::new();
    let _ = tracker.judge(analysis, doc);
    let second = tracker.judge(analysis, doc);
    check(&second, analysis);
    for c in &analysis.conditions {
        let counts = tracker.counts(&c.name).expect("every condition is counted");
        assert_eq!(counts.checks, 2, "{}: {counts:?}", c.name);
    }
}

fn check(verdict: &RolloutVerdict, analysis: &Analysis) {
    assert_eq!(verdict.conditions.len(), analysis.conditions.len());
    assert!(!verdict.reason.is_empty());
    let _ = verdict.to_string();
    serde_json::to_string(verdict).unwrap_or_else(|e| panic!("{e}: {verdict:?}"));
}
