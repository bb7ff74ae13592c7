//! The `[[metrics]]` tables of `rollgate.toml`: business metrics declared on top of the
//! built-ins. Each table has a `name` and exactly one of `ratio`, `mean`, `quantile`,
//! `counter`.

use serde::{Deserialize, Serialize};

/// One declared metric.
///
/// ```toml
/// [[metrics]]
/// name = "conversion_rate"
/// ratio = { numerator = "conversion", denominator = "exposure" }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// The name conditions use (`conversion_rate > 2%`): lowercase letters, digits and `_`,
    /// starting with a letter; not the name of a built-in.
    pub name: String,
    /// A ratio of two counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<RatioSpec>,
    /// The mean of an event's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<MeanSpec>,
    /// A quantile of an event's values or of request latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<QuantileSpec>,
    /// The count of an event, under another name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<CounterSpec>,
}

/// `numerator / denominator`, each a count: a built-in counter (`requests`, `http_5xx`,
/// `version_errors` …), a declared `counter` metric, or an event name (its count).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatioSpec {
    /// What is counted on top (`conversion`).
    pub numerator: String,
    /// What is counted below (`exposure`).
    pub denominator: String,
}

/// The mean of the values an event carries (`page_load_ms = 840`), or of request latency
/// (`event = "latency"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSpec {
    /// The event whose values are averaged.
    pub event: String,
    /// The values' unit: `"ms"` (a duration, compared with `200ms` in conditions),
    /// `"number"`, `"count"` or `"ratio"`. Default: `"ms"` when the event name ends in `_ms`,
    /// otherwise `"number"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A quantile of an event's values, or of request latency (`event = "latency"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantileSpec {
    /// The event whose values are ranked, or `"latency"`.
    pub event: String,
    /// The quantile, strictly between 0 and 1 (`0.99` for p99).
    pub q: f64,
    /// The values' unit, as for `mean` (latency is always `"ms"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// The number of times an event arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterSpec {
    /// The event counted.
    pub event: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_of_the_example_config() {
        let toml = r#"
            [[metrics]]
            name = "conversion_rate"
            ratio = { numerator = "conversion", denominator = "exposure" }

            [[metrics]]
            name = "avg_page_load_ms"
            mean = { event = "page_load_ms" }

            [[metrics]]
            name = "p95_page_load"
            quantile = { event = "page_load_ms", q = 0.95 }

            [[metrics]]
            name = "checkouts"
            counter = { event = "checkout" }
        "#;
        #[derive(Deserialize)]
        struct Doc {
            metrics: Vec<MetricSpec>,
        }
        let doc: Doc = toml::from_str(toml).unwrap();
        assert_eq!(doc.metrics.len(), 4);
        let ratio = doc.metrics[0].ratio.as_ref().unwrap();
        assert_eq!(
            (ratio.numerator.as_str(), ratio.denominator.as_str()),
            ("conversion", "exposure")
        );
        assert_eq!(
            doc.metrics[1].mean,
            Some(MeanSpec {
                event: "page_load_ms".into(),
                unit: None
            })
        );
        assert_eq!(doc.metrics[2].quantile.as_ref().map(|q| q.q), Some(0.95));
        assert_eq!(
            doc.metrics[3].counter,
            Some(CounterSpec {
                event: "checkout".into()
            })
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<MetricSpec>(
            "name = \"x\"\nratoi = { numerator = \"a\", denominator = \"b\" }",
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("unknown field `ratoi`")
        );
    }
}
