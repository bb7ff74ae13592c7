//! Asymptotically normal estimators (proportions, means, linear combinations of them) that the
//! sequential tests judge.

use serde::{Deserialize, Serialize};

/// An estimate with the variance of the estimator and the observations behind it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// The (estimated) variance of the point estimate, not of one observation.
    pub variance: f64,
    /// Observations behind the estimate.
    pub samples: u64,
}

impl Estimate {
    /// A proportion `successes / trials`; `None` without trials.
    ///
    /// The variance is the binomial `p̃(1 − p̃)/n` evaluated at `p̃ = (x + ½)/(n + 1)` rather than
    /// at `x/n`, so a cohort that has seen no errors yet does not claim zero uncertainty. When
    /// the numerator can exceed the denominator (several conversions per exposure) the ratio is
    /// a rate and the Poisson variance `p̃/n` is used.
    pub fn proportion(successes: u64, trials: u64) -> Option<Estimate> {
        if trials == 0 {
            return None;
        }
        let (x, n) = (successes as f64, trials as f64);
        let smoothed = (x + 0.5) / (n + 1.0);
        let per_observation = if successes <= trials {
            smoothed * (1.0 - smoothed)
        } else {
            smoothed
        };
        Some(Estimate {
            value: x / n,
            variance: per_observation / n,
            samples: trials,
        })
    }

    /// A mean from Welford moments (`m2` is the sum of squared deviations); `None` with fewer
    /// than two observations or non-finite moments.
    pub fn mean(n: u64, mean: f64, m2: f64) -> Option<Estimate> {
        if n < 2 || !mean.is_finite() || !m2.is_finite() || m2 < 0.0 {
            return None;
        }
        let nf = n as f64;
        Some(Estimate {
            value: mean,
            variance: m2 / (nf - 1.0) / nf,
            samples: n,
        })
    }

    /// `Σ coefᵢ·estimateᵢ + constant` for independent estimates: the variances add with the
    /// squared coefficients and the observations add up (terms with a zero coefficient are
    /// ignored).
    pub fn linear(terms: &[(f64, Estimate)], constant: f64) -> Estimate {
        terms.iter().filter(|(coef, _)| *coef != 0.0).fold(
            Estimate {
                value: constant,
                variance: 0.0,
                samples: 0,
            },
            |acc, (coef, e)| Estimate {
                value: acc.value + coef * e.value,
                variance: acc.variance + coef * coef * e.variance,
                samples: acc.samples + e.samples,
            },
        )
    }

    /// The standard error of the estimate.
    pub fn std_error(&self) -> f64 {
        self.variance.max(0.0).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportion_is_smoothed_but_centred() {
        let e = Estimate::proportion(0, 400).unwrap();
        assert_eq!(e.value, 0.0);
        assert!(e.variance > 0.0);
        let e = Estimate::proportion(50, 1000).unwrap();
        assert_eq!(e.value, 0.05);
        let exact = 0.05 * 0.95 / 1000.0;
        assert!((e.variance - exact).abs() / exact < 0.01);
        assert!(Estimate::proportion(3, 0).is_none());
    }

    #[test]
    fn rates_above_one_use_poisson_variance() {
        let e = Estimate::proportion(300, 100).unwrap();
        assert_eq!(e.value, 3.0);
        assert!((e.variance - (300.5 / 101.0) / 100.0).abs() < 1e-12);
    }

    #[test]
    fn mean_needs_two_observations() {
        assert!(Estimate::mean(1, 3.0, 0.0).is_none());
        assert!(Estimate::mean(5, f64::NAN, 1.0).is_none());
        let e = Estimate::mean(5, 3.0, 8.0).unwrap();
        assert_eq!(e.variance, 8.0 / 4.0 / 5.0);
    }

    #[test]
    fn linear_adds_variances() {
        let a = Estimate {
            value: 0.1,
            variance: 1e-4,
            samples: 100,
        };
        let b = Estimate {
            value: 0.05,
            variance: 4e-4,
            samples: 50,
        };
        let d = Estimate::linear(&[(1.0, a), (-2.0, b), (3.0, a)], -0.01);
        assert!((d.value - (0.1 - 0.1 + 0.3 - 0.01)).abs() < 1e-12);
        assert!((d.variance - (1e-4 + 4.0 * 4e-4 + 9e-4)).abs() < 1e-15);
        assert_eq!(d.samples, 250);
        assert_eq!(Estimate::linear(&[(0.0, a)], 1.0).samples, 0);
    }
}
