//! A mergeable quantile sketch over non-negative integers with bounded relative error.
//!
//! This is a DDSketch (Masson, Rim, Lee: "DDSketch: A Fast and Fully-Mergeable Quantile
//! Sketch with Relative-Error Guarantees", VLDB 2019) with the paper's fast
//! *linearly interpolated* logarithmic mapping over base 2: a value's bin is its binary
//! exponent and its next [`SUB_BITS`] mantissa bits, so finding a bin is a leading-zero count
//! and a shift (no logarithm). Values below 128 have a bin each and are exact; above that a
//! bin spans less than 1/64 of its lower bound, and the bin's representative value is within
//! [`RELATIVE_ACCURACY`] (0.78%) of every value in the bin.
//!
//! Bins are integer counts, so merging is exact, associative and commutative: sketches from
//! many threads, edges or replays give the same bins in any order.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Mantissa bits kept per binary order of magnitude: 64 bins per power of two.
pub const SUB_BITS: u32 = 6;

/// The largest relative error of a value reported by a sketch against the exact value at the
/// same rank: `1 / 128`.
pub const RELATIVE_ACCURACY: f64 = 1.0 / 128.0;

/// The largest bin index (the bin of `u64::MAX`).
pub const MAX_INDEX: u16 = 3775;

/// The bin a value falls in.
#[inline]
pub fn bin_index(v: u64) -> u16 {
    let exponent = 63 - (v | 1).leading_zeros();
    let shift = exponent.saturating_sub(SUB_BITS);
    // At most 57 * 64 + 127 = 3775, so the cast cannot truncate.
    ((u64::from(shift) << SUB_BITS) + (v >> shift)) as u16
}

/// The smallest and largest value (inclusive) that fall in bin `index`.
pub fn bin_bounds(index: u16) -> (u64, u64) {
    let index = u64::from(index.min(MAX_INDEX));
    let shift = (index >> SUB_BITS).saturating_sub(1);
    let mantissa = index - (shift << SUB_BITS);
    let lo = mantissa << shift;
    let hi = ((u128::from(mantissa) + 1) << shift) - 1;
    (lo, u64::try_from(hi).unwrap_or(u64::MAX))
}

/// The value a bin reports: the point with the smallest largest relative error over the bin,
/// `2·lo·hi / (lo + hi)`.
pub fn bin_value(index: u16) -> f64 {
    let (lo, hi) = bin_bounds(index);
    if lo == hi {
        return lo as f64;
    }
    let (lo, hi) = (lo as f64, hi as f64);
    2.0 * lo * hi / (lo + hi)
}

/// A sketch as sorted, non-empty `(bin, count)` pairs: the compact form kept in closed
/// windows and sent over the wire (`[[bin, count], …]`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(u16, u64)>", into = "Vec<(u16, u64)>")]
pub struct Sketch {
    bins: Vec<(u16, u64)>,
    count: u64,
}

/// Why a sketch from the wire was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("sketch bin {0} is out of range (the largest bin is {MAX_INDEX})")]
pub struct BinOutOfRange(pub u16);

/// A sketch being filled: counts for a contiguous range of bins, grown on demand. Inserting is
/// an index computation and an increment; [`DenseSketch::to_sketch`] compacts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DenseSketch {
    offset: u16,
    counts: Vec<u64>,
    count: u64,
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Sketch {
        Sketch::default()
    }

    /// A sketch of the given values (for tests and small inputs; the hot path uses
    /// [`DenseSketch`]).
    pub fn of(values: impl IntoIterator<Item = u64>) -> Sketch {
        let mut dense = DenseSketch::new();
        values.into_iter().for_each(|v| dense.insert(v));
        dense.to_sketch()
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The non-empty bins, ascending.
    pub fn bins(&self) -> &[(u16, u64)] {
        &self.bins
    }

    /// `(representative value, count)` per non-empty bin, ascending by value.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = (f64, u64)> + '_ {
        self.bins.iter().map(|&(i, c)| (bin_value(i), c))
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Sketch) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            self.clone_from(other);
            return;
        }
        let mut merged = Vec::with_capacity(self.bins.len() + other.bins.len());
        let (mut a, mut b) = (self.bins.iter().peekable(), other.bins.iter().peekable());
        while let (Some(&&(ia, ca)), Some(&&(ib, cb))) = (a.peek(), b.peek()) {
            if ia == ib {
                merged.push((ia, ca.saturating_add(cb)));
                a.next();
                b.next();
            } else if ia < ib {
                merged.push((ia, ca));
                a.next();
            } else {
                merged.push((ib, cb));
                b.next();
            }
        }
        merged.extend(a);
        merged.extend(b);
        self.bins = merged;
        self.count = self.count.saturating_add(other.count);
    }

    /// The value at quantile `q` in `[0, 1]`: the representative of the bin holding rank
    /// `⌊q·(n − 1)⌋`, within [`RELATIVE_ACCURACY`] of the exact value at that rank. `None` for
    /// an empty sketch or a `q` outside `[0, 1]`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.is_empty() || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        let mut seen = 0;
        for &(index, count) in &self.bins {
            seen = count.saturating_add(seen);
            if seen > rank {
                return Some(bin_value(index));
            }
        }
        self.bins.last().map(|&(index, _)| bin_value(index))
    }
}

impl fmt::Debug for Sketch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sketch(n={}, {} bins)", self.count, self.bins.len())
    }
}

impl TryFrom<Vec<(u16, u64)>> for Sketch {
    type Error = BinOutOfRange;

    /// Accepts bins in any order, adds up repeated bins and drops empty ones.
    fn try_from(mut bins: Vec<(u16, u64)>) -> Result<Sketch, BinOutOfRange> {
        if let Some(&(bad, _)) = bins.iter().find(|(i, _)| *i > MAX_INDEX) {
            return Err(BinOutOfRange(bad));
        }
        bins.sort_unstable_by_key(|&(i, _)| i);
        let mut out: Vec<(u16, u64)> = Vec::with_capacity(bins.len());
        for (index, count) in bins.into_iter().filter(|&(_, c)| c > 0) {
            match out.last_mut() {
                Some((last, c)) if *last == index => *c = c.saturating_add(count),
                _ => out.push((index, count)),
            }
        }
        let count = out.iter().fold(0u64, |n, &(_, c)| n.saturating_add(c));
        Ok(Sketch { bins: out, count })
    }
}

impl From<Sketch> for Vec<(u16, u64)> {
    fn from(s: Sketch) -> Vec<(u16, u64)> {
        s.bins
    }
}

impl DenseSketch {
    /// An empty sketch.
    pub fn new() -> DenseSketch {
        DenseSketch::default()
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Records one value.
    #[inline]
    pub fn insert(&mut self, v: u64) {
        self.add(bin_index(v), 1);
    }

    /// Adds `count` to bin `index`.
    #[inline]
    pub fn add(&mut self, index: u16, count: u64) {
        let slot = usize::from(index.wrapping_sub(self.offset));
        if index >= self.offset && slot < self.counts.len() {
            self.counts[slot] = self.counts[slot].saturating_add(count);
        } else {
            self.grow_to(index);
            let slot = usize::from(index - self.offset);
            self.counts[slot] = self.counts[slot].saturating_add(count);
        }
        self.count = self.count.saturating_add(count);
    }

    /// Adds every value of a compact sketch.
    pub fn merge(&mut self, other: &Sketch) {
        for &(index, count) in other.bins() {
            self.add(index, count);
        }
    }

    /// The compact form.
    pub fn to_sketch(&self) -> Sketch {
        let bins = (self.counts.iter().enumerate())
            .filter(|&(_, &c)| c > 0)
            .map(|(slot, &c)| (self.offset + slot as u16, c))
            .collect();
        Sketch {
            bins,
            count: self.count,
        }
    }

    #[cold]
    fn grow_to(&mut self, index: u16) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(0);
        } else if index < self.offset {
            let extra = usize::from(self.offset - index);
            self.counts.splice(0..0, std::iter::repeat_n(0, extra));
            self.offset = index;
        } else {
            self.counts.resize(usize::from(index - self.offset) + 1, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_exact_and_bins_are_contiguous() {
        for v in 0..128 {
            assert_eq!(bin_index(v), v as u16);
            assert_eq!(bin_bounds(v as u16), (v, v));
        }
        let mut prev_hi = 127;
        for index in 128..=MAX_INDEX {
            let (lo, hi) = bin_bounds(index);
            assert_eq!(
                lo,
                prev_hi + 1,
                "bin {index} starts where {} ended",
                index - 1
            );
            assert_eq!(bin_index(lo), index);
            assert_eq!(bin_index(hi), index);
            prev_hi = hi;
        }
        assert_eq!(prev_hi, u64::MAX);
        assert_eq!(bin_index(u64::MAX), MAX_INDEX);
    }

    #[test]
    fn representative_is_within_relative_accuracy_of_its_bin() {
        for index in 0..=MAX_INDEX {
            let (lo, hi) = bin_bounds(index);
            let r = bin_value(index);
            for v in [lo, hi] {
                let v = v as f64;
                assert!(
                    (r - v).abs() <= RELATIVE_ACCURACY * v.max(1.0),
                    "bin {index}: {r} vs {v}"
                );
            }
        }
    }

    #[test]
    fn quantiles_of_a_small_exact_sample() {
        let s = Sketch::of([1, 2, 3, 4]);
        assert_eq!(s.count(), 4);
        assert_eq!(s.quantile(0.0), Some(1.0));
        assert_eq!(s.quantile(0.5), Some(2.0));
        assert_eq!(s.quantile(0.99), Some(3.0));
        assert_eq!(s.quantile(1.0), Some(4.0));
        assert_eq!(s.quantile(1.5), None);
        assert_eq!(s.quantile(f64::NAN), None);
        assert_eq!(Sketch::new().quantile(0.5), None);
    }

    #[test]
    fn dense_and_sparse_merges_agree() {
        let a = Sketch::of([5, 500, 50_000, 5_000_000]);
        let b = Sketch::of([7, 500, 70_000]);
        let mut merged = a.clone();
        merged.merge(&b);
        let mut dense = DenseSketch::new();
        dense.merge(&b);
        dense.merge(&a);
        assert_eq!(dense.to_sketch(), merged);
        assert_eq!(
            merged,
            Sketch::of([5, 7, 500, 500, 50_000, 70_000, 5_000_000])
        );
        assert_eq!(merged.count(), 7);
    }

    #[test]
    fn wire_form_is_bin_pairs_and_is_checked() {
        let s = Sketch::of([3, 3, 1000]);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("[[3,2],[{},1]]", bin_index(1000)));
        assert_eq!(serde_json::from_str::<Sketch>(&json).unwrap(), s);
        let unsorted: Sketch = serde_json::from_str("[[9,1],[3,1],[3,1],[4,0]]").unwrap();
        assert_eq!(unsorted, Sketch::of([3, 3, 9]));
        assert!(serde_json::from_str::<Sketch>("[[4000,1]]").is_err());
    }
}
