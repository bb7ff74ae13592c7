//! Condition and rollout verdicts over hand-made metric documents.
#![allow(clippy::unwrap_used)]

use rollgate_analysis::format::p_value;
use rollgate_analysis::{
    Analysis, AnalysisSpec, ConditionSpec, Method, Outcome, RolloutMetrics, SrmPolicy, Tracker,
    analyze,
};
use rollgate_core::Cohort;
use rollgate_metrics::{MetricValue, SufficientStats};

fn ratio(x: u64, n: u64) -> MetricValue {
    MetricValue {
        value: (n > 0).then(|| x as f64 / n as f64),
        samples: n,
        stats: SufficientStats::Ratio {
            numerator: x,
            denominator: n,
        },
    }
}

fn count(n: u64) -> MetricValue {
    MetricValue {
        value: Some(n as f64),
        samples: n,
        stats: SufficientStats::Count { count: n },
    }
}

fn mean(n: u64, mean: f64, sd: f64) -> MetricValue {
    MetricValue {
        value: Some(mean),
        samples: n,
        stats: SufficientStats::Mean {
            n,
            mean,
            m2: sd * sd * (n as f64 - 1.0),
        },
    }
}

/// Latency bins: `n` observations spread evenly over `[from, to]` in 100 bins.
fn latency(n: u64, from: f64, to: f64) -> MetricValue {
    let bins: Vec<(f64, u64)> = (0..100)
        .map(|i| (from + (to - from) * f64::from(i) / 99.0, n / 100))
        .collect();
    let total: u64 = bins.iter().map(|b| b.1).sum();
    MetricValue {
        value: Some(from + (to - from) * 0.99),
        samples: total,
        stats: SufficientStats::Distribution {
            quantile: 0.99,
            bins,
        },
    }
}

/// A document with `(metric, canary, baseline)` values, and requests equal to the first
/// metric's samples unless given.
fn doc(metrics: Vec<(&str, MetricValue, MetricValue)>) -> RolloutMetrics {
    let mut d = RolloutMetrics::new("shop-v1.2", "10%".parse().unwrap(), 0, 60_000);
    for (name, c, b) in metrics {
        if d.cohorts.is_empty() {
            d.insert(Cohort::Canary, "v1.2", "requests", count(c.samples));
            d.insert(Cohort::Baseline, "v1.1", "requests", count(b.samples));
        }
        d.insert(Cohort::Canary, "v1.2", name, c);
        d.insert(Cohort::Baseline, "v1.1", name, b);
    }
    d
}

fn build(spec: AnalysisSpec, doc: &RolloutMetrics) -> Analysis {
    spec.build(&doc.catalog()).unwrap()
}

fn one(condition: &str) -> AnalysisSpec {
    AnalysisSpec {
        conditions: vec![ConditionSpec::new("c", condition)],
        ..AnalysisSpec::default()
    }
}

#[test]
fn waits_for_min_samples_in_every_cohort() {
    let d = doc(vec![("error_rate", ratio(30, 120), ratio(1, 118))]);
    let v = analyze(&d, &build(one("error_rate > baseline.error_rate + 1%"), &d));
    let c = &v.conditions[0];
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert!(c.waiting_for_data);
    assert_eq!(
        c.reason,
        "waiting for data: canary n=120, baseline n=118 < 300"
    );
    assert_eq!(v.reason, format!("c holding on: {}", c.reason));
}

#[test]
fn missing_data_is_inconclusive() {
    let mut d = doc(vec![("error_rate", ratio(30, 1_000), ratio(1, 1_000))]);
    d.cohorts
        .get_mut(&Cohort::Baseline)
        .unwrap()
        .metrics
        .remove("error_rate");
    let spec = one("error_rate > baseline.error_rate + 1%");
    let analysis = spec
        .build(&doc(vec![("error_rate", ratio(0, 1), ratio(0, 1))]).catalog())
        .unwrap();
    let c = &analyze(&d, &analysis).conditions[0];
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert_eq!(c.reason, "no data yet for baseline.error_rate");
}

#[test]
fn an_absolute_threshold_needs_evidence_unless_immediate() {
    // 6.1% of 1,204 is above 5%, but not with 99% always-valid confidence.
    let d = doc(vec![("error_rate", ratio(73, 1_204), ratio(11, 1_198))]);
    let patient = analyze(&d, &build(one("error_rate > 5%"), &d));
    assert_eq!(patient.conditions[0].outcome, Outcome::Inconclusive);
    assert_eq!(patient.outcome, Outcome::Inconclusive);
    let mut spec = one("error_rate > 5%");
    spec.conditions[0].immediate = true;
    let eager = analyze(&d, &build(spec, &d));
    let c = &eager.conditions[0];
    assert_eq!(
        (c.outcome, c.comparisons[0].method),
        (Outcome::Fail, Method::PointEstimate)
    );
    assert_eq!(
        c.reason,
        "error_rate 6.06% vs baseline 0.918% (n=1,204 vs 1,198), fails \"error_rate > 5%\" \
         (immediate, on point estimates: error_rate 6.06% > 5%)"
    );
    assert_eq!(eager.outcome, Outcome::Fail);
}

#[test]
fn relative_condition_fails_with_a_sequential_p_value() {
    let d = doc(vec![("error_rate", ratio(73, 1_204), ratio(11, 1_198))]);
    let c = &analyze(&d, &build(one("error_rate > baseline.error_rate + 1%"), &d)).conditions[0];
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.comparisons[0].method, Method::Sequential);
    let p = c.p_value.unwrap();
    assert!(p < 0.01 && p > 1e-9, "{p}");
    assert!(
        c.reason.ends_with(&format!("sequential p={}", p_value(p))),
        "{}",
        c.reason
    );
    let effect = c.effect.as_ref().unwrap();
    assert!((effect.absolute - (73.0 / 1_204.0 - 11.0 / 1_198.0)).abs() < 1e-12);
}

#[test]
fn same_rates_pass_a_condition_with_a_margin() {
    let d = doc(vec![("error_rate", ratio(120, 12_000), ratio(118, 12_000))]);
    let v = analyze(&d, &build(one("error_rate > baseline.error_rate + 1%"), &d));
    assert_eq!(v.conditions[0].outcome, Outcome::Pass, "{v}");
    assert_eq!(v.outcome, Outcome::Pass);
    assert!(
        v.conditions[0].reason.contains("passes"),
        "{}",
        v.conditions[0].reason
    );
    // Without a margin equality can never be ruled out.
    let v = analyze(&d, &build(one("error_rate > baseline.error_rate"), &d));
    assert_eq!(v.conditions[0].outcome, Outcome::Inconclusive);
}

#[test]
fn less_than_conditions_are_oriented() {
    let low = doc(vec![(
        "conversion_rate",
        ratio(300, 5_000),
        ratio(600, 5_000),
    )]);
    let spec = one("conversion_rate < baseline.conversion_rate - 2%");
    assert_eq!(
        analyze(&low, &build(spec.clone(), &low)).conditions[0].outcome,
        Outcome::Fail
    );
    let same = doc(vec![(
        "conversion_rate",
        ratio(2_400, 20_000),
        ratio(2_400, 20_000),
    )]);
    assert_eq!(
        analyze(&same, &build(spec, &same)).conditions[0].outcome,
        Outcome::Pass
    );
}

#[test]
fn means_use_the_sequential_test() {
    let d = doc(vec![(
        "avg_page_load_ms",
        mean(2_000, 900.0, 200.0),
        mean(2_000, 800.0, 200.0),
    )]);
    let c = &analyze(
        &d,
        &build(
            one("avg_page_load_ms > baseline.avg_page_load_ms + 50ms"),
            &d,
        ),
    )
    .conditions[0];
    assert_eq!(
        (c.outcome, c.comparisons[0].method),
        (Outcome::Fail, Method::Sequential)
    );
}

#[test]
fn quantiles_need_the_intervals_or_mann_whitney() {
    // p99 doubled on 1,000 observations: too few for an upper bound on p99, but the whole
    // distribution moved, which Mann-Whitney confirms.
    let d = doc(vec![
        (
            "p99_latency",
            latency(1_000, 20.0, 400.0),
            latency(1_000, 10.0, 200.0),
        ),
        ("requests", count(1_000), count(1_000)),
    ]);
    let c = &analyze(
        &d,
        &build(one("p99_latency > 1.5 * baseline.p99_latency"), &d),
    )
    .conditions[0];
    assert_eq!(
        (c.outcome, c.comparisons[0].method),
        (Outcome::Fail, Method::MannWhitney),
        "{}",
        c.reason
    );
    assert!(c.reason.contains("Mann-Whitney p="), "{}", c.reason);
    // Same distributions: the point comparison is false, but p99 can't be bounded above yet.
    let same = doc(vec![
        (
            "p99_latency",
            latency(1_000, 10.0, 200.0),
            latency(1_000, 10.0, 200.0),
        ),
        ("requests", count(1_000), count(1_000)),
    ]);
    let c = &analyze(
        &same,
        &build(one("p99_latency > 1.5 * baseline.p99_latency"), &same),
    )
    .conditions[0];
    assert_eq!(c.outcome, Outcome::Inconclusive, "{}", c.reason);
}

#[test]
fn compound_conditions_use_kleene_logic() {
    let d = doc(vec![
        ("error_rate", ratio(1_200, 10_000), ratio(100, 10_000)),
        ("requests", count(10_000), count(10_000)),
    ]);
    let fail = analyze(&d, &build(one("error_rate > 5% and requests > 500"), &d));
    assert_eq!(fail.conditions[0].outcome, Outcome::Fail);
    assert_eq!(fail.conditions[0].comparisons.len(), 2);
    let pass = analyze(&d, &build(one("error_rate > 5% and requests > 50000"), &d));
    assert_eq!(pass.conditions[0].outcome, Outcome::Pass);
    // Two statistics could make an `or` true: each gets half of α.
    let either = analyze(
        &d,
        &build(one("error_rate > 50% or baseline.error_rate > 50%"), &d),
    );
    assert_eq!(either.conditions[0].alpha, 0.005);
    assert_eq!(either.conditions[0].outcome, Outcome::Pass);
}

#[test]
fn non_linear_conditions_use_intervals() {
    let d = doc(vec![(
        "error_rate",
        ratio(1_200, 10_000),
        ratio(100, 10_000),
    )]);
    let c = &analyze(&d, &build(one("error_rate / baseline.error_rate > 2"), &d)).conditions[0];
    assert_eq!(
        (c.outcome, c.comparisons[0].method),
        (Outcome::Fail, Method::Intervals)
    );
    assert!(c.reason.contains("bounds: error_rate ["), "{}", c.reason);
}

#[test]
fn failure_limit_tolerates_failed_checks() {
    let d = doc(vec![(
        "error_rate",
        ratio(1_200, 10_000),
        ratio(100, 10_000),
    )]);
    let spec = AnalysisSpec {
        failure_limit: 1,
        ..one("error_rate > baseline.error_rate + 1%")
    };
    let analysis = build(spec, &d);
    let mut tracker = Tracker::new();
    let first = tracker.judge(&analysis, &d);
    assert_eq!(first.outcome, Outcome::Inconclusive);
    assert_eq!(first.conditions[0].failures, 1);
    let second = tracker.judge(&analysis, &d);
    assert_eq!(second.outcome, Outcome::Fail);
    assert_eq!(tracker.counts("c").unwrap().consecutive_failures, 2);
    tracker.reset();
    assert_eq!(tracker.counts("c"), None);
}

#[test]
fn inconclusive_limit_escalates() {
    let d = doc(vec![("error_rate", ratio(73, 1_204), ratio(11, 1_198))]);
    let spec = AnalysisSpec {
        inconclusive_limit: 2,
        ..one("error_rate > 5%")
    };
    let analysis = build(spec, &d);
    let mut tracker = Tracker::new();
    let escalations: Vec<bool> = (0..3)
        .map(|_| tracker.judge(&analysis, &d).escalate)
        .collect();
    assert_eq!(escalations, [false, false, true]);
    // Waiting for data never counts.
    let small = doc(vec![("error_rate", ratio(7, 120), ratio(1, 118))]);
    let mut tracker = Tracker::new();
    assert!((0..5).all(|_| !tracker.judge(&analysis, &small).escalate));
}

#[test]
fn non_critical_conditions_only_report() {
    let d = doc(vec![(
        "error_rate",
        ratio(1_200, 10_000),
        ratio(100, 10_000),
    )]);
    let mut spec = one("error_rate > baseline.error_rate + 1%");
    spec.conditions[0].critical = false;
    let v = analyze(&d, &build(spec, &d));
    assert_eq!(v.conditions[0].outcome, Outcome::Fail);
    assert_eq!(v.outcome, Outcome::Pass);
    assert!(v.to_string().contains("c (non-critical)"));
}

#[test]
fn sample_ratio_mismatch_holds_a_pass_but_not_a_rollback() {
    let skewed = |canary_errors| {
        let mut d = doc(vec![(
            "error_rate",
            ratio(canary_errors, 12_000),
            ratio(100, 10_000),
        )]);
        for (cohort, n) in [(Cohort::Canary, 12_000), (Cohort::Baseline, 10_000)] {
            d.cohorts
                .get_mut(&cohort)
                .unwrap()
                .metrics
                .insert("requests".into(), count(n));
        }
        d
    };
    let healthy = skewed(120);
    let spec = one("error_rate > baseline.error_rate + 1%");
    let v = analyze(&healthy, &build(spec.clone(), &healthy));
    assert_eq!(v.conditions[0].outcome, Outcome::Pass);
    assert!(v.srm.alarm);
    assert_eq!(v.outcome, Outcome::Inconclusive);
    assert!(
        v.reason
            .starts_with("sample ratio mismatch: canary 12,000 vs baseline 10,000 requests"),
        "{}",
        v.reason
    );
    let report = AnalysisSpec {
        srm: SrmPolicy::Report,
        ..spec.clone()
    };
    assert_eq!(
        analyze(&healthy, &build(report, &healthy)).outcome,
        Outcome::Pass
    );
    let broken = skewed(1_500);
    assert_eq!(
        analyze(&broken, &build(spec, &broken)).outcome,
        Outcome::Fail
    );
}
