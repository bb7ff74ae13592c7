//! [`PrometheusProvider`]: the control plane's [`MetricProvider`] over a Prometheus server.
//!
//! One query per rollout and instant: a selector of the families the asked metrics read,
//! limited to the rollout's series (`service`, `rollout`) and the configured matchers, e.g.
//! `{__name__=~"rollgate_requests_total|rollgate_version_errors_total",service="shop",rollout="shop-v2",job="rollgate-edge"}`.
//! It is evaluated at `from` and at `to` (concurrently), and each counter's difference
//! (`increase.rs`) is added up per cohort, keeping each cohort's series of the version that
//! serves it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use rollgate_analysis::{CohortMetrics, RolloutMetrics};
use rollgate_config::PrometheusSpec;
use rollgate_control::{MetricProvider, MetricQuery, ProviderError};
use rollgate_core::model::UnixMillis;
use rollgate_metrics::{Catalog, names};

use crate::api::{Api, Sample, unix_seconds};
use crate::compute::{compute, families};
use crate::counts::{Family, by_cohort};
use crate::error::{BuildError, BuildProblem, QueryError};
use crate::increase::increases;
use crate::promql::{is_label_name, selector};

/// The name errors and logs give this provider.
const PROVIDER: &str = "prometheus";

/// Labels of the exposition: the provider selects on them itself (or reads them), so a
/// configured matcher may not narrow them.
const RESERVED: [&str; 9] = [
    "__name__",
    "le",
    names::SERVICE,
    names::ROLLOUT,
    names::VERSION,
    names::COHORT,
    names::CODE_CLASS,
    names::SIDE,
    names::EVENT,
];

/// Reads rollout metrics from a Prometheus server that scrapes the edges' `/metrics`.
#[derive(Clone, Debug)]
pub struct PrometheusProvider {
    api: Api,
    catalog: Arc<Catalog>,
    matchers: Vec<(String, String)>,
}

impl PrometheusProvider {
    /// A provider for the `[control.provider.prometheus]` settings, computing the metrics
    /// of `catalog`. Nothing is asked of the server yet: an unreachable server is an error
    /// of each query (the rollout holds), not of start-up. Logs one warning naming the
    /// metrics Prometheus cannot answer ([`PrometheusProvider::unsupported`]).
    pub fn new(
        spec: &PrometheusSpec,
        catalog: Arc<Catalog>,
    ) -> Result<PrometheusProvider, BuildError> {
        let mut problems = Vec::new();
        for name in spec.matchers.keys() {
            if !is_label_name(name) {
                problems.push(BuildProblem::LabelName { name: name.clone() });
            } else if RESERVED.contains(&name.as_str()) {
                problems.push(BuildProblem::ReservedLabel { name: name.clone() });
            }
        }
        let api = Api::new(&spec.url, spec.timeout.get()).map_err(|p| problems.push(p));
        let api = match api {
            Ok(api) if problems.is_empty() => api,
            _ => return Err(BuildError { problems }),
        };
        let provider = PrometheusProvider {
            api,
            catalog,
            matchers: spec
                .matchers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let unsupported = provider.unsupported();
        if !unsupported.is_empty() {
            tracing::warn!(
                metrics = %unsupported.join(", "),
                "Prometheus does not have the values of client events: these metrics are missing data with the prometheus provider, and conditions on them stay unknown"
            );
        }
        Ok(provider)
    }

    /// The catalog's metrics this provider cannot compute (means and quantiles of client
    /// event values, which `/metrics` does not expose); they are always missing data.
    pub fn unsupported(&self) -> Vec<&str> {
        self.catalog
            .names()
            .filter(|name| {
                self.catalog
                    .get(name)
                    .is_some_and(|d| families(d).is_none())
            })
            .collect()
    }

    /// The PromQL selector `query` is answered with (evaluated at `from` and at `to`);
    /// `None` when none of its metrics reads anything from Prometheus.
    pub fn promql(&self, query: &MetricQuery) -> Option<String> {
        let wanted: BTreeSet<Family> = query
            .metrics
            .iter()
            .filter_map(|m| self.catalog.get(m))
            .filter_map(families)
            .flatten()
            .collect();
        if wanted.is_empty() {
            return None;
        }
        let names: Vec<String> = wanted.into_iter().map(Family::name).collect();
        let mut matchers = vec![
            (names::SERVICE.to_string(), query.service.clone()),
            (names::ROLLOUT.to_string(), query.rollout.clone()),
        ];
        matchers.extend(self.matchers.iter().cloned());
        Some(selector(&names, &matchers))
    }

    async fn instant(&self, promql: &str, at: UnixMillis) -> Result<Vec<Sample>, ProviderError> {
        let started = Instant::now();
        let answer = self.api.instant(promql, at).await;
        tracing::debug!(query = %promql, time = %unix_seconds(at), elapsed_ms = started.elapsed().as_millis(), ok = answer.is_ok(), "Prometheus query");
        answer.map_err(|e| failed(promql, at, &e))
    }
}

#[async_trait]
impl MetricProvider for PrometheusProvider {
    async fn rollout_metrics(&self, query: &MetricQuery) -> Result<RolloutMetrics, ProviderError> {
        let mut doc = query.empty_document();
        for name in &query.metrics {
            if let Some(unit) = self.catalog.unit(name) {
                doc.units.insert(name.clone(), unit);
            }
        }
        let increases = match self.promql(query) {
            Some(promql) => {
                let (before, after) = tokio::try_join!(
                    self.instant(&promql, query.from),
                    self.instant(&promql, query.to)
                )?;
                let inc = increases(&before, after);
                if inc.resets > 0 || inc.unusable > 0 {
                    tracing::info!(rollout = %query.rollout, resets = inc.resets, unusable = inc.unusable, "counters reset (an edge restarted) or unusable samples within the range: counts are lower bounds");
                }
                inc.series
            }
            None => Vec::new(),
        };
        let counts = by_cohort(&increases, &query.cohorts, |c| {
            query.version_of(c).to_string()
        });
        for (cohort, counts) in counts {
            let metrics = query
                .metrics
                .iter()
                .filter_map(|m| Some((m.clone(), compute(&self.catalog, m, &counts)?)))
                .collect();
            let version = query.version_of(cohort).to_string();
            doc.cohorts
                .insert(cohort, CohortMetrics { version, metrics });
        }
        Ok(doc)
    }
}

/// The error of a failed query: the query, the instant and what went wrong.
fn failed(promql: &str, at: UnixMillis, e: &QueryError) -> ProviderError {
    ProviderError {
        provider: PROVIDER.to_string(),
        reason: format!("query `{promql}` at {}: {e}", unix_seconds(at)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use rollgate_core::{Cohort, DurationSpec, Ppm};

    use super::*;

    fn spec(url: &str, matchers: &[(&str, &str)]) -> PrometheusSpec {
        PrometheusSpec {
            url: url.into(),
            timeout: DurationSpec::from_millis(300),
            matchers: matchers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn query(metrics: &[&str]) -> MetricQuery {
        MetricQuery {
            rollout: "shop-v2".into(),
            service: "shop".into(),
            stable: "v1".into(),
            canary: "v2".into(),
            weight: Ppm::percent(10),
            cohorts: vec![Cohort::Canary, Cohort::Baseline],
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            from: 1_700_000_000_000,
            to: 1_700_000_060_000,
        }
    }

    fn builtin(url: &str) -> PrometheusProvider {
        PrometheusProvider::new(&spec(url, &[("job", "edge")]), Arc::new(Catalog::builtin()))
            .unwrap()
    }

    #[test]
    fn the_selector_reads_only_what_the_metrics_need() {
        let p = builtin("http://127.0.0.1:1");
        assert_eq!(
            p.promql(&query(&["requests", "http_5xx"])).unwrap(),
            r#"rollgate_requests_total{service="shop",rollout="shop-v2",job="edge"}"#
        );
        assert_eq!(
            p.promql(&query(&["error_rate", "p99_latency", "nope"]))
                .unwrap(),
            r#"{__name__=~"rollgate_requests_total|rollgate_version_errors_total|rollgate_request_duration_seconds_bucket",service="shop",rollout="shop-v2",job="edge"}"#
        );
        assert_eq!(p.promql(&query(&["nope"])), None);
    }

    #[test]
    fn settings_are_checked_whole() {
        let err = PrometheusProvider::new(
            &spec("prometheus:9090", &[("rollout", "x"), ("bad-name", "y")]),
            Arc::new(Catalog::builtin()),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("matchers.bad-name: not a Prometheus label name"),
            "{text}"
        );
        assert!(
            text.contains("matchers.rollout: a label of rollgate's own series"),
            "{text}"
        );
        assert!(
            text.contains(r#"url: "prometheus:9090" is not a usable URL"#),
            "{text}"
        );
    }

    #[test]
    fn event_values_are_listed_as_unsupported() {
        let catalog = crate::compute::tests::event_mean_catalog();
        let p =
            PrometheusProvider::new(&spec("http://127.0.0.1:1", &[]), Arc::new(catalog)).unwrap();
        assert_eq!(p.unsupported(), ["avg_page_load_ms"]);
    }

    #[tokio::test]
    async fn a_server_that_refuses_connections_is_an_error_naming_the_query() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = builtin(&format!("http://{addr}"))
            .rollout_metrics(&query(&["requests"]))
            .await
            .unwrap_err();
        assert_eq!(err.provider, "prometheus");
        assert!(err.reason.starts_with(r#"query `rollgate_requests_total{service="shop",rollout="shop-v2",job="edge"}` at 17000000"#), "{err}");
        assert!(err.reason.contains("cannot reach Prometheus"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts connections and reads nothing: the request is sent, no answer comes.
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                open.push(s);
            }
        });
        let started = Instant::now();
        let err = builtin(&format!("http://{addr}"))
            .rollout_metrics(&query(&["requests"]))
            .await
            .unwrap_err();
        held.abort();
        assert!(
            err.reason
                .ends_with("no answer within 300 ms (control.provider.prometheus.timeout)"),
            "{err}"
        );
        assert!(
            started.elapsed().as_millis() < 3_000,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_query_of_nothing_prometheus_answers_asks_nothing() {
        // The URL is unreachable: an answer proves no request was made.
        let p = builtin("http://127.0.0.1:1");
        let doc = p.rollout_metrics(&query(&["nope"])).await.unwrap();
        assert_eq!(doc.cohorts.len(), 2);
        assert!(doc.cohorts.values().all(|c| c.metrics.is_empty()));
    }
}
