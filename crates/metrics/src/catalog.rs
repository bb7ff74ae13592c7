//! The metric catalog: every metric a condition can name (the built-ins, the `[[metrics]]`
//! declared in config, and a counter per event those use), its unit, and how to compute it
//! from an aggregate.

mod build;
mod compute;
mod def;
mod spec;

use std::collections::BTreeMap;
use std::sync::Arc;

use rollgate_core::SpecErrors;

pub use def::{CountSource, LATENCY, MetricDef, ValueSource, builtins};
pub use spec::{CounterSpec, MeanSpec, MetricSpec, QuantileSpec, RatioSpec};

use crate::aggregate::Aggregate;
use crate::value::{MetricUnit, MetricValue};

/// Every metric a condition can name, resolved and validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    metrics: BTreeMap<Arc<str>, MetricDef>,
    events: Vec<Arc<str>>,
}

impl Catalog {
    /// The built-in metrics only.
    pub fn builtin() -> Catalog {
        let metrics = builtins()
            .into_iter()
            .map(|(name, def)| (Arc::from(name), def))
            .collect();
        Catalog {
            metrics,
            events: Vec::new(),
        }
    }

    /// Validates the `[[metrics]]` list against the built-ins and each other. Returns every
    /// problem, each with its path (`metrics[1].ratio.numerator`) and a hint.
    pub fn from_specs(specs: &[MetricSpec]) -> Result<Catalog, SpecErrors> {
        let built = build::build(specs)?;
        Ok(Catalog {
            metrics: built.metrics,
            events: built.events,
        })
    }

    /// The unit of metric `name`, or `None` when there is no such metric: what the condition
    /// language type-checks against.
    pub fn unit(&self, name: &str) -> Option<MetricUnit> {
        self.metrics.get(name).map(MetricDef::unit)
    }

    /// The definition of metric `name`.
    pub fn get(&self, name: &str) -> Option<&MetricDef> {
        self.metrics.get(name)
    }

    /// The value of metric `name` over `aggregate`, with its sample size and sufficient
    /// statistics; `None` when there is no such metric. Missing data is a value of `None`
    /// with zero samples (a count is simply 0), never an error.
    pub fn compute(&self, name: &str, aggregate: &Aggregate) -> Option<MetricValue> {
        self.metrics
            .get(name)
            .map(|def| compute::compute(def, &aggregate.stats))
    }

    /// Every metric name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.metrics.keys().map(|k| k.as_ref())
    }

    /// The event names the declared metrics read: always accepted by the recorder's
    /// event-name cap.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(|e| e.as_ref())
    }

    /// The metric name closest to a misspelt `name`, for "did you mean" hints.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        rollgate_core::suggest(name, self.names())
    }
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(name: &str, numerator: &str, denominator: &str) -> MetricSpec {
        let ratio = RatioSpec {
            numerator: numerator.into(),
            denominator: denominator.into(),
        };
        MetricSpec {
            name: name.into(),
            ratio: Some(ratio),
            ..MetricSpec::default()
        }
    }

    fn mean(name: &str, event: &str, unit: Option<&str>) -> MetricSpec {
        let mean = MeanSpec {
            event: event.into(),
            unit: unit.map(Into::into),
        };
        MetricSpec {
            name: name.into(),
            mean: Some(mean),
            ..MetricSpec::default()
        }
    }

    fn quantile(name: &str, event: &str, q: f64) -> MetricSpec {
        let quantile = QuantileSpec {
            event: event.into(),
            q,
            unit: None,
        };
        MetricSpec {
            name: name.into(),
            quantile: Some(quantile),
            ..MetricSpec::default()
        }
    }

    fn counter(name: &str, event: &str) -> MetricSpec {
        MetricSpec {
            name: name.into(),
            counter: Some(CounterSpec {
                event: event.into(),
            }),
            ..MetricSpec::default()
        }
    }

    fn errors(specs: &[MetricSpec]) -> String {
        Catalog::from_specs(specs).unwrap_err().to_string()
    }

    #[test]
    fn builtins_have_units() {
        let c = Catalog::builtin();
        assert_eq!(c.unit("requests"), Some(MetricUnit::Count));
        assert_eq!(c.unit("http_5xx"), Some(MetricUnit::Count));
        assert_eq!(c.unit("error_rate"), Some(MetricUnit::Ratio));
        assert_eq!(c.unit("p999_latency"), Some(MetricUnit::DurationMs));
        assert_eq!(c.unit("avg_latency"), Some(MetricUnit::DurationMs));
        assert_eq!(c.unit("eror_rate"), None);
        assert_eq!(c.suggest("eror_rate"), Some("error_rate"));
        assert_eq!(c.events().count(), 0);
    }

    #[test]
    fn the_example_metrics_resolve_with_event_counters() {
        let c = Catalog::from_specs(&[
            ratio("conversion_rate", "conversion", "exposure"),
            mean("avg_page_load_ms", "page_load_ms", None),
            mean("avg_cart_value", "cart_value", None),
            quantile("p95_page_load", "page_load_ms", 0.95),
            quantile("p75_latency", "latency", 0.75),
            counter("checkouts", "checkout"),
            counter("click", "click"),
            ratio("checkout_rate", "checkouts", "requests"),
        ])
        .unwrap();
        assert_eq!(c.unit("conversion_rate"), Some(MetricUnit::Ratio));
        assert_eq!(c.unit("avg_page_load_ms"), Some(MetricUnit::DurationMs));
        assert_eq!(c.unit("avg_cart_value"), Some(MetricUnit::Number));
        assert_eq!(c.unit("p95_page_load"), Some(MetricUnit::DurationMs));
        assert_eq!(c.unit("p75_latency"), Some(MetricUnit::DurationMs));
        for event in [
            "conversion",
            "exposure",
            "page_load_ms",
            "checkout",
            "click",
        ] {
            assert_eq!(c.unit(event), Some(MetricUnit::Count), "{event}");
        }
        let events: Vec<&str> = c.events().collect();
        assert_eq!(
            events,
            [
                "conversion",
                "exposure",
                "page_load_ms",
                "cart_value",
                "checkout",
                "click"
            ]
        );
        let rate = c.get("checkout_rate").unwrap();
        let expected = MetricDef::Ratio {
            numerator: CountSource::Event("checkout".into()),
            denominator: CountSource::Requests,
        };
        assert_eq!(rate, &expected);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut both = ratio("both", "a", "b");
        both.counter = Some(CounterSpec { event: "c".into() });
        let text = errors(&[
            ratio("error_rate", "http_5xx", "requests"),
            ratio("Bad Name", "a", "b"),
            ratio("dup", "a", "b"),
            ratio("dup", "a", "b"),
            MetricSpec {
                name: "nothing".into(),
                ..MetricSpec::default()
            },
            both,
            ratio("slow_share", "p99_latency", "requests"),
            ratio("typo", "reqeusts", "requests"),
            quantile("p100", "latency", 1.0),
            mean("avg_x", "x_ms", Some("mss")),
            mean("avg_lat", "latncy", None),
            counter("bad_event", "Page-Load"),
            mean("page_load", "page_load", None),
        ]);
        let expected = [
            r#"metrics[0].name: "error_rate" is a built-in metric; choose another name"#,
            r#"metrics[1].name: "Bad Name" is not a valid metric name: use lowercase letters, digits and '_', starting with a letter"#,
            r#"metrics[3].name: "dup" is declared twice (first at metrics[2])"#,
            "metrics[4]: give exactly one of ratio, mean, quantile or counter (found none)",
            "metrics[5]: give exactly one of ratio, mean, quantile or counter (found ratio and counter)",
            r#"metrics[6].ratio.numerator: "p99_latency" is a quantile, not a count: a ratio divides counts (requests, http_5xx, a counter metric or an event name)"#,
            r#"metrics[7].ratio.numerator: unknown metric "reqeusts" (did you mean "requests"?); an event name this close to a metric is refused as a likely typo"#,
            "metrics[8].quantile.q: 1 is not a quantile: use a number strictly between 0 and 1, like 0.99",
            r#"metrics[9].mean.unit: unknown unit "mss": use "ms", "number", "count" or "ratio" (did you mean "ms"?)"#,
            r#"metrics[10].mean.event: unknown event "latncy" (did you mean "latency", the request latency?)"#,
            r#"metrics[11].counter.event: "Page-Load" is not a valid event name: use 1 to 64 lowercase letters, digits and '_', starting with a letter"#,
            r#"metrics[12].mean.event: event "page_load" has this metric's name, but every event already has a counter metric of its own name; rename the metric (e.g. "avg_page_load")"#,
        ];
        assert_eq!(text, expected.join("\n"));
    }

    #[test]
    fn an_event_may_not_take_another_metrics_name() {
        let text = errors(&[
            mean("conversion", "value", None),
            mean("avg_x", "conversion", None),
        ]);
        assert_eq!(
            text,
            r#"metrics[1].mean.event: event "conversion" has the name of the metric at metrics[0], but every event already has a counter metric of its own name; rename that metric"#
        );
        let text = errors(&[
            ratio("per_request", "x", "requests"),
            counter("r", "requests"),
        ]);
        assert!(
            text.contains(
                r#"metrics[1].counter.event: event "requests" has the name of a built-in metric"#
            ),
            "{text}"
        );
    }
}
