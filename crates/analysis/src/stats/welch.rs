//! Welch's unequal-variance t-test for a difference of means (fixed-sample).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::StatsError;

/// Sample moments of one sample: size, mean and the sum of squared deviations (Welford's `m2`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of observations.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean; the sample variance is `m2 / (n − 1)`.
    pub m2: f64,
}

/// The result of Welch's t-test of sample `a` against sample `b`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welch {
    /// `mean(a) − mean(b)`.
    pub mean_difference: f64,
    /// Standard error of the difference.
    pub std_error: f64,
    /// The t statistic.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// p-value against "the means are equal", two-sided.
    pub p_two_sided: f64,
    /// p-value for the alternative `mean(a) > mean(b)`.
    pub p_greater: f64,
    /// p-value for the alternative `mean(a) < mean(b)`.
    pub p_less: f64,
}

impl Moments {
    /// The sample variance `m2 / (n − 1)`.
    pub fn variance(&self) -> f64 {
        self.m2 / (self.n as f64 - 1.0)
    }

    fn check(&self) -> Result<(), StatsError> {
        if self.n < 2 {
            return Err(StatsError::TooFewSamples {
                needed: 2,
                got: self.n,
            });
        }
        if !self.mean.is_finite() || !self.m2.is_finite() || self.m2 < 0.0 {
            return Err(StatsError::NonFinite("sample moments"));
        }
        Ok(())
    }
}

/// Welch's t-test of `a` against `b` (as `scipy.stats.ttest_ind(a, b, equal_var=False)`).
pub fn welch(a: &Moments, b: &Moments) -> Result<Welch, StatsError> {
    a.check()?;
    b.check()?;
    let va = a.variance() / a.n as f64;
    let vb = b.variance() / b.n as f64;
    let var = va + vb;
    if var <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let df = var * var / (va * va / (a.n as f64 - 1.0) + vb * vb / (b.n as f64 - 1.0));
    let se = var.sqrt();
    let diff = a.mean - b.mean;
    let t = diff / se;
    let dist =
        StudentsT::new(0.0, 1.0, df).map_err(|_| StatsError::NonFinite("degrees of freedom"))?;
    let p_greater = dist.sf(t);
    let p_less = dist.cdf(t);
    Ok(Welch {
        mean_difference: diff,
        std_error: se,
        t,
        df,
        p_two_sided: (2.0 * dist.sf(t.abs())).min(1.0),
        p_greater,
        p_less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> Moments {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum();
        Moments {
            n: xs.len() as u64,
            mean,
            m2,
        }
    }

    #[test]
    fn textbook_example() {
        // scipy.stats.ttest_ind([1,2,3,4,5], [2,4,6,8,10,12], equal_var=False)
        let w = welch(
            &moments(&[1.0, 2.0, 3.0, 4.0, 5.0]),
            &moments(&[2.0, 4.0, 6.0, 8.0, 10.0, 12.0]),
        )
        .unwrap();
        assert!((w.t - -2.3763541031440183).abs() < 1e-12, "{}", w.t);
        assert!((w.df - 6.972255729794934).abs() < 1e-9, "{}", w.df);
        assert!((w.p_two_sided - 0.04928433820673053).abs() < 1e-9);
        assert!((w.p_greater + w.p_less - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_degenerate_samples() {
        let one = Moments {
            n: 1,
            mean: 1.0,
            m2: 0.0,
        };
        let flat = Moments {
            n: 3,
            mean: 1.0,
            m2: 0.0,
        };
        assert!(matches!(
            welch(&one, &flat),
            Err(StatsError::TooFewSamples { .. })
        ));
        assert_eq!(welch(&flat, &flat), Err(StatsError::ZeroVariance));
    }
}
