//! Why a statistic could not be computed.

use thiserror::Error;

/// A statistic was asked for on inputs it is not defined for.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum StatsError {
    /// The false-alarm rate must be a probability strictly between 0 and 0.5.
    #[error("false-alarm rate alpha must be in (0, 0.5), got {0}")]
    InvalidAlpha(f64),
    /// The design sample size that tunes a confidence sequence must be positive.
    #[error("design sample size must be a positive number, got {0}")]
    InvalidDesign(f64),
    /// A test needs more observations than it was given.
    #[error("needs at least {needed} observations per sample, got {got}")]
    TooFewSamples {
        /// The minimum the test needs.
        needed: u64,
        /// What it was given.
        got: u64,
    },
    /// An input was NaN or infinite.
    #[error("{0} must be a finite number")]
    NonFinite(&'static str),
    /// A quantile level outside `(0, 1)`.
    #[error("quantile must be in (0, 1), got {0}")]
    InvalidQuantile(f64),
    /// Expected shares for a goodness-of-fit test must be positive, finite and one per
    /// observed count (at least two).
    #[error("expected shares must be positive, finite and one per observed count (at least two)")]
    InvalidShares,
    /// Both samples have zero variance, so the test statistic is undefined.
    #[error("both samples have zero variance")]
    ZeroVariance,
}
