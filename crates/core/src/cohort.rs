//! Cohorts: which slice of a rollout's buckets a unit falls in.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Ppm;

/// Where the matched baseline starts when the canary is at most half of the traffic.
pub const BASELINE_START: u32 = 500_000;

/// The population a unit belongs to in a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    /// Buckets `[0, w)`: served by the canary version.
    Canary,
    /// A slice of stable traffic the same size as the canary cohort, served by the stable
    /// version: the population the canary is compared with.
    Baseline,
    /// Everyone else, including units outside the audience and forced by an override.
    Stable,
}

impl Cohort {
    /// Every cohort.
    pub const ALL: [Cohort; 3] = [Cohort::Canary, Cohort::Baseline, Cohort::Stable];

    /// The name used in metrics labels, the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Cohort::Canary => "canary",
            Cohort::Baseline => "baseline",
            Cohort::Stable => "stable",
        }
    }

    /// Parses the name used in the API.
    pub fn parse(s: &str) -> Option<Cohort> {
        Cohort::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The cohort of `bucket` (in `[0, 1_000_000)`) when the canary weight is `weight`.
    ///
    /// Canary is `[0, w)`. The baseline is `[b, b + min(w, 1_000_000 - b))` with
    /// `b = max(500_000, w)`: the same size as the canary while the canary is at most 50%, and
    /// all the remaining buckets above that. Lowering the weight removes the highest canary
    /// buckets first, so the units added last leave first.
    pub fn of_bucket(bucket: u32, weight: Ppm) -> Cohort {
        let w = weight.get();
        if bucket < w {
            return Cohort::Canary;
        }
        let start = BASELINE_START.max(w);
        let len = w.min(Ppm::SCALE - start);
        if bucket >= start && bucket - start < len {
            Cohort::Baseline
        } else {
            Cohort::Stable
        }
    }

    /// True for the cohort served by the canary version.
    pub fn is_canary(self) -> bool {
        self == Cohort::Canary
    }
}

impl fmt::Display for Cohort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(ppm: u32) -> Ppm {
        Ppm::new(ppm).unwrap()
    }

    #[test]
    fn small_canary_has_matched_baseline() {
        assert_eq!(Cohort::of_bucket(0, w(100)), Cohort::Canary);
        assert_eq!(Cohort::of_bucket(99, w(100)), Cohort::Canary);
        assert_eq!(Cohort::of_bucket(100, w(100)), Cohort::Stable);
        assert_eq!(Cohort::of_bucket(499_999, w(100)), Cohort::Stable);
        assert_eq!(Cohort::of_bucket(500_000, w(100)), Cohort::Baseline);
        assert_eq!(Cohort::of_bucket(500_099, w(100)), Cohort::Baseline);
        assert_eq!(Cohort::of_bucket(500_100, w(100)), Cohort::Stable);
    }

    #[test]
    fn one_ppm_and_zero() {
        assert_eq!(Cohort::of_bucket(0, w(1)), Cohort::Canary);
        assert_eq!(Cohort::of_bucket(1, w(1)), Cohort::Stable);
        assert_eq!(Cohort::of_bucket(500_000, w(1)), Cohort::Baseline);
        assert_eq!(Cohort::of_bucket(500_001, w(1)), Cohort::Stable);
        for b in [0, 500_000, 999_999] {
            assert_eq!(Cohort::of_bucket(b, Ppm::ZERO), Cohort::Stable);
        }
    }

    #[test]
    fn above_half_the_baseline_is_the_rest() {
        let weight = w(700_000);
        assert_eq!(Cohort::of_bucket(699_999, weight), Cohort::Canary);
        assert_eq!(Cohort::of_bucket(700_000, weight), Cohort::Baseline);
        assert_eq!(Cohort::of_bucket(999_999, weight), Cohort::Baseline);
        assert_eq!(Cohort::of_bucket(999_999, Ppm::FULL), Cohort::Canary);
        assert_eq!(Cohort::of_bucket(499_999, w(500_000)), Cohort::Canary);
        assert_eq!(Cohort::of_bucket(500_000, w(500_000)), Cohort::Baseline);
        assert_eq!(Cohort::of_bucket(999_999, w(500_000)), Cohort::Baseline);
    }

    #[test]
    fn names_round_trip() {
        for c in Cohort::ALL {
            assert_eq!(Cohort::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
    }
}
