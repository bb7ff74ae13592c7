//! A measured value with its confidence interval, and arithmetic that keeps the bounds sound.

use serde::{Deserialize, Serialize};

/// A point estimate with a confidence interval, `lo <= est <= hi`, in the metric's base unit
/// (a fraction for ratios, milliseconds for durations). An exact value has `lo == est == hi`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The lower bound.
    pub lo: f64,
    /// The point estimate.
    pub est: f64,
    /// The upper bound.
    pub hi: f64,
}

impl Interval {
    /// An exact value.
    pub fn exact(value: f64) -> Interval {
        Interval {
            lo: value,
            est: value,
            hi: value,
        }
    }

    /// An estimate with bounds; `None` unless `lo <= est <= hi` and none is NaN
    /// (infinite bounds are allowed: `[0, x, ∞)` is a one-sided interval).
    pub fn new(lo: f64, est: f64, hi: f64) -> Option<Interval> {
        Interval { lo, est, hi }.valid()
    }

    /// `self` if it is a well-formed interval, `None` otherwise.
    pub fn valid(self) -> Option<Interval> {
        (self.lo <= self.est && self.est <= self.hi).then_some(self)
    }

    /// The point estimate as an exact value (what `eval_point` works with).
    pub fn point(self) -> Interval {
        Interval::exact(self.est)
    }
}

impl std::ops::Neg for Interval {
    type Output = Interval;

    /// `-self`: the bounds swap.
    fn neg(self) -> Interval {
        Interval {
            lo: -self.hi,
            est: -self.est,
            hi: -self.lo,
        }
    }
}

impl Interval {
    /// `self + other`; `None` when a bound is undefined (`∞ - ∞`).
    pub fn checked_add(self, other: Interval) -> Option<Interval> {
        Interval {
            lo: self.lo + other.lo,
            est: self.est + other.est,
            hi: self.hi + other.hi,
        }
        .valid()
    }

    /// `self - other`; `None` when a bound is undefined.
    pub fn checked_sub(self, other: Interval) -> Option<Interval> {
        self.checked_add(-other)
    }

    /// `self * other`: the bounds are the extremes of the four products of bounds.
    pub fn checked_mul(self, other: Interval) -> Option<Interval> {
        let (a, b) = (self, other);
        let products = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
        hull(products, a.est * b.est)
    }

    /// `self / other`; `None` (unknown) when `other` may be zero.
    pub fn checked_div(self, other: Interval) -> Option<Interval> {
        if other.lo <= 0.0 && other.hi >= 0.0 {
            return None;
        }
        let (a, b) = (self, other);
        let quotients = [a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi];
        hull(quotients, a.est / b.est)
    }
}

/// The interval spanning `bounds` with `est` inside it; `None` when a bound is undefined.
fn hull(bounds: [f64; 4], est: f64) -> Option<Interval> {
    if bounds.iter().any(|x| x.is_nan()) {
        return None;
    }
    let lo = bounds.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = bounds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Interval {
        lo,
        est: est.clamp(lo, hi),
        hi,
    }
    .valid()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn iv(lo: f64, est: f64, hi: f64) -> Interval {
        Interval::new(lo, est, hi).unwrap()
    }

    #[test]
    fn construction_rejects_malformed_intervals() {
        assert!(Interval::new(1.0, 0.5, 2.0).is_none());
        assert!(Interval::new(f64::NAN, 0.0, 1.0).is_none());
        assert!(Interval::new(0.0, 1.0, f64::INFINITY).is_some());
        assert_eq!(Interval::exact(3.0), iv(3.0, 3.0, 3.0));
    }

    #[test]
    fn addition_and_subtraction() {
        assert_eq!(
            iv(1.0, 2.0, 3.0).checked_add(iv(10.0, 20.0, 30.0)),
            Some(iv(11.0, 22.0, 33.0))
        );
        assert_eq!(
            iv(1.0, 2.0, 3.0).checked_sub(iv(10.0, 20.0, 30.0)),
            Some(iv(-29.0, -18.0, -7.0))
        );
        let open = iv(0.0, 1.0, f64::INFINITY);
        assert_eq!(
            open.checked_sub(open),
            Some(iv(f64::NEG_INFINITY, 0.0, f64::INFINITY))
        );
        let inf = Interval::exact(f64::INFINITY);
        assert_eq!(inf.checked_sub(inf), None, "∞ - ∞ is undefined");
    }

    #[test]
    fn multiplication_takes_signs_into_account() {
        assert_eq!(
            iv(1.0, 2.0, 3.0).checked_mul(iv(4.0, 5.0, 6.0)),
            Some(iv(4.0, 10.0, 18.0))
        );
        assert_eq!(
            iv(-1.0, 2.0, 3.0).checked_mul(iv(4.0, 5.0, 6.0)),
            Some(iv(-6.0, 10.0, 18.0))
        );
        assert_eq!(
            iv(-3.0, -2.0, -1.0).checked_mul(iv(-6.0, -5.0, -4.0)),
            Some(iv(4.0, 10.0, 18.0))
        );
        assert_eq!(
            iv(-2.0, 0.0, 3.0).checked_mul(iv(-5.0, 1.0, 4.0)),
            Some(iv(-15.0, 0.0, 12.0))
        );
        assert_eq!(
            iv(0.0, 0.0, 0.0).checked_mul(iv(0.0, 1.0, f64::INFINITY)),
            None,
            "0 · ∞"
        );
    }

    #[test]
    fn division_by_an_interval_around_zero_is_unknown() {
        assert_eq!(
            iv(1.0, 2.0, 4.0).checked_div(iv(2.0, 2.0, 4.0)),
            Some(iv(0.25, 1.0, 2.0))
        );
        assert_eq!(
            iv(1.0, 2.0, 4.0).checked_div(iv(-4.0, -2.0, -2.0)),
            Some(iv(-2.0, -1.0, -0.25))
        );
        assert_eq!(iv(1.0, 2.0, 4.0).checked_div(iv(-1.0, 1.0, 2.0)), None);
        assert_eq!(iv(1.0, 2.0, 4.0).checked_div(Interval::exact(0.0)), None);
        assert_eq!(
            iv(1.0, 2.0, 4.0).checked_div(iv(0.0, 1.0, 2.0)),
            None,
            "a bound at zero"
        );
    }

    #[test]
    fn negation_swaps_bounds() {
        assert_eq!(-iv(1.0, 2.0, 5.0), iv(-5.0, -2.0, -1.0));
        assert_eq!(iv(1.0, 2.0, 5.0).point(), Interval::exact(2.0));
    }
}
