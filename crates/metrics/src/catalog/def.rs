//! Built metric definitions: what each metric reads from an aggregate, and the built-ins.

use std::sync::Arc;

use crate::record::ErrorSide;
use crate::value::MetricUnit;

/// What a metric computes, resolved against the built-ins and the declared metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricDef {
    /// A count.
    Count(CountSource),
    /// `numerator / denominator`.
    Ratio {
        /// Counted on top.
        numerator: CountSource,
        /// Counted below.
        denominator: CountSource,
    },
    /// The mean of observed values.
    Mean {
        /// Whose values.
        source: ValueSource,
        /// Their unit.
        unit: MetricUnit,
    },
    /// A quantile of observed values.
    Quantile {
        /// Whose values.
        source: ValueSource,
        /// The quantile in `(0, 1)`.
        q: f64,
        /// Their unit.
        unit: MetricUnit,
    },
}

/// Something counted in a window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CountSource {
    /// Every request.
    Requests,
    /// Requests answered with a status of this class (1 to 5).
    StatusClass(u8),
    /// 5xx responses charged to the version (the numerator of `error_rate`).
    VersionErrors,
    /// Requests that failed on this side.
    Errors(ErrorSide),
    /// Client events of this name.
    Event(Arc<str>),
}

/// Observed values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValueSource {
    /// Request latency (reported in milliseconds).
    Latency,
    /// The values of client events of this name.
    Event(Arc<str>),
}

/// The event name that means request latency in `mean` and `quantile` definitions.
pub const LATENCY: &str = "latency";

/// The built-in metrics, always present, in documentation order.
pub fn builtins() -> Vec<(&'static str, MetricDef)> {
    use CountSource::*;
    let quantile = |q| MetricDef::Quantile {
        source: ValueSource::Latency,
        q,
        unit: MetricUnit::DurationMs,
    };
    vec![
        ("requests", MetricDef::Count(Requests)),
        ("http_1xx", MetricDef::Count(StatusClass(1))),
        ("http_2xx", MetricDef::Count(StatusClass(2))),
        ("http_3xx", MetricDef::Count(StatusClass(3))),
        ("http_4xx", MetricDef::Count(StatusClass(4))),
        ("http_5xx", MetricDef::Count(StatusClass(5))),
        ("version_errors", MetricDef::Count(VersionErrors)),
        (
            "upstream_errors",
            MetricDef::Count(Errors(ErrorSide::Upstream)),
        ),
        (
            "downstream_errors",
            MetricDef::Count(Errors(ErrorSide::Downstream)),
        ),
        ("proxy_errors", MetricDef::Count(Errors(ErrorSide::Proxy))),
        (
            "error_rate",
            MetricDef::Ratio {
                numerator: VersionErrors,
                denominator: Requests,
            },
        ),
        ("p50_latency", quantile(0.5)),
        ("p90_latency", quantile(0.9)),
        ("p95_latency", quantile(0.95)),
        ("p99_latency", quantile(0.99)),
        ("p999_latency", quantile(0.999)),
        (
            "avg_latency",
            MetricDef::Mean {
                source: ValueSource::Latency,
                unit: MetricUnit::DurationMs,
            },
        ),
    ]
}

impl MetricDef {
    /// The unit of the metric's values.
    pub fn unit(&self) -> MetricUnit {
        match self {
            MetricDef::Count(_) => MetricUnit::Count,
            MetricDef::Ratio { .. } => MetricUnit::Ratio,
            MetricDef::Mean { unit, .. } | MetricDef::Quantile { unit, .. } => *unit,
        }
    }

    /// A word for error messages: `a count`, `a ratio`, `a mean`, `a quantile`.
    pub fn kind(&self) -> &'static str {
        match self {
            MetricDef::Count(_) => "a count",
            MetricDef::Ratio { .. } => "a ratio",
            MetricDef::Mean { .. } => "a mean",
            MetricDef::Quantile { .. } => "a quantile",
        }
    }
}
