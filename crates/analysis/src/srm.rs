//! The sample-ratio-mismatch check: is traffic split between canary and baseline the way the
//! weight says? If not, something other than the version differs between the cohorts
//! (bucketing, an audience rule, redirects, a crash loop) and the comparison can't be trusted.

use rollgate_core::{BASELINE_START, Cohort, Ppm};
use rollgate_metrics::SufficientStats;
use serde::{Deserialize, Serialize};

use crate::document::RolloutMetrics;
use crate::format::{p_value, thousands};
use crate::stats::chi_square_gof;

/// The result of the sample-ratio-mismatch check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SrmCheck {
    /// Whether the check ran (it needs the counter in both cohorts and a weight below 100%).
    pub checked: bool,
    /// Observed canary count.
    pub canary: u64,
    /// Observed baseline count.
    pub baseline: u64,
    /// The share of `canary + baseline` the canary should have (0.5 up to a 50% weight).
    pub expected_canary_share: f64,
    /// Pearson's chi-square statistic (1 degree of freedom).
    pub chi_square: Option<f64>,
    /// Its p-value.
    pub p_value: Option<f64>,
    /// Whether `p_value` is below the alarm threshold.
    pub alarm: bool,
    /// One line for people.
    pub reason: String,
}

impl SrmCheck {
    fn skipped(reason: String) -> SrmCheck {
        SrmCheck {
            checked: false,
            canary: 0,
            baseline: 0,
            expected_canary_share: 0.5,
            chi_square: None,
            p_value: None,
            alarm: false,
            reason,
        }
    }
}

/// The canary and baseline shares of the bucket space at `weight` (see `rollgate_core::Cohort`).
pub fn cohort_sizes(weight: Ppm) -> (u32, u32) {
    let w = weight.get();
    let start = BASELINE_START.max(w);
    (w, w.min(Ppm::SCALE - start))
}

/// Compares the canary and baseline counts of `metric` (a counter, or a ratio's denominator)
/// with the split the weight implies; alarms when the chi-square p-value is below `alpha`.
pub fn srm_check(doc: &RolloutMetrics, metric: &str, alpha: f64) -> SrmCheck {
    let count = |cohort| {
        doc.value(cohort, metric).map(|v| match v.stats {
            SufficientStats::Count { count } => count,
            SufficientStats::Ratio { denominator, .. } => denominator,
            SufficientStats::Mean { .. } | SufficientStats::Distribution { .. } => v.samples,
        })
    };
    let (Some(canary), Some(baseline)) = (count(Cohort::Canary), count(Cohort::Baseline)) else {
        return SrmCheck::skipped(format!(
            "not checked: no \"{metric}\" for canary and baseline"
        ));
    };
    let (wc, wb) = cohort_sizes(doc.weight);
    if wc == 0 || wb == 0 {
        return SrmCheck::skipped(format!("not checked at weight {}", doc.weight));
    }
    let expected = f64::from(wc) / f64::from(wc + wb);
    let observed = format!(
        "canary {} vs baseline {} {metric}, expected {}",
        thousands(canary),
        thousands(baseline),
        split(wc, wb)
    );
    let Ok(test) = chi_square_gof(&[canary, baseline], &[f64::from(wc), f64::from(wb)]) else {
        return SrmCheck::skipped(format!("not checked: {observed}"));
    };
    let alarm = test.p_value < alpha;
    let reason = if alarm {
        format!(
            "sample ratio mismatch: {observed}; chi-square p={} < {}: traffic is not split as configured, so the comparison can't be trusted",
            p_value(test.p_value),
            p_value(alpha)
        )
    } else {
        format!("{observed} (chi-square p={})", p_value(test.p_value))
    };
    SrmCheck {
        checked: true,
        canary,
        baseline,
        expected_canary_share: expected,
        chi_square: Some(test.statistic),
        p_value: Some(test.p_value),
        alarm,
        reason,
    }
}

/// `1:1`, or `3:2` for a 60% canary.
fn split(a: u32, b: u32) -> String {
    let gcd = |mut x: u32, mut y: u32| {
        while y != 0 {
            (x, y) = (y, x % y);
        }
        x
    };
    let g = gcd(a, b).max(1);
    format!("{}:{}", a / g, b / g)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_metrics::MetricValue;

    use super::*;

    fn doc(weight: &str, canary: u64, baseline: u64) -> RolloutMetrics {
        let requests = |n: u64| MetricValue {
            value: Some(n as f64),
            samples: n,
            stats: SufficientStats::Count { count: n },
        };
        RolloutMetrics::new("r", weight.parse().unwrap(), 0, 1)
            .with(Cohort::Canary, "v2", "requests", requests(canary))
            .with(Cohort::Baseline, "v1", "requests", requests(baseline))
    }

    #[test]
    fn sizes_follow_the_cohort_layout() {
        assert_eq!(cohort_sizes("10%".parse().unwrap()), (100_000, 100_000));
        assert_eq!(cohort_sizes("60%".parse().unwrap()), (600_000, 400_000));
        assert_eq!(cohort_sizes("100%".parse().unwrap()), (1_000_000, 0));
    }

    #[test]
    fn balanced_traffic_is_fine_and_skewed_traffic_alarms() {
        let ok = srm_check(&doc("10%", 1_204, 1_198), "requests", 0.001);
        assert!(ok.checked && !ok.alarm, "{ok:?}");
        assert!(ok.reason.contains("1:1"), "{}", ok.reason);
        let bad = srm_check(&doc("10%", 1_350, 1_050), "requests", 0.001);
        assert!(bad.alarm, "{bad:?}");
        assert!(bad.reason.starts_with("sample ratio mismatch"));
        // 60% canary: 3:2 is expected.
        let sixty = srm_check(&doc("60%", 3_000, 2_000), "requests", 0.001);
        assert!(!sixty.alarm && sixty.reason.contains("3:2"), "{sixty:?}");
    }

    #[test]
    fn skipped_without_data_or_baseline() {
        assert!(!srm_check(&doc("10%", 1, 1), "errors", 0.001).checked);
        assert!(!srm_check(&doc("100%", 1, 1), "requests", 0.001).checked);
    }
}
