//! Where metric values come from: [`Builtin`] reads the windows the edges and the event ingest
//! fill; a Prometheus provider (PromQL over the HTTP API) implements the same trait. A
//! [`ScriptedProvider`] answers from a function, for tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use rollgate_analysis::{CohortMetrics, RolloutMetrics};
use rollgate_core::model::UnixMillis;
use rollgate_core::{Cohort, Ppm};
use rollgate_metrics::{Catalog, SeriesFilter};
use serde::{Deserialize, Serialize};

use crate::windows::Windows;

/// What the control plane asks a provider: the values of `metrics` for each of `cohorts` of a
/// rollout over `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricQuery {
    /// The rollout (series label `rollout`).
    pub rollout: String,
    /// Its service.
    pub service: String,
    /// The stable version (serves the baseline and stable cohorts).
    pub stable: String,
    /// The canary version.
    pub canary: String,
    /// The canary weight over the range.
    pub weight: Ppm,
    /// The cohorts wanted.
    pub cohorts: Vec<Cohort>,
    /// The metric names wanted (from the catalog).
    pub metrics: Vec<String>,
    /// Start of the range (inclusive), a window boundary.
    pub from: UnixMillis,
    /// End of the range (exclusive), a window boundary.
    pub to: UnixMillis,
}

/// A provider could not answer (unreachable, timed out, bad answer). The rollout holds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{provider}: {reason}")]
pub struct ProviderError {
    /// Which provider (`builtin`, `prometheus`).
    pub provider: String,
    /// What went wrong.
    pub reason: String,
}

/// Answers metric queries. Object-safe and async, so a provider may call out over the network.
#[async_trait]
pub trait MetricProvider: Send + Sync {
    /// The per-cohort values of a rollout over a range, as the analysis reads them.
    async fn rollout_metrics(&self, query: &MetricQuery) -> Result<RolloutMetrics, ProviderError>;
}

/// The built-in provider: merges the kept windows and computes metrics with the catalog.
#[derive(Clone, Debug)]
pub struct Builtin {
    windows: Windows,
    catalog: Arc<Catalog>,
}

/// A fake provider answering every query with a function (tests, simulations).
pub struct ScriptedProvider {
    answer: ScriptFn,
}

type ScriptFn = Box<dyn Fn(&MetricQuery) -> Result<RolloutMetrics, ProviderError> + Send + Sync>;

impl MetricQuery {
    /// `metrics` of every cohort of the stored rollout `record`, at its stored weight, over
    /// `[from, to)`.
    pub fn for_record(
        record: &rollgate_store::RolloutRecord,
        metrics: Vec<String>,
        from: UnixMillis,
        to: UnixMillis,
    ) -> MetricQuery {
        MetricQuery {
            rollout: record.name.clone(),
            service: record.service.clone(),
            stable: record.stable.clone(),
            canary: record.canary.clone(),
            weight: record.weight,
            cohorts: vec![Cohort::Canary, Cohort::Baseline, Cohort::Stable],
            metrics,
            from,
            to: to.max(from),
        }
    }

    /// The version that serves `cohort`.
    pub fn version_of(&self, cohort: Cohort) -> &str {
        if cohort == Cohort::Canary {
            &self.canary
        } else {
            &self.stable
        }
    }

    /// The series of `cohort`: this rollout's traffic of that cohort on its version.
    pub fn filter(&self, cohort: Cohort) -> SeriesFilter {
        SeriesFilter::cohort_of(&self.rollout, cohort)
            .with_service(&self.service)
            .with_version(self.version_of(cohort))
    }

    /// An empty document for this query (no cohort has data yet).
    pub fn empty_document(&self) -> RolloutMetrics {
        RolloutMetrics {
            rollout: self.rollout.clone(),
            from: self.from,
            to: self.to,
            weight: self.weight,
            units: BTreeMap::new(),
            cohorts: BTreeMap::new(),
        }
    }
}

impl Builtin {
    /// A provider over `windows`, computing metrics with `catalog`.
    pub fn new(windows: Windows, catalog: Arc<Catalog>) -> Builtin {
        Builtin { windows, catalog }
    }

    /// The answer, computed synchronously (no IO).
    pub fn compute(&self, query: &MetricQuery) -> RolloutMetrics {
        let mut doc = query.empty_document();
        let aggregates: Vec<_> = self.windows.with(|store| {
            query
                .cohorts
                .iter()
                .map(|&c| (c, store.aggregate(&query.filter(c), query.from, query.to)))
                .collect()
        });
        for name in &query.metrics {
            if let Some(unit) = self.catalog.unit(name) {
                doc.units.insert(name.clone(), unit);
            }
        }
        for (cohort, aggregate) in aggregates {
            let metrics = query
                .metrics
                .iter()
                .filter_map(|m| Some((m.clone(), self.catalog.compute(m, &aggregate)?)))
                .collect();
            let version = query.version_of(cohort).to_string();
            doc.cohorts
                .insert(cohort, CohortMetrics { version, metrics });
        }
        doc
    }
}

#[async_trait]
impl MetricProvider for Builtin {
    async fn rollout_metrics(&self, query: &MetricQuery) -> Result<RolloutMetrics, ProviderError> {
        Ok(self.compute(query))
    }
}

impl ScriptedProvider {
    /// Answers every query with `answer`.
    pub fn new(
        answer: impl Fn(&MetricQuery) -> Result<RolloutMetrics, ProviderError> + Send + Sync + 'static,
    ) -> ScriptedProvider {
        ScriptedProvider {
            answer: Box::new(answer),
        }
    }
}

impl std::fmt::Debug for ScriptedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedProvider").finish_non_exhaustive()
    }
}

#[async_trait]
impl MetricProvider for ScriptedProvider {
    async fn rollout_metrics(&self, query: &MetricQuery) -> Result<RolloutMetrics, ProviderError> {
        (self.answer)(query)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_metrics::{Recorder, RecorderConfig, RequestRecord, SeriesKey, StoreConfig};

    use super::*;

    fn query() -> MetricQuery {
        MetricQuery {
            rollout: "r".into(),
            service: "shop".into(),
            stable: "v1".into(),
            canary: "v2".into(),
            weight: Ppm::percent(10),
            cohorts: vec![Cohort::Canary, Cohort::Baseline],
            metrics: vec!["requests".into(), "error_rate".into()],
            from: 0,
            to: 2_000,
        }
    }

    #[test]
    fn builtin_reads_each_cohort_on_its_version() {
        let recorder = Recorder::new(RecorderConfig::default(), []);
        let reg = recorder.registry();
        let canary = reg
            .series(&SeriesKey::new("shop", "r", "v2", Cohort::Canary))
            .unwrap();
        let base = reg
            .series(&SeriesKey::new("shop", "r", "v1", Cohort::Baseline))
            .unwrap();
        let record = |series, status| RequestRecord {
            series,
            status,
            latency_us: 1_000,
            bytes_out: 0,
            error: None,
        };
        recorder.record_request(100, &record(canary, 500));
        recorder.record_request(1_100, &record(canary, 200));
        recorder.record_request(1_200, &record(base, 200));
        let windows = Windows::new(StoreConfig::default());
        let report = windows.insert(recorder.close_until(2_000), 2_000);
        assert_eq!(report.accepted, 2);
        let doc = Builtin::new(windows, Arc::new(Catalog::builtin())).compute(&query());
        let rate = doc.value(Cohort::Canary, "error_rate").unwrap();
        assert_eq!((rate.value, rate.samples), (Some(0.5), 2));
        assert_eq!(doc.value(Cohort::Baseline, "requests").unwrap().samples, 1);
        assert_eq!(doc.cohorts[&Cohort::Baseline].version, "v1");
        assert_eq!(doc.units.len(), 2);
    }
}
