//! The statistics, as pure functions of sufficient statistics: always-valid confidence
//! sequences and sequential tests, Welch's t-test, Mann-Whitney U, chi-square goodness of fit
//! and quantile bounds.

mod anytime;
mod chi_square;
mod error;
mod estimate;
mod mann_whitney;
mod quantile;
mod welch;

pub use anytime::{Anytime, SequentialTest};
pub use chi_square::{ChiSquare, chi_square_gof};
pub use error::StatsError;
pub use estimate::Estimate;
pub use mann_whitney::{MannWhitney, mann_whitney, mann_whitney_bins};
pub use quantile::{QuantileBounds, quantile_bounds};
pub use welch::{Moments, Welch, welch};

/// The standard normal survival function `P(Z > z)`, accurate in the far tail.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}
