//! Pearson's chi-square goodness-of-fit test: do observed counts match expected shares?
//! Used for the sample-ratio-mismatch check.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::StatsError;

/// The result of a chi-square goodness-of-fit test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// `Σ (observed − expected)² / expected`.
    pub statistic: f64,
    /// Degrees of freedom: categories − 1.
    pub df: u64,
    /// p-value against "the counts follow the expected shares".
    pub p_value: f64,
}

/// Tests `observed` counts against `expected_shares` (any positive weights, normalised here), as
/// `scipy.stats.chisquare(observed, total * shares / sum(shares))`. No observations at all is
/// no evidence of a mismatch (`p = 1`).
pub fn chi_square_gof(observed: &[u64], expected_shares: &[f64]) -> Result<ChiSquare, StatsError> {
    if observed.len() < 2
        || observed.len() != expected_shares.len()
        || expected_shares.iter().any(|w| !(w.is_finite() && *w > 0.0))
    {
        return Err(StatsError::InvalidShares);
    }
    let df = observed.len() as u64 - 1;
    let total: f64 = observed.iter().map(|&o| o as f64).sum();
    if total == 0.0 {
        return Ok(ChiSquare {
            statistic: 0.0,
            df,
            p_value: 1.0,
        });
    }
    let weight: f64 = expected_shares.iter().sum();
    let statistic = observed
        .iter()
        .zip(expected_shares)
        .map(|(&o, &w)| {
            let expected = total * w / weight;
            (o as f64 - expected).powi(2) / expected
        })
        .sum::<f64>();
    let dist = ChiSquared::new(df as f64).map_err(|_| StatsError::InvalidShares)?;
    Ok(ChiSquare {
        statistic,
        df,
        p_value: dist.sf(statistic),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_example() {
        // scipy.stats.chisquare([480, 520, 9000], [500, 500, 9000])
        let r = chi_square_gof(&[480, 520, 9000], &[0.05, 0.05, 0.9]).unwrap();
        assert!((r.statistic - 1.6).abs() < 1e-9);
        assert_eq!(r.df, 2);
        assert!((r.p_value - 0.4493289641172217).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_shares() {
        assert!(chi_square_gof(&[1, 2], &[1.0]).is_err());
        assert!(chi_square_gof(&[1], &[1.0]).is_err());
        assert!(chi_square_gof(&[1, 2], &[1.0, 0.0]).is_err());
        assert!(chi_square_gof(&[1, 2], &[1.0, f64::NAN]).is_err());
    }

    #[test]
    fn empty_is_no_evidence() {
        assert_eq!(chi_square_gof(&[0, 0], &[1.0, 1.0]).unwrap().p_value, 1.0);
    }
}
