//! From the analysis' verdict to the controller's [`Health`].
//!
//! The analysis is conservative by design: a condition *passes* only when its failure is
//! confidently ruled out. At low traffic the bounds stay loose for a long time, so a healthy
//! canary would hold at its first step although every number looks fine. The mapping:
//!
//! | analysis (as configured) | point estimates (same conditions, `immediate`) | health |
//! | --- | --- | --- |
//! | fail (beyond `failure_limit`) | — | **fail**: roll back |
//! | pass | — | **pass** |
//! | inconclusive: waiting for `min_samples`, missing data, or a sample-ratio mismatch (hold) | — | **inconclusive**: hold |
//! | inconclusive otherwise | every critical condition false at its point estimate | **pass** (the reason says "on point estimates") |
//! | inconclusive otherwise | some critical condition true or unknown at its point estimate | **inconclusive**: hold |
//!
//! So a healthy canary advances once `min_samples` (analysis) and the step's `min_duration` /
//! `min_samples` (strategy) are met, while a rollback still needs the confident failure the
//! sequential tests give (or an `immediate` condition, which fails on point estimates by the
//! user's choice). A canary whose point estimate is on the wrong side of a threshold but not
//! yet confidently holds: it neither advances nor rolls back until the evidence decides.

use rollgate_analysis::RolloutVerdict;
use rollgate_controller::{Health, Outcome};
use rollgate_core::model::UnixMillis;

/// The evidence behind a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// End of the last window the verdict read.
    pub window_end: UnixMillis,
    /// Canary samples (requests) in the range.
    pub canary_samples: u64,
    /// Baseline samples (requests) in the range.
    pub baseline_samples: u64,
}

/// The controller's health from the configured verdict and the point-estimate verdict.
pub fn health(verdict: &RolloutVerdict, point: &RolloutVerdict, evidence: Evidence) -> Health {
    let (outcome, reason) = match verdict.outcome {
        Outcome::Inconclusive if passes_on_points(verdict, point) => (
            Outcome::Pass,
            format!(
                "all critical conditions pass on point estimates (confident bounds not tight yet: {})",
                verdict.reason
            ),
        ),
        confident => (confident, verdict.reason.clone()),
    };
    let failing_condition = (outcome == Outcome::Fail)
        .then(|| {
            verdict
                .conditions
                .iter()
                .find(|c| c.critical && c.outcome == Outcome::Fail)
                .map(|c| c.name.clone())
        })
        .flatten();
    let degraded = verdict
        .conditions
        .iter()
        .find(|c| !c.critical && c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {}", c.name, c.reason));
    Health {
        window_end: evidence.window_end,
        outcome,
        reason,
        failing_condition,
        escalate: verdict.escalate,
        degraded,
        canary_samples: evidence.canary_samples,
        baseline_samples: evidence.baseline_samples,
        margin: None,
        details: serde_json::to_value(verdict).unwrap_or_default(),
    }
}

/// True when the configured verdict is undecided only because its bounds are loose: no
/// critical condition is waiting for data and the point verdict passes (it applies the same
/// sample-ratio policy, so a mismatch that holds holds it too).
fn passes_on_points(verdict: &RolloutVerdict, point: &RolloutVerdict) -> bool {
    let waiting = verdict
        .conditions
        .iter()
        .any(|c| c.critical && c.waiting_for_data);
    !waiting && point.outcome == Outcome::Pass
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use rollgate_analysis::{AnalysisSpec, CohortMetrics, ConditionSpec, RolloutMetrics, Tracker};
    use rollgate_core::Cohort;
    use rollgate_expr::{Catalog, MetricUnit};
    use rollgate_metrics::{MetricValue, SufficientStats};

    use super::*;

    fn doc(canary: (u64, u64), baseline: (u64, u64)) -> RolloutMetrics {
        let cohort = |(n, x): (u64, u64)| CohortMetrics {
            version: "v".into(),
            metrics: BTreeMap::from([
                (
                    "error_rate".to_owned(),
                    MetricValue {
                        value: Some(x as f64 / n as f64),
                        samples: n,
                        stats: SufficientStats::Ratio {
                            numerator: x,
                            denominator: n,
                        },
                    },
                ),
                (
                    "requests".to_owned(),
                    MetricValue {
                        value: Some(n as f64),
                        samples: n,
                        stats: SufficientStats::Count { count: n },
                    },
                ),
            ]),
        };
        RolloutMetrics {
            rollout: "r".into(),
            from: 0,
            to: 10_000,
            weight: "10%".parse().unwrap(),
            units: BTreeMap::new(),
            cohorts: BTreeMap::from([
                (Cohort::Canary, cohort(canary)),
                (Cohort::Baseline, cohort(baseline)),
            ]),
        }
    }

    fn judge(condition: &str, d: &RolloutMetrics) -> Health {
        let catalog = Catalog::new()
            .with("error_rate", MetricUnit::Ratio)
            .with("requests", MetricUnit::Count);
        let spec = |immediate| AnalysisSpec {
            min_samples: 100,
            conditions: vec![ConditionSpec {
                immediate,
                ..ConditionSpec::new("errors", condition)
            }],
            ..AnalysisSpec::default()
        };
        let strict = spec(false).build(&catalog).unwrap();
        let point = spec(true).build(&catalog).unwrap();
        let v = Tracker::new().judge(&strict, d);
        let p = Tracker::new().judge(&point, d);
        let evidence = Evidence {
            window_end: 10_000,
            canary_samples: 1,
            baseline_samples: 1,
        };
        health(&v, &p, evidence)
    }

    #[test]
    fn a_healthy_canary_passes_on_points_once_it_has_the_samples() {
        let h = judge(
            "error_rate > baseline.error_rate + 1%",
            &doc((150, 1), (150, 1)),
        );
        assert_eq!(h.outcome, Outcome::Pass, "{}", h.reason);
        assert!(h.reason.contains("point estimates"), "{}", h.reason);
    }

    #[test]
    fn waiting_for_samples_holds() {
        let h = judge(
            "error_rate > baseline.error_rate + 1%",
            &doc((50, 0), (50, 0)),
        );
        assert_eq!(h.outcome, Outcome::Inconclusive, "{}", h.reason);
    }

    #[test]
    fn a_bad_point_estimate_holds_until_confident_and_then_fails() {
        let h = judge(
            "error_rate > baseline.error_rate + 1%",
            &doc((120, 4), (120, 1)),
        );
        assert_eq!(h.outcome, Outcome::Inconclusive, "{}", h.reason);
        let h = judge(
            "error_rate > baseline.error_rate + 1%",
            &doc((2_000, 200), (2_000, 10)),
        );
        assert_eq!(h.outcome, Outcome::Fail, "{}", h.reason);
        assert_eq!(h.failing_condition.as_deref(), Some("errors"));
        assert!(h.details.is_object());
    }
}
