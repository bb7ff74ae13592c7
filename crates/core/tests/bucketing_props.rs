//! Statistical and structural properties of bucketing V1 and cohorts: uniform, monotone in the
//! weight (last in, first out), independent across salts.
//!
//! The statistical tests use a fixed proptest seed so they are reproducible; each one still
//! fails when the property breaks (a biased or correlated hash gives p-values far below 0.001).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rollgate_core::{BucketingVersion, Cohort, Ppm, bucket};
use statrs::distribution::{ChiSquared, ContinuousCDF};

const SIGNIFICANCE: f64 = 0.001;

fn b(salt: &str, unit: &str) -> u32 {
    bucket(BucketingVersion::V1, salt, unit)
}

/// The p-value of a chi-square goodness-of-fit test of `counts` against equal expected counts.
fn uniform_p_value(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let expected = n as f64 / counts.len() as f64;
    let stat: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    ChiSquared::new((counts.len() - 1) as f64).unwrap().sf(stat)
}

/// The p-value of a chi-square test of independence on a 2×2 table.
fn independence_p_value(t: [[u64; 2]; 2]) -> f64 {
    let n = (t[0][0] + t[0][1] + t[1][0] + t[1][1]) as f64;
    let row = [(t[0][0] + t[0][1]) as f64, (t[1][0] + t[1][1]) as f64];
    let col = [(t[0][0] + t[1][0]) as f64, (t[0][1] + t[1][1]) as f64];
    let mut stat = 0.0;
    for i in 0..2 {
        for j in 0..2 {
            let e = row[i] * col[j] / n;
            stat += (t[i][j] as f64 - e).powi(2) / e;
        }
    }
    ChiSquared::new(1.0).unwrap().sf(stat)
}

fn fixed(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5EED_0001),
        failure_persistence: None,
        ..Config::default()
    }
}

#[test]
fn the_chi_square_helpers_detect_bias() {
    // Guards the guards: a skewed histogram and a correlated table must fail.
    let skewed: Vec<u64> = (0..100)
        .map(|i| if i % 2 == 0 { 950 } else { 1_050 })
        .collect();
    assert!(uniform_p_value(&skewed) < SIGNIFICANCE);
    assert!(uniform_p_value(&[1_000; 100]) > 0.99);
    assert!(independence_p_value([[600, 400], [400, 600]]) < SIGNIFICANCE);
    assert!(independence_p_value([[250, 250], [250, 250]]) > 0.99);
}

proptest! {
    #![proptest_config(fixed(3))]

    /// A million sequential ids spread evenly over 1,000 equal bucket ranges.
    #[test]
    fn a_million_ids_are_uniform(salt in "[a-z0-9.:-]{1,24}") {
        let mut counts = vec![0u64; 1_000];
        for i in 0..1_000_000u32 {
            counts[(b(&salt, &format!("user-{i}")) / 1_000) as usize] += 1;
        }
        let p = uniform_p_value(&counts);
        prop_assert!(p > SIGNIFICANCE, "salt {salt:?}: p = {p}");
    }
}

proptest! {
    #![proptest_config(fixed(16))]

    /// Whether a unit is in the canary of one rollout says nothing about another rollout.
    #[test]
    fn salts_are_independent(
        salt_a in "[a-z0-9-]{1,16}",
        salt_b in "[a-z0-9-]{1,16}",
        wa in 50_000u32..950_000,
        wb in 50_000u32..950_000,
    ) {
        prop_assume!(salt_a != salt_b);
        let mut t = [[0u64; 2]; 2];
        for i in 0..100_000u32 {
            let unit = format!("{i:x}");
            let a = usize::from(b(&salt_a, &unit) < wa);
            let bb = usize::from(b(&salt_b, &unit) < wb);
            t[a][bb] += 1;
        }
        let p = independence_p_value(t);
        prop_assert!(p > SIGNIFICANCE, "{salt_a:?} vs {salt_b:?} at {wa}/{wb}: {t:?}, p = {p}");
    }

    /// Raising the weight only adds units to the canary; lowering it removes the units that
    /// joined last (last in, first out).
    #[test]
    fn ramps_are_monotone_and_last_in_first_out(
        salt in "[a-z0-9-]{1,16}",
        mut steps in proptest::collection::vec(0u32..=1_000_000, 2..8),
    ) {
        steps.sort_unstable();
        let units: Vec<String> = (0..5_000).map(|i| format!("u{i}")).collect();
        // The ramp step at which each unit first became canary.
        let mut joined: Vec<Option<usize>> = vec![None; units.len()];
        for (k, &w) in steps.iter().enumerate() {
            for (u, unit) in units.iter().enumerate() {
                let canary = Cohort::of_bucket(b(&salt, unit), Ppm::new(w).unwrap()).is_canary();
                match joined[u] {
                    Some(_) => prop_assert!(canary, "raising to {w} removed {unit}"),
                    None if canary => joined[u] = Some(k),
                    None => {}
                }
            }
        }
        // Ramp back down: at step k exactly the units that joined at steps <= k remain.
        for (k, &w) in steps.iter().enumerate().rev() {
            for (u, unit) in units.iter().enumerate() {
                let canary = Cohort::of_bucket(b(&salt, unit), Ppm::new(w).unwrap()).is_canary();
                prop_assert_eq!(canary, joined[u].is_some_and(|j| j <= k), "{} at {}", unit, w);
            }
        }
    }

    /// The baseline is the same size as the canary up to 50%, disjoint from it, and all the
    /// remaining buckets above that.
    #[test]
    fn cohorts_partition_the_buckets(w in 0u32..=1_000_000) {
        let weight = Ppm::new(w).unwrap();
        let sample = [0, 1, w.saturating_sub(1), w, w + 1, 499_999, 500_000, 500_000 + w, 999_999];
        let (canary, baseline) = (u64::from(w), u64::from(w.min(1_000_000 - w.max(500_000))));
        for bucket in sample.into_iter().filter(|&x| x < 1_000_000) {
            let c = Cohort::of_bucket(bucket, weight);
            prop_assert_eq!(c == Cohort::Canary, bucket < w);
            let start = w.max(500_000);
            prop_assert_eq!(c == Cohort::Baseline, bucket >= start && u64::from(bucket - start) < baseline);
        }
        prop_assert!(canary + baseline <= 1_000_000);
        if w <= 500_000 {
            prop_assert_eq!(baseline, canary);
        } else {
            prop_assert_eq!(canary + baseline, 1_000_000);
        }
    }
}
