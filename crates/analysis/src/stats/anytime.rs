//! The always-valid (anytime-valid) normal-mixture boundary that every sequential statistic
//! in this crate is built on.
//!
//! For an asymptotically normal estimator `θ̂ₜ` with standard error `seₜ` after `t`
//! observations, the one-sided bounds
//!
//! ```text
//! θ̂ₜ ± seₜ · sqrt( (tρ²+1)/(tρ²) · 2·ln(1 + sqrt(tρ²+1) / (2α)) )
//! ```
//!
//! each hold for **all** `t` at once with probability `≥ 1 − α` (asymptotically), so they may be
//! checked after every window without inflating the false-alarm rate. This is the one-sided
//! normal-mixture boundary of Howard, Ramdas, McAuliffe & Sekhon (2021, *Ann. Statist.* 49(2),
//! "Time-uniform, nonparametric, nonasymptotic confidence sequences", closed form of the
//! one-sided mixture) used as an asymptotic confidence sequence as in Waudby-Smith, Arbour,
//! Sinha, Kennedy & Ramdas (2024, *Ann. Statist.*, "Time-uniform central limit theory and
//! asymptotic confidence sequences"). With a normal mixing distribution it is the same
//! statistic as the mixture SPRT of Johari, Koomen, Pekelis & Walsh (2017, "Peeking at A/B
//! tests"; mixing variance `τ² = 1/(ρ²·t)` on the effect scale).

use serde::{Deserialize, Serialize};

use super::StatsError;

/// The level and tuning of an always-valid boundary.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anytime {
    alpha: f64,
    design_samples: f64,
    rho2: f64,
}

/// What a sequential test concluded about one estimator at the current look.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialTest {
    /// The point estimate `θ̂`.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Observations behind it (the boundary's clock `t`).
    pub samples: u64,
    /// `θ̂ / se`.
    pub z: f64,
    /// One-sided lower confidence bound: `θ ≥ lower` at level `1 − α`, uniformly over time.
    pub lower: f64,
    /// One-sided upper confidence bound: `θ ≤ upper` at level `1 − α`, uniformly over time.
    pub upper: f64,
    /// Always-valid p-value against `θ ≤ 0` (small: evidence that `θ > 0`).
    pub p_above: f64,
    /// Always-valid p-value against `θ ≥ 0` (small: evidence that `θ < 0`).
    pub p_below: f64,
}

impl Anytime {
    /// The default false-alarm rate.
    pub const DEFAULT_ALPHA: f64 = 0.01;
    /// The default design sample size: the boundary is tightest near this many observations
    /// (summed over the samples a statistic reads) and widens only logarithmically after it.
    pub const DEFAULT_DESIGN_SAMPLES: f64 = 1_000.0;

    /// A boundary with false-alarm rate `alpha` (in `(0, 0.5)`), tightest near
    /// `design_samples` observations.
    pub fn new(alpha: f64, design_samples: f64) -> Result<Anytime, StatsError> {
        if !(alpha > 0.0 && alpha < 0.5) {
            return Err(StatsError::InvalidAlpha(alpha));
        }
        if !(design_samples.is_finite() && design_samples > 0.0) {
            return Err(StatsError::InvalidDesign(design_samples));
        }
        // Waudby-Smith et al. (2024), eq. for the ρ that minimises the width at t*.
        let l = -2.0 * alpha.ln();
        let rho2 = (l + (l + 1.0).ln()) / design_samples;
        Ok(Anytime {
            alpha,
            design_samples,
            rho2,
        })
    }

    /// The false-alarm rate.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The design sample size.
    pub fn design_samples(&self) -> f64 {
        self.design_samples
    }

    /// The same boundary at a stricter level `alpha / k` (Bonferroni over `k` statistics).
    pub fn split(&self, k: usize) -> Anytime {
        let k = k.max(1) as f64;
        Anytime::new(self.alpha / k, self.design_samples).unwrap_or(*self)
    }

    /// How many standard errors wide the one-sided bound is after `samples` observations.
    pub fn multiplier(&self, samples: f64) -> f64 {
        let v = samples * self.rho2;
        if v <= 0.0 {
            return f64::INFINITY;
        }
        let root = (v + 1.0).sqrt();
        ((v + 1.0) / v * 2.0 * (root / (2.0 * self.alpha)).ln_1p()).sqrt()
    }

    /// The always-valid p-value against `θ ≤ 0` for a standardised estimate `z = θ̂/se` after
    /// `samples` observations: the smallest α at which the lower bound excludes 0.
    pub fn p_value(&self, z: f64, samples: f64) -> f64 {
        let v = samples * self.rho2;
        if z.is_nan() || z <= 0.0 || v <= 0.0 {
            return 1.0;
        }
        let x = z * z * v / (2.0 * (v + 1.0));
        if x > 50.0 {
            // e^x − 1 = e^x to double precision; stay in logs so tiny p-values do not overflow.
            return (0.5 * (v + 1.0).ln() - std::f64::consts::LN_2 - x).exp();
        }
        ((v + 1.0).sqrt() / (2.0 * x.exp_m1())).min(1.0)
    }

    /// Tests the estimate against 0 at the current look: bounds and both one-sided p-values.
    pub fn test(&self, estimate: &super::Estimate) -> SequentialTest {
        let se = estimate.std_error();
        let t = estimate.samples as f64;
        let z = if se > 0.0 {
            estimate.value / se
        } else if estimate.value > 0.0 {
            f64::INFINITY
        } else if estimate.value < 0.0 {
            f64::NEG_INFINITY
        } else {
            0.0
        };
        let radius = if se > 0.0 {
            se * self.multiplier(t)
        } else {
            0.0
        };
        SequentialTest {
            estimate: estimate.value,
            std_error: se,
            samples: estimate.samples,
            z,
            lower: estimate.value - radius,
            upper: estimate.value + radius,
            p_above: self.p_value(z, t),
            p_below: self.p_value(-z, t),
        }
    }
}

impl Default for Anytime {
    fn default() -> Anytime {
        let l = -2.0 * Anytime::DEFAULT_ALPHA.ln();
        Anytime {
            alpha: Anytime::DEFAULT_ALPHA,
            design_samples: Anytime::DEFAULT_DESIGN_SAMPLES,
            rho2: (l + (l + 1.0).ln()) / Anytime::DEFAULT_DESIGN_SAMPLES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Estimate;

    #[test]
    fn rejects_bad_parameters() {
        assert!(Anytime::new(0.0, 100.0).is_err());
        assert!(Anytime::new(0.5, 100.0).is_err());
        assert!(Anytime::new(f64::NAN, 100.0).is_err());
        assert!(Anytime::new(0.01, 0.0).is_err());
        assert!(Anytime::new(0.01, f64::INFINITY).is_err());
    }

    #[test]
    fn default_matches_new() {
        let made = Anytime::new(Anytime::DEFAULT_ALPHA, Anytime::DEFAULT_DESIGN_SAMPLES);
        assert_eq!(made, Ok(Anytime::default()));
    }

    #[test]
    fn p_value_and_bound_agree() {
        let a = Anytime::new(0.01, 500.0).unwrap();
        for t in [10.0, 500.0, 1e5] {
            let m = a.multiplier(t);
            // At z exactly on the boundary the p-value is alpha.
            assert!((a.p_value(m, t) - 0.01).abs() < 1e-12, "t={t}");
            assert!(a.p_value(m * 1.01, t) < 0.01);
            assert!(a.p_value(m * 0.99, t) > 0.01);
        }
    }

    #[test]
    fn boundary_is_wider_than_fixed_sample_and_grows_slowly() {
        let a = Anytime::default();
        // A fixed-sample one-sided 1% z is 2.326; always-valid must be wider everywhere.
        for t in [1.0, 100.0, 1e3, 1e4, 1e6] {
            assert!(a.multiplier(t) > 2.326);
        }
        assert!(a.multiplier(1e6) < 2.0 * a.multiplier(1e3));
    }

    #[test]
    fn split_is_stricter() {
        let a = Anytime::default();
        assert!(a.split(3).multiplier(1e3) > a.multiplier(1e3));
        assert_eq!(a.split(0), a.split(1));
        assert_eq!(a.split(1), a);
    }

    #[test]
    fn zero_error_is_certain() {
        let a = Anytime::default();
        let e = Estimate {
            value: 0.5,
            variance: 0.0,
            samples: 10,
        };
        let t = a.test(&e);
        assert_eq!(
            (t.lower, t.upper, t.p_above, t.p_below),
            (0.5, 0.5, 0.0, 1.0)
        );
    }
}
