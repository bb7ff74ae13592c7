//! A catalog like the example config's, and an environment backed by a map.

use std::collections::HashMap;

use rollgate_expr::{Catalog, Env, Interval, MetricUnit, Scope};

/// The metrics of `examples/rollgate.toml` (a few built-ins and the two business metrics).
pub fn catalog() -> Catalog {
    [
        ("requests", MetricUnit::Count),
        ("http_5xx", MetricUnit::Count),
        ("error_rate", MetricUnit::Ratio),
        ("p99_latency", MetricUnit::DurationMs),
        ("conversion_rate", MetricUnit::Ratio),
        ("avg_page_load_ms", MetricUnit::DurationMs),
        ("apdex", MetricUnit::Number),
    ]
    .into_iter()
    .collect()
}

/// The conditions of issue #5, all well typed against [`catalog`].
pub const EXAMPLES: [&str; 5] = [
    "error_rate > 5%",
    "p99_latency > 1.5 * baseline.p99_latency",
    "conversion_rate < baseline.conversion_rate - 2%",
    "error_rate > 1% and requests > 500",
    "avg_page_load_ms - baseline.avg_page_load_ms > 200ms",
];

/// Metric values by cohort and name.
#[derive(Clone, Debug, Default)]
pub struct MapEnv(pub HashMap<(Scope, String), Interval>);

impl MapEnv {
    pub fn with(mut self, scope: Scope, metric: &str, value: Interval) -> MapEnv {
        self.0.insert((scope, metric.to_owned()), value);
        self
    }
}

impl Env for MapEnv {
    fn value(&self, scope: Scope, metric: &str) -> Option<Interval> {
        self.0.get(&(scope, metric.to_owned())).copied()
    }
}

pub fn iv(lo: f64, est: f64, hi: f64) -> Interval {
    Interval::new(lo, est, hi).unwrap()
}
