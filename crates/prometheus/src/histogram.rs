//! Latency out of the exposed histogram's buckets: a quantile by interpolation within the
//! bucket holding its rank (exactly as PromQL's `histogram_quantile` computes it), the
//! distribution as one bin per bucket, and the spread around a mean.
//!
//! Resolution: a bucket says only how many requests fell between its bounds (5 ms … 10 s,
//! `rollgate_metrics::LATENCY_BUCKETS_US`), so a quantile is exact only at a bound and
//! otherwise assumes requests spread evenly within the bucket: a p99 in the 250–500 ms bucket
//! may be off by up to 250 ms. The built-in provider's sketch is within 0.78% everywhere.

/// Seconds to milliseconds.
const MS_PER_S: f64 = 1_000.0;

/// A cumulative histogram: `(upper bound in seconds, observations at or below it)`, sorted,
/// ending with the `+Inf` bucket.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Histogram {
    buckets: Vec<(f64, f64)>,
}

impl Histogram {
    /// A histogram out of `(le, cumulative count)` pairs in any order; pairs with the same
    /// bound are added. `None` without a `+Inf` bucket (a partial answer) or when a bound is
    /// NaN. Counts that go down (a bucket series missing from an answer) are raised to
    /// the bucket below, as Prometheus does.
    pub(crate) fn new(pairs: &[(f64, f64)]) -> Option<Histogram> {
        if pairs.iter().any(|(le, _)| le.is_nan()) {
            return None;
        }
        let mut buckets: Vec<(f64, f64)> = Vec::with_capacity(pairs.len());
        let mut sorted = pairs.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (le, n) in sorted {
            match buckets.last_mut() {
                Some(last) if last.0 == le => last.1 += n,
                _ => buckets.push((le, n)),
            }
        }
        if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
            return None;
        }
        let mut floor: f64 = 0.0;
        for b in &mut buckets {
            floor = floor.max(b.1);
            b.1 = floor;
        }
        Some(Histogram { buckets })
    }

    /// Observations in all buckets.
    pub(crate) fn count(&self) -> u64 {
        self.buckets.last().map_or(0, |b| whole(b.1))
    }

    /// The `q` quantile in milliseconds, as `histogram_quantile(q, …)` gives it: `None`
    /// without observations or with fewer than two buckets; the largest finite bound when the
    /// rank falls in the `+Inf` bucket.
    pub(crate) fn quantile_ms(&self, q: f64) -> Option<f64> {
        let b = &self.buckets;
        let observations = b.last()?.1;
        if b.len() < 2 || observations <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let mut rank = q * observations;
        let i = b[..b.len() - 1].partition_point(|bucket| bucket.1 < rank);
        if i == b.len() - 1 {
            return Some(b[b.len() - 2].0 * MS_PER_S);
        }
        if i == 0 && b[0].0 <= 0.0 {
            return Some(b[0].0 * MS_PER_S);
        }
        let (end, mut count) = b[i];
        let mut start = 0.0;
        if i > 0 {
            start = b[i - 1].0;
            count -= b[i - 1].1;
            rank -= b[i - 1].1;
        }
        Some((start + (end - start) * (rank / count)) * MS_PER_S)
    }

    /// One `(representative in ms, observations)` bin per non-empty bucket, ascending: the
    /// middle of a bucket, the largest finite bound for the `+Inf` bucket.
    pub(crate) fn bins_ms(&self) -> Vec<(f64, u64)> {
        self.spans()
            .filter(|s| s.count > 0)
            .map(|s| (ms(s.middle()), s.count))
            .collect()
    }

    /// The sum of squared deviations from `mean_ms` (ms²), taking the requests of a bucket as
    /// spread evenly over it: `Σ n·((middle − mean)² + width²/12)`. The `+Inf` bucket counts at
    /// the largest finite bound, so very slow requests make it an underestimate.
    pub(crate) fn m2_ms(&self, mean_ms: f64) -> f64 {
        self.spans()
            .map(|s| {
                let width = if s.hi.is_finite() {
                    ms(s.hi) - ms(s.lo)
                } else {
                    0.0
                };
                let d = ms(s.middle()) - mean_ms;
                s.count as f64 * (d * d + width * width / 12.0)
            })
            .sum()
    }

    /// Each bucket as a span of bounds with its own (not cumulative) count.
    fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        let largest_finite = self
            .buckets
            .iter()
            .rev()
            .find(|b| b.0.is_finite())
            .map_or(0.0, |b| b.0);
        self.buckets.iter().enumerate().map(move |(i, &(le, n))| {
            let (lo, below) = match i.checked_sub(1).and_then(|j| self.buckets.get(j)) {
                Some(&(lo, below)) => (lo, below),
                None => (le.min(0.0), 0.0),
            };
            Span {
                lo: if le.is_finite() { lo } else { largest_finite },
                hi: le,
                count: whole(n).saturating_sub(whole(below)),
            }
        })
    }
}

/// One bucket's bounds (seconds) and its own count.
struct Span {
    lo: f64,
    hi: f64,
    count: u64,
}

impl Span {
    /// The middle of the span; its lower bound when it is unbounded.
    fn middle(&self) -> f64 {
        if self.hi.is_finite() {
            (self.lo + self.hi) / 2.0
        } else {
            self.lo
        }
    }
}

/// Seconds as milliseconds, to the nanosecond: bucket bounds are whole microseconds, and
/// `(0.025 + 0.05) / 2` is not `0.0375` in binary.
fn ms(seconds: f64) -> f64 {
    (seconds * MS_PER_S * 1e6).round() / 1e6
}

/// A count as a whole number (counts arrive as floats, exact below 2⁵³).
pub(crate) fn whole(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// 0.005 → 10, 0.01 → 30, 0.025 → 90, 0.05 → 100, +Inf → 100.
    fn histogram() -> Histogram {
        Histogram::new(&[
            (f64::INFINITY, 100.0),
            (0.01, 30.0),
            (0.005, 10.0),
            (0.05, 100.0),
            (0.025, 90.0),
        ])
        .unwrap()
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket_like_histogram_quantile() {
        let h = histogram();
        assert_eq!(h.count(), 100);
        // rank 50 falls in (10, 25] ms holding ranks 30..90: 10 + 15·(20/60).
        assert!((h.quantile_ms(0.5).unwrap() - 15.0).abs() < 1e-9);
        // rank 5 in the first bucket, which starts at 0.
        assert!((h.quantile_ms(0.05).unwrap() - 2.5).abs() < 1e-9);
        assert!((h.quantile_ms(0.99).unwrap() - 47.5).abs() < 1e-9);
        assert_eq!(h.quantile_ms(1.5), None);
    }

    #[test]
    fn the_inf_bucket_reads_as_the_largest_bound() {
        let h = Histogram::new(&[(0.1, 1.0), (f64::INFINITY, 10.0)]).unwrap();
        assert_eq!(h.quantile_ms(0.99), Some(100.0));
        assert_eq!(h.bins_ms(), [(50.0, 1), (100.0, 9)]);
    }

    #[test]
    fn bins_are_bucket_middles_with_their_own_counts() {
        assert_eq!(
            histogram().bins_ms(),
            [(2.5, 10), (7.5, 20), (17.5, 60), (37.5, 10)]
        );
    }

    #[test]
    fn the_spread_assumes_even_spread_within_a_bucket() {
        // All 4 in (10, 20] ms: the middle is the mean, each adds 10²/12.
        let h = Histogram::new(&[(0.01, 0.0), (0.02, 4.0), (f64::INFINITY, 4.0)]).unwrap();
        assert!((h.m2_ms(15.0) - 4.0 * 100.0 / 12.0).abs() < 1e-9);
    }

    #[test]
    fn partial_and_odd_answers() {
        assert_eq!(Histogram::new(&[(0.1, 3.0)]), None, "no +Inf bucket");
        assert_eq!(Histogram::new(&[(f64::NAN, 3.0)]), None);
        let empty = Histogram::new(&[(0.1, 0.0), (f64::INFINITY, 0.0)]).unwrap();
        assert_eq!((empty.count(), empty.quantile_ms(0.5)), (0, None));
        // A missing bucket series makes the cumulative counts dip: raised, never negative.
        let dip = Histogram::new(&[(0.1, 5.0), (0.2, 0.0), (f64::INFINITY, 6.0)]).unwrap();
        assert_eq!(dip.bins_ms(), [(50.0, 5), (200.0, 1)]);
        // Series of two edges with the same bound add up.
        let two = Histogram::new(&[(0.1, 1.0), (0.1, 2.0), (f64::INFINITY, 3.0)]).unwrap();
        assert_eq!(two.bins_ms(), [(50.0, 3)]);
        assert_eq!(whole(f64::NAN), 0);
    }
}
