//! Always-valid confidence bounds for a quantile, from order statistics of a binned sample.
//!
//! If `ξ` is the true `q`-quantile, the number of observations at or below `ξ` is binomial
//! `(n, q)`, so the proportion boundary of [`Anytime`] turns into ranks: the bounds are the
//! order statistics at ranks `⌈n(q − w)⌉` and `⌊n(q + w)⌋ + 1`, `w = sqrt(q(1−q)/n)·m(n)`
//! (Howard & Ramdas 2022, "Sequential estimation of quantiles with applications to
//! A/B-testing and best-arm identification", *Bernoulli* 28(3)). The bins' representative
//! values are the resolution of the bounds.

use serde::{Deserialize, Serialize};

use super::{Anytime, StatsError};

/// One-sided always-valid bounds on a quantile; `None` when the sample is too small to bound
/// that side (the rank falls outside the sample).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantileBounds {
    /// The quantile is at least this, at level `1 − α`.
    pub lower: Option<f64>,
    /// The quantile is at most this, at level `1 − α`.
    pub upper: Option<f64>,
    /// Observations in the bins.
    pub samples: u64,
}

/// Bounds on the `q`-quantile of the distribution the `(value, count)` bins were drawn from.
/// Bins need not be sorted.
pub fn quantile_bounds(
    bins: &[(f64, u64)],
    q: f64,
    anytime: &Anytime,
) -> Result<QuantileBounds, StatsError> {
    if !(q > 0.0 && q < 1.0) {
        return Err(StatsError::InvalidQuantile(q));
    }
    if bins.iter().any(|(v, _)| !v.is_finite()) {
        return Err(StatsError::NonFinite("bin value"));
    }
    // Metric bins arrive sorted; only unsorted input pays for a sorted copy.
    let owned;
    let sorted: &[(f64, u64)] = if bins.is_sorted_by(|a, b| a.0 <= b.0) {
        bins
    } else {
        let mut copy = bins.to_vec();
        copy.sort_by(|a, b| a.0.total_cmp(&b.0));
        owned = copy;
        &owned
    };
    // Counts come from documents and windows of other processes: saturate, never overflow.
    let samples = sorted.iter().fold(0u64, |n, (_, c)| n.saturating_add(*c));
    if samples == 0 {
        return Ok(QuantileBounds {
            lower: None,
            upper: None,
            samples,
        });
    }
    let n = samples as f64;
    let w = (q * (1.0 - q) / n).sqrt() * anytime.multiplier(n);
    let lower_rank = (n * (q - w)).ceil();
    let upper_rank = (n * (q + w)).floor() + 1.0;
    Ok(QuantileBounds {
        lower: (lower_rank >= 1.0).then(|| value_at_rank(sorted, lower_rank as u64)),
        upper: (upper_rank <= n).then(|| value_at_rank(sorted, upper_rank as u64)),
        samples,
    })
}

/// The `rank`-th smallest observation (1-based) of sorted bins; `1 ≤ rank ≤ total`.
fn value_at_rank(sorted: &[(f64, u64)], rank: u64) -> f64 {
    let mut seen = 0;
    for &(v, c) in sorted {
        seen = c.saturating_add(seen);
        if seen >= rank {
            return v;
        }
    }
    sorted.last().map_or(f64::NAN, |(v, _)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(n: u64) -> Vec<(f64, u64)> {
        (1..=n).map(|i| (i as f64, 1)).collect()
    }

    #[test]
    fn bounds_bracket_the_median_and_tighten() {
        let a = Anytime::default();
        let small = quantile_bounds(&uniform(1_000), 0.5, &a).unwrap();
        let large = quantile_bounds(&uniform(100_000), 0.5, &a).unwrap();
        let (lo, hi) = (small.lower.unwrap(), small.upper.unwrap());
        assert!(lo < 500.0 && hi > 500.0, "{lo} {hi}");
        let (lo2, hi2) = (large.lower.unwrap() / 100.0, large.upper.unwrap() / 100.0);
        assert!(hi2 - lo2 < hi - lo);
    }

    #[test]
    fn unsorted_bins_give_the_same_bounds() {
        let a = Anytime::default();
        let sorted = uniform(2_000);
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.swap(3, 700);
        assert_eq!(
            quantile_bounds(&sorted, 0.9, &a),
            quantile_bounds(&shuffled, 0.9, &a)
        );
    }

    #[test]
    fn extreme_quantile_of_small_sample_has_no_upper_bound() {
        let b = quantile_bounds(&uniform(300), 0.99, &Anytime::default()).unwrap();
        assert_eq!(b.upper, None);
        assert!(b.lower.is_some());
    }

    /// Found by `fuzz/fuzz_targets/metrics_json.rs`: bins whose counts sum past `u64::MAX`
    /// used to overflow (a panic in debug builds).
    #[test]
    fn counts_past_u64_max_saturate() {
        let bins = [(5.0, u64::MAX), (-5.0, 1), (9.0, u64::MAX)];
        let b = quantile_bounds(&bins, 0.99, &Anytime::default()).unwrap();
        assert_eq!(b.samples, u64::MAX);
        assert!(b.lower.is_some());
    }

    #[test]
    fn rejects_bad_input() {
        let a = Anytime::default();
        assert!(quantile_bounds(&uniform(10), 1.0, &a).is_err());
        assert!(quantile_bounds(&[(f64::NAN, 1)], 0.5, &a).is_err());
        let empty = quantile_bounds(&[], 0.5, &a).unwrap();
        assert_eq!((empty.lower, empty.upper), (None, None));
    }
}
