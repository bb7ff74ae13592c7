//! Metric values out of one cohort's counts, with the statistics the built-in provider gives
//! where Prometheus has them: counters and ratios exactly, latency quantiles and means from
//! the histogram. Values of client events (`mean`/`quantile` of an event) are not exposed to
//! Prometheus, so those metrics are missing data here.

use rollgate_metrics::{
    Catalog, CountSource, MetricDef, MetricValue, SufficientStats, ValueSource,
};

use crate::counts::{CohortCounts, Family};
use crate::histogram::{Histogram, whole};

/// Seconds to milliseconds.
const MS_PER_S: f64 = 1_000.0;

/// The families `def` reads; `None` when Prometheus cannot answer it (event values).
pub(crate) fn families(def: &MetricDef) -> Option<Vec<Family>> {
    match def {
        MetricDef::Count(source) => Some(vec![family_of(source)]),
        MetricDef::Ratio {
            numerator,
            denominator,
        } => Some(vec![family_of(numerator), family_of(denominator)]),
        MetricDef::Mean {
            source: ValueSource::Latency,
            ..
        } => Some(vec![
            Family::DurationSum,
            Family::DurationCount,
            Family::DurationBucket,
        ]),
        MetricDef::Quantile {
            source: ValueSource::Latency,
            ..
        } => Some(vec![Family::DurationBucket]),
        MetricDef::Mean {
            source: ValueSource::Event(_),
            ..
        }
        | MetricDef::Quantile {
            source: ValueSource::Event(_),
            ..
        } => None,
    }
}

/// The value of metric `name` of `catalog` over one cohort's `counts`; `None` when there is
/// no such metric. Counts and ratios are computed by the catalog itself, over the counters
/// rebuilt as an aggregate, so they mean exactly what the built-in provider's do.
pub(crate) fn compute(catalog: &Catalog, name: &str, counts: &CohortCounts) -> Option<MetricValue> {
    Some(match catalog.get(name)? {
        MetricDef::Count(_) | MetricDef::Ratio { .. } => {
            catalog.compute(name, &counts.aggregate())?
        }
        MetricDef::Mean {
            source: ValueSource::Latency,
            ..
        } => latency_mean(counts),
        MetricDef::Quantile {
            source: ValueSource::Latency,
            q,
            ..
        } => latency_quantile(*q, counts),
        MetricDef::Mean { .. } => MetricValue::missing(SufficientStats::Mean {
            n: 0,
            mean: 0.0,
            m2: 0.0,
        }),
        MetricDef::Quantile { q, .. } => MetricValue::missing(SufficientStats::Distribution {
            quantile: *q,
            bins: Vec::new(),
        }),
    })
}

fn family_of(source: &CountSource) -> Family {
    match source {
        CountSource::Requests | CountSource::StatusClass(_) => Family::Requests,
        CountSource::VersionErrors => Family::VersionErrors,
        CountSource::Errors(_) => Family::Errors,
        CountSource::Event(_) => Family::Events,
    }
}

fn latency_quantile(q: f64, c: &CohortCounts) -> MetricValue {
    let Some(h) = Histogram::new(&c.buckets) else {
        return MetricValue::missing(SufficientStats::Distribution {
            quantile: q,
            bins: Vec::new(),
        });
    };
    MetricValue {
        value: h.quantile_ms(q),
        samples: h.count(),
        stats: SufficientStats::Distribution {
            quantile: q,
            bins: h.bins_ms(),
        },
    }
}

/// The exact mean (`_sum / _count`) with the spread estimated from the buckets.
fn latency_mean(c: &CohortCounts) -> MetricValue {
    let n = whole(c.latency_count);
    let histogram = Histogram::new(&c.buckets);
    let (Some(h), true) = (histogram, n > 0 && c.latency_sum.is_finite()) else {
        return MetricValue::missing(SufficientStats::Mean {
            n: 0,
            mean: 0.0,
            m2: 0.0,
        });
    };
    let mean = c.latency_sum.max(0.0) * MS_PER_S / n as f64;
    MetricValue {
        value: Some(mean),
        samples: n,
        stats: SufficientStats::Mean {
            n,
            mean,
            m2: h.m2_ms(mean),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_metrics::{CounterSpec, MeanSpec, MetricSpec};

    use super::*;

    fn counts() -> CohortCounts {
        let mut c = CohortCounts::default();
        c.requests.insert("2xx".into(), 190.0);
        c.requests.insert("5xx".into(), 10.0);
        c.requests.insert("none".into(), 1.0);
        c.version_errors = 8.0;
        c.errors.insert("proxy".into(), 2.0);
        c.events.insert("click".into(), 4.0);
        c.buckets = vec![(0.01, 100.0), (0.02, 201.0), (f64::INFINITY, 201.0)];
        c.latency_sum = 2.01;
        c.latency_count = 201.0;
        c
    }

    fn value(name: &str) -> MetricValue {
        compute(&Catalog::builtin(), name, &counts()).unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn counts_and_ratios_are_exact() {
        assert_eq!(
            value("requests").stats,
            SufficientStats::Count { count: 201 }
        );
        assert_eq!(value("http_5xx").value, Some(10.0));
        assert_eq!(value("http_4xx").value, Some(0.0));
        assert_eq!(value("proxy_errors").samples, 2);
        let rate = value("error_rate");
        assert_eq!(
            (rate.samples, rate.stats),
            (
                201,
                SufficientStats::Ratio {
                    numerator: 8,
                    denominator: 201
                }
            )
        );
        assert_eq!(value("downstream_errors").value, Some(0.0));
        let catalog = Catalog::from_specs(&[MetricSpec {
            name: "clicks".into(),
            counter: Some(CounterSpec {
                event: "click".into(),
            }),
            ..MetricSpec::default()
        }])
        .unwrap();
        assert_eq!(
            compute(&catalog, "clicks", &counts()).unwrap().value,
            Some(4.0)
        );
        assert_eq!(compute(&catalog, "nope", &counts()), None);
    }

    #[test]
    fn latency_comes_from_the_histogram_in_milliseconds() {
        let p50 = value("p50_latency");
        // rank 100.5 of 201: in (10, 20] ms holding ranks 100..201.
        let expected = 10.0 + 10.0 * (0.5 / 101.0);
        assert!((p50.value.unwrap() - expected).abs() < 1e-9, "{p50:?}");
        assert_eq!(p50.samples, 201);
        let SufficientStats::Distribution { quantile, bins } = p50.stats else {
            panic!("not a distribution")
        };
        assert_eq!((quantile, bins), (0.5, vec![(5.0, 100), (15.0, 101)]));
        let avg = value("avg_latency");
        assert!((avg.value.unwrap() - 10.0).abs() < 1e-9, "{avg:?}");
        let SufficientStats::Mean { n, mean, m2 } = avg.stats else {
            panic!("not a mean")
        };
        assert_eq!((n, Some(mean)), (201, avg.value));
        let expected = 100.0 * (25.0 + 100.0 / 12.0) + 101.0 * (25.0 + 100.0 / 12.0);
        assert!((m2 - expected).abs() < 1e-6, "{m2}");
    }

    /// A catalog with `avg_page_load_ms`, a mean of event values.
    pub(crate) fn event_mean_catalog() -> Catalog {
        Catalog::from_specs(&[MetricSpec {
            name: "avg_page_load_ms".into(),
            mean: Some(MeanSpec {
                event: "page_load_ms".into(),
                unit: None,
            }),
            ..MetricSpec::default()
        }])
        .unwrap()
    }

    #[test]
    fn event_values_are_missing_data() {
        let catalog = event_mean_catalog();
        assert_eq!(families(catalog.get("avg_page_load_ms").unwrap()), None);
        let v = compute(&catalog, "avg_page_load_ms", &counts()).unwrap();
        assert_eq!((v.value, v.samples), (None, 0));
    }

    #[test]
    fn no_traffic_is_missing_data_not_an_error() {
        let empty = CohortCounts::default();
        let catalog = Catalog::builtin();
        for name in ["p99_latency", "avg_latency", "error_rate"] {
            let v = compute(&catalog, name, &empty).unwrap();
            assert_eq!((v.value, v.samples), (None, 0), "{name}");
        }
        let requests = compute(&catalog, "requests", &empty).unwrap();
        assert_eq!(requests.stats, SufficientStats::Count { count: 0 });
    }
}
