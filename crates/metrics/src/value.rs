//! The value of one metric for one cohort over a range of windows, with the sufficient
//! statistics the analysis needs to judge it (not just a number).

use serde::{Deserialize, Serialize};

/// What a metric measures, which decides how the condition language types it and how a value
/// is shown: `error_rate` is a ratio (`5%`), `p99_latency` a duration (`120ms`), `requests` a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricUnit {
    /// A fraction in `[0, 1]`, written as a percentage in conditions (`5%`).
    Ratio,
    /// A duration, carried in milliseconds (`200ms`, `1.5s` in conditions).
    DurationMs,
    /// A number of things (requests, events).
    Count,
    /// A plain number without a unit.
    Number,
}

/// One metric for one cohort over a window range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The value in the metric's unit (a fraction for ratios, milliseconds for durations);
    /// `None` when there is no data (no requests, a zero denominator).
    pub value: Option<f64>,
    /// The sample size behind the value: trials for a ratio, observations for a mean or a
    /// quantile, the count itself for a counter.
    pub samples: u64,
    /// The sufficient statistics the statistical tests use.
    pub stats: SufficientStats,
}

/// The data behind a value, by kind of metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SufficientStats {
    /// A counter: exact, no uncertainty.
    Count {
        /// How many.
        count: u64,
    },
    /// A ratio of two counters, `numerator / denominator` (`http_5xx / requests`).
    /// When every numerator event is also a denominator event it is a binomial proportion.
    Ratio {
        /// Events counted on top (errors, conversions).
        numerator: u64,
        /// Events counted below (requests, exposures).
        denominator: u64,
    },
    /// A mean of observed values, with Welford's running moments.
    Mean {
        /// Number of observations.
        n: u64,
        /// Their mean.
        mean: f64,
        /// Sum of squared deviations from the mean (variance is `m2 / (n - 1)`).
        m2: f64,
    },
    /// A quantile of a distribution, with the distribution as weighted bins so rank tests
    /// (Mann-Whitney U) can compare two cohorts.
    Distribution {
        /// The quantile in `(0, 1)` this value reports (`0.99` for p99).
        quantile: f64,
        /// `(representative value, count)` per non-empty bin, ascending by value.
        bins: Vec<(f64, u64)>,
    },
}

impl MetricValue {
    /// A value with no data at all.
    pub fn missing(stats: SufficientStats) -> MetricValue {
        MetricValue {
            value: None,
            samples: 0,
            stats,
        }
    }
}
