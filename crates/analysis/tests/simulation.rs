//! Simulated canaries in simulated time with a seeded RNG: how often the sequential guard
//! fails a healthy canary, how often and how fast it catches a bad one. Run with
//! `cargo test -p rollgate-analysis --test simulation -- --nocapture` to see the numbers
//! recorded in `docs/analysis.md`.
#![allow(clippy::unwrap_used)]

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rollgate_analysis::{Analysis, AnalysisSpec, ConditionSpec, Outcome, RolloutMetrics};
use rollgate_core::Cohort;
use rollgate_expr::{Catalog, MetricUnit};
use rollgate_metrics::{MetricValue, SufficientStats};

/// One kind of canary: true error rates and traffic per cohort, the condition guarding it.
struct Scenario {
    condition: &'static str,
    immediate: bool,
    min_samples: u64,
    canary_rate: f64,
    baseline_rate: f64,
    requests_per_second: u64,
    seconds: u32,
}

/// What happened over many runs.
struct Summary {
    runs: usize,
    /// The second of the first failing check, per run that failed.
    detections: Vec<u32>,
}

impl Summary {
    fn rate(&self) -> f64 {
        self.detections.len() as f64 / self.runs as f64
    }

    fn median(&self) -> Option<f64> {
        let mut t = self.detections.clone();
        t.sort_unstable();
        let n = t.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(f64::from(t[n / 2])),
            _ => Some(f64::from(t[n / 2 - 1] + t[n / 2]) / 2.0),
        }
    }

    /// The time by which 95% of the failing runs had failed.
    fn p95(&self) -> Option<u32> {
        let mut t = self.detections.clone();
        t.sort_unstable();
        let rank = (t.len() * 95).div_ceil(100);
        t.get(rank.checked_sub(1)?).copied()
    }

    fn describe(&self, what: &str) -> String {
        let median = self.median().map_or("-".to_owned(), |m| format!("{m} s"));
        let p95 = self.p95().map_or("-".to_owned(), |m| format!("{m} s"));
        format!(
            "{what}: failed {} of {} runs ({:.1}%), time to fail median {median}, 95th percentile {p95}",
            self.detections.len(),
            self.runs,
            100.0 * self.rate()
        )
    }
}

/// Binomial(n, p) by inversion (sequential search), exact for the small `n·p` simulated here.
fn binomial(rng: &mut Xoshiro256PlusPlus, n: u64, p: f64) -> u64 {
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let q = 1.0 - p;
    let s = p / q;
    let a = (n as f64 + 1.0) * s;
    let mut r = q.powf(n as f64);
    let mut u: f64 = rng.random();
    let mut x = 0;
    while u > r && x < n {
        u -= r;
        x += 1;
        r *= a / x as f64 - s;
    }
    x
}

fn analysis(s: &Scenario) -> Analysis {
    let spec = AnalysisSpec {
        min_samples: s.min_samples,
        conditions: vec![ConditionSpec {
            immediate: s.immediate,
            ..ConditionSpec::new("errors", s.condition)
        }],
        ..AnalysisSpec::default()
    };
    let catalog = Catalog::new()
        .with("error_rate", MetricUnit::Ratio)
        .with("requests", MetricUnit::Count);
    spec.build(&catalog).unwrap()
}

fn empty_doc() -> RolloutMetrics {
    let none = || {
        MetricValue::missing(SufficientStats::Ratio {
            numerator: 0,
            denominator: 0,
        })
    };
    RolloutMetrics::new("sim", "10%".parse().unwrap(), 0, 0)
        .with(Cohort::Canary, "v2", "error_rate", none())
        .with(Cohort::Baseline, "v1", "error_rate", none())
}

/// Adds one second of traffic to a cohort's cumulative error rate.
fn add_second(doc: &mut RolloutMetrics, cohort: Cohort, requests: u64, errors: u64) {
    let value = doc
        .cohorts
        .get_mut(&cohort)
        .and_then(|c| c.metrics.get_mut("error_rate"))
        .unwrap();
    if let SufficientStats::Ratio {
        numerator,
        denominator,
    } = &mut value.stats
    {
        *numerator += errors;
        *denominator += requests;
        value.samples = *denominator;
        value.value = Some(*numerator as f64 / *denominator as f64);
    }
}

/// The second of the first failing check of one run, checking every second on cumulative
/// counts; `None` when it never failed.
fn first_failure(s: &Scenario, analysis: &Analysis, rng: &mut Xoshiro256PlusPlus) -> Option<u32> {
    let mut doc = empty_doc();
    let n = s.requests_per_second;
    let condition = &analysis.conditions[0];
    for second in 1..=s.seconds {
        let (xc, xb) = (
            binomial(rng, n, s.canary_rate),
            binomial(rng, n, s.baseline_rate),
        );
        add_second(&mut doc, Cohort::Canary, n, xc);
        add_second(&mut doc, Cohort::Baseline, n, xb);
        doc.to = i64::from(second) * 1000;
        if analysis.judge_condition(condition, &doc).outcome == Outcome::Fail {
            return Some(second);
        }
    }
    None
}

fn simulate(s: &Scenario, runs: usize, seed: u64) -> Summary {
    let analysis = analysis(s);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let detections = (0..runs)
        .filter_map(|_| first_failure(s, &analysis, &mut rng))
        .collect();
    Summary { runs, detections }
}

const RUNS: usize = 1_000;

#[test]
fn healthy_canaries_are_rarely_failed() {
    let s = Scenario {
        condition: "error_rate > baseline.error_rate",
        immediate: false,
        min_samples: 300,
        canary_rate: 0.01,
        baseline_rate: 0.01,
        requests_per_second: 200,
        seconds: 600,
    };
    let summary = simulate(&s, RUNS, 1);
    println!(
        "{}",
        summary
            .describe("A/A 1% vs 1%, 200 req/s each, 10 min, `error_rate > baseline.error_rate`")
    );
    assert!(
        summary.rate() <= 0.01,
        "false failure rate {}",
        summary.rate()
    );
}

#[test]
fn bad_canaries_are_caught() {
    let s = Scenario {
        condition: "error_rate > baseline.error_rate",
        immediate: false,
        min_samples: 300,
        canary_rate: 0.06,
        baseline_rate: 0.01,
        requests_per_second: 200,
        seconds: 600,
    };
    let summary = simulate(&s, RUNS, 2);
    println!(
        "{}",
        summary.describe("bad 6% vs 1%, 200 req/s each, `error_rate > baseline.error_rate`")
    );
    assert!(summary.rate() >= 0.99, "detection rate {}", summary.rate());
}

#[test]
fn a_canary_exactly_at_an_absolute_threshold_is_rarely_failed() {
    let s = Scenario {
        condition: "error_rate > 5%",
        immediate: false,
        min_samples: 300,
        canary_rate: 0.05,
        baseline_rate: 0.05,
        requests_per_second: 200,
        seconds: 600,
    };
    let summary = simulate(&s, RUNS, 3);
    println!(
        "{}",
        summary.describe("at threshold 5%, 200 req/s, 10 min, `error_rate > 5%`")
    );
    assert!(
        summary.rate() <= 0.01,
        "false failure rate {}",
        summary.rate()
    );
}

/// The end-to-end rollback target: 200 req/s at a 10% weight is 20 req/s in the canary and
/// 20 in the matched baseline; the canary errs 10% of the time, the baseline 0.5%.
#[test]
fn end_to_end_rollback_target() {
    let rows = [
        ("error_rate > baseline.error_rate + 1%", false, 300),
        ("error_rate > baseline.error_rate + 1%", false, 100),
        ("error_rate > 2 * baseline.error_rate", false, 100),
        ("error_rate > 5%", false, 100),
        ("error_rate > 5%", true, 100),
    ];
    let mut medians = Vec::new();
    for (i, (condition, immediate, min_samples)) in rows.into_iter().enumerate() {
        let s = Scenario {
            condition,
            immediate,
            min_samples,
            canary_rate: 0.10,
            baseline_rate: 0.005,
            requests_per_second: 20,
            seconds: 120,
        };
        let summary = simulate(&s, RUNS, 100 + i as u64);
        let what = format!(
            "e2e 10% vs 0.5%, 20 req/s each, min_samples {min_samples}, `{condition}`{}",
            if immediate { " (immediate)" } else { "" }
        );
        println!("{}", summary.describe(&what));
        assert!(
            summary.rate() >= 0.99,
            "{what}: detection rate {}",
            summary.rate()
        );
        medians.push(summary.median().unwrap());
    }
    // With min_samples 300 nothing can fail before 15 s (300 / 20 req/s); the relative
    // condition with min_samples 100 is the one that rolls back within 10 s.
    assert!(medians[0] >= 15.0, "{medians:?}");
    assert!(medians[1] <= 10.0, "{medians:?}");
}
