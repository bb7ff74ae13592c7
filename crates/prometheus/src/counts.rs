//! The exposed families the provider reads, and the increases of one cohort added up across
//! edges: requests by status class, errors by side, events by name, latency buckets.

use std::collections::BTreeMap;

use rollgate_core::Cohort;
use rollgate_metrics::{Aggregate, ErrorSide, EventStats, RequestCounts, names};

use crate::histogram::whole;

use crate::increase::Increase;

/// An exposed counter family (see `docs/metrics.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Family {
    /// `rollgate_requests_total{code_class}`.
    Requests,
    /// `rollgate_version_errors_total`.
    VersionErrors,
    /// `rollgate_errors_total{side}`.
    Errors,
    /// `rollgate_events_total{event}`.
    Events,
    /// `rollgate_request_duration_seconds_bucket{le}`.
    DurationBucket,
    /// `rollgate_request_duration_seconds_sum`.
    DurationSum,
    /// `rollgate_request_duration_seconds_count`.
    DurationCount,
}

/// One cohort's increases over the range, added up over its series (every edge).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CohortCounts {
    /// Requests by status class (`2xx`, …, `none`).
    pub(crate) requests: BTreeMap<String, f64>,
    /// 5xx charged to the version.
    pub(crate) version_errors: f64,
    /// Failed requests by side.
    pub(crate) errors: BTreeMap<String, f64>,
    /// Events by name.
    pub(crate) events: BTreeMap<String, f64>,
    /// `(le in seconds, cumulative count)` per bucket series.
    pub(crate) buckets: Vec<(f64, f64)>,
    /// Latency sum, seconds.
    pub(crate) latency_sum: f64,
    /// Latency observations.
    pub(crate) latency_count: f64,
}

impl Family {
    /// Every family, in exposition order.
    pub(crate) const ALL: [Family; 7] = [
        Family::Requests,
        Family::VersionErrors,
        Family::Errors,
        Family::Events,
        Family::DurationBucket,
        Family::DurationSum,
        Family::DurationCount,
    ];

    /// The sample name Prometheus stores (`rollgate_requests_total`).
    pub(crate) fn name(self) -> String {
        match self {
            Family::Requests => format!("{}_total", names::REQUESTS),
            Family::VersionErrors => format!("{}_total", names::VERSION_ERRORS),
            Family::Errors => format!("{}_total", names::ERRORS),
            Family::Events => format!("{}_total", names::EVENTS),
            Family::DurationBucket => format!("{}_bucket", names::REQUEST_DURATION),
            Family::DurationSum => format!("{}_sum", names::REQUEST_DURATION),
            Family::DurationCount => format!("{}_count", names::REQUEST_DURATION),
        }
    }

    fn of(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl CohortCounts {
    /// The counters as the windows would hold them (requests by class and side, events by
    /// name; no latency), for the catalog to compute counts and ratios from.
    pub(crate) fn aggregate(&self) -> Aggregate {
        let get = |map: &BTreeMap<String, f64>, key: &str| map.get(key).map_or(0, |&n| whole(n));
        let mut requests = RequestCounts {
            no_status: get(&self.requests, "none"),
            version_errors: whole(self.version_errors),
            ..RequestCounts::default()
        };
        for (i, slot) in requests.status.iter_mut().enumerate() {
            *slot = get(&self.requests, &format!("{}xx", i + 1));
        }
        for side in ErrorSide::ALL {
            requests.errors[side as usize] = get(&self.errors, side.as_str());
        }
        requests.requests = self.requests.values().map(|&n| whole(n)).sum();
        let mut aggregate = Aggregate::default();
        aggregate.stats.requests = requests;
        for (name, &n) in &self.events {
            let event = EventStats {
                count: whole(n),
                ..EventStats::default()
            };
            aggregate.stats.events.insert(name.as_str().into(), event);
        }
        aggregate
    }

    /// Adds one counter's increase.
    fn add(&mut self, family: Family, labels: &BTreeMap<String, String>, value: f64) {
        let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
        match family {
            Family::Requests => {
                *self.requests.entry(label(names::CODE_CLASS)).or_default() += value
            }
            Family::VersionErrors => self.version_errors += value,
            Family::Errors => *self.errors.entry(label(names::SIDE)).or_default() += value,
            Family::Events => *self.events.entry(label(names::EVENT)).or_default() += value,
            Family::DurationBucket => {
                if let Ok(le) = label("le").parse::<f64>() {
                    self.buckets.push((le, value));
                }
            }
            Family::DurationSum => self.latency_sum += value,
            Family::DurationCount => self.latency_count += value,
        }
    }
}

/// The increases of each of `cohorts`, keeping only series of the version that serves the
/// cohort (`version_of`). Series of other families, cohorts or versions are ignored.
pub(crate) fn by_cohort(
    increases: &[Increase],
    cohorts: &[Cohort],
    version_of: impl Fn(Cohort) -> String,
) -> BTreeMap<Cohort, CohortCounts> {
    let mut out: BTreeMap<Cohort, CohortCounts> = cohorts
        .iter()
        .map(|&c| (c, CohortCounts::default()))
        .collect();
    let versions: BTreeMap<Cohort, String> = cohorts.iter().map(|&c| (c, version_of(c))).collect();
    for inc in increases {
        let get = |name: &str| inc.labels.get(name).map(String::as_str);
        let Some(family) = get("__name__").and_then(Family::of) else {
            continue;
        };
        let Some(cohort) = get(names::COHORT).and_then(Cohort::parse) else {
            continue;
        };
        if versions.get(&cohort).map(String::as_str) != get(names::VERSION) {
            continue;
        }
        if let Some(counts) = out.get_mut(&cohort) {
            counts.add(family, &inc.labels, inc.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(name: &str, cohort: &str, version: &str, extra: (&str, &str), value: f64) -> Increase {
        let labels = [
            ("__name__", name),
            ("cohort", cohort),
            ("version", version),
            extra,
        ];
        Increase {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    #[test]
    fn family_names_match_the_exposition() {
        assert_eq!(Family::Requests.name(), "rollgate_requests_total");
        assert_eq!(
            Family::DurationBucket.name(),
            "rollgate_request_duration_seconds_bucket"
        );
        assert_eq!(
            Family::of("rollgate_version_errors_total"),
            Some(Family::VersionErrors)
        );
        assert_eq!(Family::of("rollgate_response_bytes_total"), None);
    }

    #[test]
    fn adds_each_cohorts_series_of_its_version_only() {
        let r = "rollgate_requests_total";
        let incs = [
            inc(r, "canary", "v2", ("code_class", "2xx"), 10.0),
            inc(r, "canary", "v2", ("code_class", "2xx"), 5.0),
            inc(r, "canary", "v2", ("code_class", "5xx"), 1.0),
            inc(r, "canary", "v1", ("code_class", "2xx"), 100.0),
            inc(r, "baseline", "v1", ("code_class", "2xx"), 7.0),
            inc(r, "stable", "v1", ("code_class", "2xx"), 9.0),
            inc(
                "rollgate_request_duration_seconds_bucket",
                "canary",
                "v2",
                ("le", "+Inf"),
                16.0,
            ),
            inc(
                "rollgate_events_total",
                "canary",
                "v2",
                ("event", "click"),
                3.0,
            ),
            inc("other_total", "canary", "v2", ("x", "y"), 1.0),
        ];
        let cohorts = [Cohort::Canary, Cohort::Baseline];
        let version = |c| if c == Cohort::Canary { "v2" } else { "v1" }.to_string();
        let counts = by_cohort(&incs, &cohorts, version);
        assert_eq!(counts.len(), 2, "stable was not asked for");
        let canary = &counts[&Cohort::Canary];
        assert_eq!(canary.requests["2xx"], 15.0);
        assert_eq!(canary.requests["5xx"], 1.0);
        assert_eq!(canary.buckets, [(f64::INFINITY, 16.0)]);
        assert_eq!(canary.events["click"], 3.0);
        assert_eq!(counts[&Cohort::Baseline].requests["2xx"], 7.0);
    }
}
