//! Exact running moments (count, sum, sum of squares) of integer observations.
//!
//! Observations are integers in a fixed unit (microseconds for latencies, millionths for
//! event values), sums are kept in 128 bits and sums of squares in 256 bits, so merging is
//! exact, associative and commutative: the same observations give the same moments in any
//! order. Floating point appears only when a mean or variance is read out.

use serde::{Deserialize, Serialize};

/// Count, sum and sum of squares of integer observations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of observations.
    pub n: u64,
    /// Their sum.
    pub sum: i128,
    /// The sum of their squares.
    pub sum_sq: U256,
}

/// An unsigned 256-bit integer, enough for any sum of squares of 64-bit observations.
/// Written on the wire as `[high, low]` 128-bit halves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "(u128, u128)", into = "(u128, u128)")]
pub struct U256 {
    hi: u128,
    lo: u128,
}

impl Moments {
    /// Records one observation.
    #[inline]
    pub fn observe(&mut self, x: i64) {
        self.n += 1;
        self.sum += i128::from(x);
        self.sum_sq = self.sum_sq.saturating_add(U256::from(
            x.unsigned_abs() as u128 * x.unsigned_abs() as u128,
        ));
    }

    /// Adds every observation of `other`.
    pub fn merge(&mut self, other: &Moments) {
        self.n = self.n.saturating_add(other.n);
        self.sum = self.sum.saturating_add(other.sum);
        self.sum_sq = self.sum_sq.saturating_add(other.sum_sq);
    }

    /// The mean, or `None` without observations.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum as f64 / self.n as f64)
    }

    /// The sum of squared deviations from the mean (`m2`; the sample variance is
    /// `m2 / (n - 1)`), or `None` without observations.
    ///
    /// Computed as `Σx² − S·⌊S/n⌋ − S·(S mod n)/n` with `S = |Σx|`: the first two terms are
    /// exact integers (`S·⌊S/n⌋ ≤ S²/n ≤ Σx²`), so only the small last term is rounded and
    /// there is no catastrophic cancellation.
    pub fn m2(&self) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let s = self.sum.unsigned_abs();
        let n = u128::from(self.n);
        let (q, r) = (s / n, s % n);
        let exact = self.sum_sq.saturating_sub(U256::mul(s, q));
        let m2 = exact.to_f64() - (s as f64) * (r as f64) / (n as f64);
        Some(m2.max(0.0))
    }
}

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256 { hi: 0, lo: 0 };

    /// `self + other`, saturating at the largest value (unreachable for sums of squares of
    /// 64-bit values over fewer than 2^128 observations).
    pub fn saturating_add(self, other: U256) -> U256 {
        let (lo, carry) = self.lo.overflowing_add(other.lo);
        match self
            .hi
            .checked_add(other.hi)
            .and_then(|hi| hi.checked_add(u128::from(carry)))
        {
            Some(hi) => U256 { hi, lo },
            None => U256 {
                hi: u128::MAX,
                lo: u128::MAX,
            },
        }
    }

    /// `self − other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: U256) -> U256 {
        if other >= self {
            return U256::ZERO;
        }
        let (lo, borrow) = self.lo.overflowing_sub(other.lo);
        U256 {
            hi: self.hi - other.hi - u128::from(borrow),
            lo,
        }
    }

    /// The full product of two 128-bit numbers.
    pub fn mul(a: u128, b: u128) -> U256 {
        const MASK: u128 = u64::MAX as u128;
        let (a1, a0) = (a >> 64, a & MASK);
        let (b1, b0) = (b >> 64, b & MASK);
        let low = U256::from(a0 * b0);
        let mid1 = U256::from(a1 * b0).shl64();
        let mid2 = U256::from(a0 * b1).shl64();
        let high = U256 { hi: a1 * b1, lo: 0 };
        low.saturating_add(mid1)
            .saturating_add(mid2)
            .saturating_add(high)
    }

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }

    fn shl64(self) -> U256 {
        U256 {
            hi: (self.hi << 64) | (self.lo >> 64),
            lo: self.lo << 64,
        }
    }
}

impl From<u128> for U256 {
    fn from(lo: u128) -> U256 {
        U256 { hi: 0, lo }
    }
}

impl From<(u128, u128)> for U256 {
    fn from((hi, lo): (u128, u128)) -> U256 {
        U256 { hi, lo }
    }
}

impl From<U256> for (u128, u128) {
    fn from(v: U256) -> (u128, u128) {
        (v.hi, v.lo)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn moments(xs: &[i64]) -> Moments {
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.observe(x));
        m
    }

    #[test]
    fn mean_and_m2_match_the_textbook() {
        let m = moments(&[2, 4, 4, 4, 5, 5, 7, 9]);
        assert_eq!(m.n, 8);
        assert_eq!(m.mean(), Some(5.0));
        assert_eq!(m.m2(), Some(32.0));
        assert_eq!(Moments::default().mean(), None);
        assert_eq!(moments(&[-3]).m2(), Some(0.0));
    }

    #[test]
    fn large_values_with_a_small_spread_keep_their_variance() {
        let base = 1_000_000_000_000i64;
        let m = moments(&[base - 1, base, base + 1]);
        assert_eq!(m.m2(), Some(2.0));
    }

    #[test]
    fn wide_arithmetic() {
        let max = u128::MAX;
        let p = U256::mul(max, max);
        assert_eq!(<(u128, u128)>::from(p), (max - 1, 1));
        assert_eq!(U256::from(5).saturating_sub(U256::from(7)), U256::ZERO);
        let carry = U256::from(max).saturating_add(U256::from(1));
        assert_eq!(<(u128, u128)>::from(carry), (1, 0));
        assert_eq!(carry.saturating_sub(U256::from(1)), U256::from(max));
        assert_eq!(
            U256::from((max, max)).saturating_add(U256::from(1)),
            U256::from((max, max))
        );
    }

    proptest! {
        #[test]
        fn merging_is_exact_in_any_order(
            a in prop::collection::vec(any::<i64>(), 0..20),
            b in prop::collection::vec(any::<i64>(), 0..20),
        ) {
            let (ma, mb) = (moments(&a), moments(&b));
            let mut ab = ma;
            ab.merge(&mb);
            let mut ba = mb;
            ba.merge(&ma);
            prop_assert_eq!(ab, ba);
            let all: Vec<i64> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(ab, moments(&all));
        }

        #[test]
        fn m2_matches_a_two_pass_computation(xs in prop::collection::vec(-1_000_000i64..1_000_000, 1..50)) {
            let n = xs.len() as f64;
            let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
            let expected: f64 = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum();
            let m2 = moments(&xs).m2().unwrap();
            prop_assert!((m2 - expected).abs() <= 1e-9 * expected.max(1.0), "{} vs {}", m2, expected);
        }
    }
}
