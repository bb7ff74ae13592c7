//! `RolloutMetrics`: the metric values of every cohort of a rollout over a time range. It is
//! what `GET /api/v1/rollouts/{id}/metrics` returns and what `rollgate analyze FILE` reads.

use std::collections::BTreeMap;

use rollgate_core::model::UnixMillis;
use rollgate_core::{Cohort, Ppm};
use rollgate_expr::{Catalog, Scope};
use rollgate_metrics::{MetricUnit, MetricValue, SufficientStats};
use serde::{Deserialize, Serialize};

/// Per-cohort metric values of one rollout over `[from, to)`, cumulative over the range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutMetrics {
    /// The rollout's name.
    pub rollout: String,
    /// Start of the range, Unix milliseconds.
    pub from: UnixMillis,
    /// End of the range (exclusive), Unix milliseconds.
    pub to: UnixMillis,
    /// The canary weight over the range (`"10%"`), which sets the expected canary : baseline
    /// split of the sample-ratio-mismatch check.
    pub weight: Ppm,
    /// The unit of each metric (`"error_rate": "ratio"`). Optional: a metric not listed is a
    /// ratio, count or duration by the kind of its statistics (a mean is a duration when its
    /// name ends in `_latency` or `_ms`, a plain number otherwise).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub units: BTreeMap<String, MetricUnit>,
    /// The cohorts: `canary`, `baseline` (the matched slice of stable traffic) and `stable`.
    pub cohorts: BTreeMap<Cohort, CohortMetrics>,
}

/// The metric values of one cohort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortMetrics {
    /// The version that served the cohort (`v1.2`).
    pub version: String,
    /// Metric name → value with its sufficient statistics.
    pub metrics: BTreeMap<String, MetricValue>,
}

/// The cohort a condition's scope reads.
pub fn cohort_of(scope: Scope) -> Cohort {
    match scope {
        Scope::Canary => Cohort::Canary,
        Scope::Baseline => Cohort::Baseline,
        Scope::Stable => Cohort::Stable,
    }
}

impl RolloutMetrics {
    /// A document for `rollout` at `weight` over `[from, to)` with no cohorts yet.
    pub fn new(
        rollout: impl Into<String>,
        weight: Ppm,
        from: UnixMillis,
        to: UnixMillis,
    ) -> RolloutMetrics {
        RolloutMetrics {
            rollout: rollout.into(),
            from,
            to,
            weight,
            units: BTreeMap::new(),
            cohorts: BTreeMap::new(),
        }
    }

    /// Sets `metric` of `cohort`, creating the cohort (served by `version`) when it is new.
    pub fn insert(
        &mut self,
        cohort: Cohort,
        version: &str,
        metric: impl Into<String>,
        value: MetricValue,
    ) {
        self.cohorts
            .entry(cohort)
            .or_insert_with(|| CohortMetrics {
                version: version.to_owned(),
                metrics: BTreeMap::new(),
            })
            .metrics
            .insert(metric.into(), value);
    }

    /// The same document with `metric` of `cohort` set (builder style).
    pub fn with(
        mut self,
        cohort: Cohort,
        version: &str,
        metric: impl Into<String>,
        value: MetricValue,
    ) -> RolloutMetrics {
        self.insert(cohort, version, metric, value);
        self
    }

    /// The value of `metric` in `cohort`, if the document has it.
    pub fn value(&self, cohort: Cohort, metric: &str) -> Option<&MetricValue> {
        self.cohorts.get(&cohort)?.metrics.get(metric)
    }

    /// The unit of `metric`: declared in `units`, or inferred from its statistics in any cohort.
    pub fn unit(&self, metric: &str) -> Option<MetricUnit> {
        if let Some(unit) = self.units.get(metric) {
            return Some(*unit);
        }
        let value = self.cohorts.values().find_map(|c| c.metrics.get(metric))?;
        Some(match value.stats {
            SufficientStats::Count { .. } => MetricUnit::Count,
            SufficientStats::Ratio { .. } => MetricUnit::Ratio,
            SufficientStats::Distribution { .. } => MetricUnit::DurationMs,
            SufficientStats::Mean { .. }
                if metric.ends_with("_latency") || metric.ends_with("_ms") =>
            {
                MetricUnit::DurationMs
            }
            SufficientStats::Mean { .. } => MetricUnit::Number,
        })
    }

    /// A catalog of every metric in the document, for checking conditions offline.
    pub fn catalog(&self) -> Catalog {
        let names: std::collections::BTreeSet<&str> = self
            .units
            .keys()
            .map(String::as_str)
            .chain(
                self.cohorts
                    .values()
                    .flat_map(|c| c.metrics.keys().map(String::as_str)),
            )
            .collect();
        names
            .into_iter()
            .filter_map(|name| Some((name, self.unit(name)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const DOC: &str = r#"{
        "rollout": "shop-v1.2", "from": 1700000000000, "to": 1700000060000, "weight": "10%",
        "units": {"avg_page_load": "duration_ms"},
        "cohorts": {
            "canary": {"version": "v1.2", "metrics": {
                "error_rate": {"value": 0.05, "samples": 100, "stats": {"kind": "ratio", "numerator": 5, "denominator": 100}},
                "avg_latency": {"value": 12.0, "samples": 3, "stats": {"kind": "mean", "n": 3, "mean": 12.0, "m2": 2.0}},
                "avg_page_load": {"value": 12.0, "samples": 3, "stats": {"kind": "mean", "n": 3, "mean": 12.0, "m2": 2.0}},
                "score": {"value": 1.0, "samples": 3, "stats": {"kind": "mean", "n": 3, "mean": 1.0, "m2": 2.0}},
                "requests": {"value": 100, "samples": 100, "stats": {"kind": "count", "count": 100}}
            }},
            "baseline": {"version": "v1.1", "metrics": {
                "p99_latency": {"value": 80.0, "samples": 2, "stats": {"kind": "distribution", "quantile": 0.99, "bins": [[10.0, 1], [80.0, 1]]}}
            }}
        }
    }"#;

    #[test]
    fn parses_and_infers_units() {
        let doc: RolloutMetrics = serde_json::from_str(DOC).unwrap();
        assert_eq!(doc.weight, "10%".parse().unwrap());
        assert_eq!(
            doc.value(Cohort::Canary, "error_rate").unwrap().samples,
            100
        );
        assert!(doc.value(Cohort::Stable, "error_rate").is_none());
        let units: Vec<_> = [
            "error_rate",
            "avg_latency",
            "avg_page_load",
            "score",
            "requests",
            "p99_latency",
        ]
        .iter()
        .map(|m| doc.unit(m).unwrap())
        .collect();
        use MetricUnit::*;
        assert_eq!(
            units,
            [Ratio, DurationMs, DurationMs, Number, Count, DurationMs]
        );
        assert_eq!(doc.catalog().len(), 6);
    }

    #[test]
    fn builds_documents() {
        let v = |n: u64| MetricValue {
            value: Some(n as f64),
            samples: n,
            stats: SufficientStats::Count { count: n },
        };
        let doc = RolloutMetrics::new("r", Ppm::percent(5), 0, 1000)
            .with(Cohort::Canary, "v2", "requests", v(3))
            .with(Cohort::Canary, "ignored", "errors", v(1))
            .with(Cohort::Baseline, "v1", "requests", v(4));
        assert_eq!(doc.cohorts[&Cohort::Canary].version, "v2");
        assert_eq!(doc.value(Cohort::Canary, "errors").unwrap().samples, 1);
        assert_eq!(doc.value(Cohort::Baseline, "requests").unwrap().samples, 4);
    }

    #[test]
    fn round_trips_through_json() {
        let doc: RolloutMetrics = serde_json::from_str(DOC).unwrap();
        let again: RolloutMetrics =
            serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
        assert_eq!(doc, again);
    }
}
