//! The declared metrics a condition may name, with the unit of each.

use std::collections::BTreeMap;

use rollgate_metrics::MetricUnit;

/// The metrics a condition may read: built-ins plus the `[[metrics]]` of the config, each with
/// its unit, which decides how the condition language types it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    metrics: BTreeMap<String, MetricUnit>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// The catalog with one more metric (builder style).
    pub fn with(mut self, name: impl Into<String>, unit: MetricUnit) -> Catalog {
        self.insert(name, unit);
        self
    }

    /// Declares a metric; returns the unit it had when it was already declared.
    pub fn insert(&mut self, name: impl Into<String>, unit: MetricUnit) -> Option<MetricUnit> {
        self.metrics.insert(name.into(), unit)
    }

    /// The unit of a declared metric.
    pub fn unit(&self, name: &str) -> Option<MetricUnit> {
        self.metrics.get(name).copied()
    }

    /// The declared names, in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.metrics.keys().map(String::as_str)
    }

    /// How many metrics are declared.
    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    /// Whether no metric is declared.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }
}

impl<S: Into<String>> FromIterator<(S, MetricUnit)> for Catalog {
    fn from_iter<T: IntoIterator<Item = (S, MetricUnit)>>(iter: T) -> Catalog {
        let mut catalog = Catalog::new();
        catalog.extend(iter);
        catalog
    }
}

impl<S: Into<String>> Extend<(S, MetricUnit)> for Catalog {
    fn extend<T: IntoIterator<Item = (S, MetricUnit)>>(&mut self, iter: T) {
        for (name, unit) in iter {
            self.insert(name, unit);
        }
    }
}

/// Whether `name` can be written in a condition as a metric name: ASCII letters, digits and
/// `_`, not starting with a digit, and not a keyword or scope (`and`, `baseline`, …).
/// Config validation uses it to reject `[[metrics]]` names no condition could refer to.
pub fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let reserved = ["and", "or", "not"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name))
        || crate::ast::Scope::from_name(name).is_some();
    starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_lookup_and_names() {
        let mut catalog: Catalog = [
            ("requests", MetricUnit::Count),
            ("error_rate", MetricUnit::Ratio),
        ]
        .into_iter()
        .collect();
        assert_eq!(catalog.unit("error_rate"), Some(MetricUnit::Ratio));
        assert_eq!(catalog.unit("eror_rate"), None);
        assert_eq!(
            catalog.insert("requests", MetricUnit::Number),
            Some(MetricUnit::Count)
        );
        assert_eq!(
            catalog.names().collect::<Vec<_>>(),
            vec!["error_rate", "requests"]
        );
        assert_eq!(catalog.len(), 2);
        assert!(
            Catalog::new()
                .with("x", MetricUnit::Count)
                .unit("x")
                .is_some()
        );
    }

    #[test]
    fn metric_names() {
        for ok in ["error_rate", "p99_latency", "_x", "A1"] {
            assert!(is_metric_name(ok), "{ok}");
        }
        for bad in [
            "",
            "9lives",
            "error-rate",
            "a.b",
            "AND",
            "not",
            "baseline",
            "été",
        ] {
            assert!(!is_metric_name(bad), "{bad}");
        }
    }
}
