//! The Mann-Whitney U rank test, on raw samples or on weighted bins (latency histograms), with
//! the tie-corrected normal approximation and continuity correction.

use serde::{Deserialize, Serialize};

use super::{StatsError, normal_sf};

/// The result of a Mann-Whitney U test of sample `x` against sample `y`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// `U₁`, the statistic of `x`: pairs `(xᵢ, yⱼ)` with `xᵢ > yⱼ`, ties counting one half.
    pub u1: f64,
    /// Size of `x`.
    pub n1: u64,
    /// Size of `y`.
    pub n2: u64,
    /// `U₁ / (n₁·n₂)`: the probability that a random `x` exceeds a random `y` (ties count
    /// half). 0.5 means no shift.
    pub effect: f64,
    /// p-value against "same distribution", two-sided.
    pub p_two_sided: f64,
    /// p-value for the alternative "`x` is stochastically greater than `y`".
    pub p_greater: f64,
    /// p-value for the alternative "`x` is stochastically less than `y`".
    pub p_less: f64,
}

/// Mann-Whitney U of two raw samples (as `scipy.stats.mannwhitneyu(x, y,
/// method="asymptotic", use_continuity=True)`).
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Result<MannWhitney, StatsError> {
    let bins = |s: &[f64]| s.iter().map(|&v| (v, 1)).collect::<Vec<_>>();
    mann_whitney_bins(&bins(x), &bins(y))
}

/// Mann-Whitney U of two samples given as `(value, count)` bins, exactly as if every bin were
/// expanded into `count` equal observations. Bins need not be sorted; zero counts are ignored.
pub fn mann_whitney_bins(x: &[(f64, u64)], y: &[(f64, u64)]) -> Result<MannWhitney, StatsError> {
    if x.iter().chain(y).any(|(v, _)| !v.is_finite()) {
        return Err(StatsError::NonFinite("sample value"));
    }
    let merged = merge(x, y);
    let (n1, n2) = merged.iter().fold((0u64, 0u64), |(a, b), (_, cx, cy)| {
        (a.saturating_add(*cx), b.saturating_add(*cy))
    });
    if n1 == 0 || n2 == 0 {
        return Err(StatsError::TooFewSamples {
            needed: 1,
            got: n1.min(n2),
        });
    }
    let (rank_sum, tie_term) = rank_sum_and_ties(&merged);
    let (f1, f2) = (n1 as f64, n2 as f64);
    let n = f1 + f2;
    let u1 = rank_sum - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let mu = f1 * f2 / 2.0;
    let s = (f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    let p = |u: f64| normal_sf((u - mu - 0.5) / s);
    Ok(MannWhitney {
        u1,
        n1,
        n2,
        effect: u1 / (f1 * f2),
        p_two_sided: (2.0 * p(u1.max(u2))).min(1.0),
        p_greater: p(u1),
        p_less: p(u2),
    })
}

/// Both samples as `(value, count in x, count in y)` sorted by value: a linear merge when the
/// bins arrive sorted (metric bins do), a sort otherwise.
fn merge(x: &[(f64, u64)], y: &[(f64, u64)]) -> Vec<(f64, u64, u64)> {
    let sorted = |b: &[(f64, u64)]| b.is_sorted_by(|p, q| p.0 <= q.0);
    let mut merged = Vec::with_capacity(x.len() + y.len());
    if sorted(x) && sorted(y) {
        let (mut i, mut j) = (0, 0);
        while i < x.len() || j < y.len() {
            if j == y.len() || (i < x.len() && x[i].0 <= y[j].0) {
                merged.push((x[i].0, x[i].1, 0));
                i += 1;
            } else {
                merged.push((y[j].0, 0, y[j].1));
                j += 1;
            }
        }
        return merged;
    }
    merged.extend(x.iter().map(|&(v, c)| (v, c, 0)));
    merged.extend(y.iter().map(|&(v, c)| (v, 0, c)));
    merged.sort_by(|a, b| a.0.total_cmp(&b.0));
    merged
}

/// The rank sum of the first sample (mid-ranks for ties) and `Σ (t³ − t)` over tie groups, for
/// entries sorted by value.
fn rank_sum_and_ties(sorted: &[(f64, u64, u64)]) -> (f64, f64) {
    let mut rank_sum = 0.0;
    let mut tie_term = 0.0;
    let mut before = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let value = sorted[i].0;
        let (mut cx, mut cy) = (0u64, 0u64);
        while i < sorted.len() && sorted[i].0 == value {
            cx = sorted[i].1.saturating_add(cx);
            cy = sorted[i].2.saturating_add(cy);
            i += 1;
        }
        let t = cx as f64 + cy as f64;
        if t > 0.0 {
            rank_sum += cx as f64 * (before + (t + 1.0) / 2.0);
            tie_term += t * t * t - t;
            before += t;
        }
    }
    (rank_sum, tie_term)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_small_example() {
        // scipy.stats.mannwhitneyu([1,2,3,4,5], [3,4,5,6,7,8]) → U=4.5, p=0.0660...
        let r = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
        assert_eq!(r.u1, 4.5);
        assert!(
            (r.p_two_sided - 0.066015431521231).abs() < 1e-10,
            "{}",
            r.p_two_sided
        );
    }

    #[test]
    fn bins_equal_expanded_samples() {
        let xb = [(3.0, 2), (1.0, 3), (7.0, 1), (9.0, 0)];
        let yb = [(1.0, 1), (3.0, 4), (5.0, 2)];
        let expand = |b: &[(f64, u64)]| {
            b.iter()
                .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
                .collect::<Vec<_>>()
        };
        let a = mann_whitney_bins(&xb, &yb).unwrap();
        let b = mann_whitney(&expand(&xb), &expand(&yb)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn sorted_and_unsorted_bins_agree() {
        let x = [(1.0, 3), (3.0, 2), (3.0, 1), (7.0, 1)];
        let y = [(1.0, 1), (3.0, 4), (5.0, 2)];
        let mut xr = x;
        xr.reverse();
        assert_eq!(mann_whitney_bins(&x, &y), mann_whitney_bins(&xr, &y));
    }

    #[test]
    fn all_tied_is_not_significant() {
        let r = mann_whitney(&[2.0, 2.0], &[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((r.p_two_sided, r.p_greater, r.p_less), (1.0, 1.0, 1.0));
    }

    /// Found by `fuzz/fuzz_targets/metrics_json.rs`: counts of a metrics document summing past
    /// `u64::MAX` used to overflow (a panic in debug builds).
    #[test]
    fn counts_past_u64_max_saturate() {
        let x = [(1.0, u64::MAX), (1.0, u64::MAX), (2.0, 1)];
        let y = [(1.0, u64::MAX), (3.0, u64::MAX)];
        let r = mann_whitney_bins(&x, &y).unwrap();
        assert_eq!((r.n1, r.n2), (u64::MAX, u64::MAX));
    }

    #[test]
    fn rejects_empty_and_nan() {
        assert!(mann_whitney(&[], &[1.0]).is_err());
        assert!(mann_whitney(&[f64::NAN], &[1.0]).is_err());
    }
}
