//! Aggregates: the merged numbers of the series that match a filter over a range of windows.
//! Always derived by merging closed windows, never by recomputing from records.

use std::sync::Arc;

use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::record::DropCounts;
use crate::series::SeriesKey;
use crate::sketch::DenseSketch;
use crate::stats::SeriesStats;
use crate::window::Window;

/// Which series an aggregate covers: every part left `None` matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeriesFilter {
    /// Only this service.
    pub service: Option<Arc<str>>,
    /// Only this rollout (`""` for traffic outside any rollout).
    pub rollout: Option<Arc<str>>,
    /// Only this version.
    pub version: Option<Arc<str>>,
    /// Only this cohort.
    pub cohort: Option<Cohort>,
}

/// The merged numbers of the matching series over the windows starting in `[from, to)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// Start of the range (inclusive).
    pub from: UnixMillis,
    /// End of the range (exclusive).
    pub to: UnixMillis,
    /// How many windows had data for the matching series.
    pub windows: u32,
    /// The merged numbers.
    pub stats: SeriesStats,
    /// Records dropped in those windows (for every series: drops have no series).
    pub dropped: DropCounts,
}

impl SeriesFilter {
    /// Matches every series.
    pub fn all() -> SeriesFilter {
        SeriesFilter::default()
    }

    /// Only `rollout`'s traffic in `cohort`: what the analysis compares.
    pub fn cohort_of(rollout: &str, cohort: Cohort) -> SeriesFilter {
        SeriesFilter {
            rollout: Some(rollout.into()),
            cohort: Some(cohort),
            ..SeriesFilter::default()
        }
    }

    /// Also requires `service`.
    pub fn with_service(mut self, service: &str) -> SeriesFilter {
        self.service = Some(service.into());
        self
    }

    /// Also requires `version`.
    pub fn with_version(mut self, version: &str) -> SeriesFilter {
        self.version = Some(version.into());
        self
    }

    /// True when `key` matches.
    pub fn matches(&self, key: &SeriesKey) -> bool {
        let part =
            |want: &Option<Arc<str>>, have: &Arc<str>| want.as_ref().is_none_or(|w| w == have);
        part(&self.service, &key.service)
            && part(&self.rollout, &key.rollout)
            && part(&self.version, &key.version)
            && self.cohort.is_none_or(|c| c == key.cohort)
    }
}

impl Aggregate {
    /// Merges the matching series of the windows that start in `[from, to)`.
    ///
    /// Latency sketches are summed into one dense accumulator, so merging `k` windows costs
    /// their bins once rather than `k` times.
    pub fn of<'a>(
        windows: impl IntoIterator<Item = &'a Window>,
        filter: &SeriesFilter,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Aggregate {
        let mut aggregate = Aggregate {
            from,
            to,
            ..Aggregate::default()
        };
        let mut latency = DenseSketch::new();
        for window in windows
            .into_iter()
            .filter(|w| from <= w.start && w.start < to)
        {
            aggregate.dropped.merge(&window.dropped);
            let mut matched = false;
            for (_, stats) in window.series.iter().filter(|(key, _)| filter.matches(key)) {
                matched = true;
                latency.merge(&stats.latency.sketch);
                aggregate.stats.merge_except_latency_sketch(stats);
            }
            aggregate.windows += u32::from(matched);
        }
        aggregate.stats.latency.sketch = latency.to_sketch();
        aggregate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_by_part() {
        let key = SeriesKey::new("shop", "shop-v1.2", "v1.2", Cohort::Canary);
        assert!(SeriesFilter::all().matches(&key));
        assert!(SeriesFilter::cohort_of("shop-v1.2", Cohort::Canary).matches(&key));
        assert!(!SeriesFilter::cohort_of("shop-v1.2", Cohort::Baseline).matches(&key));
        assert!(
            SeriesFilter::all()
                .with_service("shop")
                .with_version("v1.2")
                .matches(&key)
        );
        assert!(!SeriesFilter::all().with_version("v1.1").matches(&key));
    }
}
