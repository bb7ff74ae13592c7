//! Exact counter differences between two instants.
//!
//! `increase(x[5m])` is not exact: Prometheus extrapolates from the first and last samples
//! inside the range to its edges, so 100 requests come back as, say, 104.7, and a counter
//! that starts inside the range is extrapolated down towards zero. The analysis needs integer
//! counts (its tests take successes out of trials), so the provider instead reads the raw
//! counters at `from` and at `to` — each the last scrape at or before that instant — and
//! subtracts series by series. The difference is exactly what the edges counted between those
//! two scrapes.
//!
//! A counter that went down was reset (its edge restarted): the whole exposed series — every
//! bucket, class and side of that edge's series — then counts from zero, so its value at `to`
//! is what was counted since the restart. Counts before the restart are lost, so the result is
//! a lower bound, never an overcount. A series absent at `from` started after it (the edge
//! creates a series on its first record) and counts from zero; one absent at `to` stopped
//! being exposed (a retired version, an edge that is down) and counts nothing.

use std::collections::{BTreeMap, BTreeSet};

use rollgate_metrics::names::{CODE_CLASS, EVENT, SIDE};

use crate::api::Sample;

/// Labels that tell apart the counters of one exposed series (its classes, sides, events and
/// buckets); the other labels name the series itself, which resets as a whole.
const WITHIN_SERIES: [&str; 5] = ["__name__", "le", CODE_CLASS, SIDE, EVENT];

/// What a counter grew by over the range.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Increase {
    /// The counter's labels.
    pub(crate) labels: BTreeMap<String, String>,
    /// How much it grew.
    pub(crate) value: f64,
}

/// Every counter's increase, and what was odd on the way.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Increases {
    /// One per counter present at `to`.
    pub(crate) series: Vec<Increase>,
    /// Exposed series found reset (their edge restarted within the range).
    pub(crate) resets: usize,
    /// Samples ignored because their value was NaN, infinite or negative.
    pub(crate) unusable: usize,
}

/// Each counter's increase from `before` (the values at `from`) to `after` (at `to`).
pub(crate) fn increases(before: &[Sample], after: Vec<Sample>) -> Increases {
    let usable = |v: f64| v.is_finite() && v >= 0.0;
    let unusable = before
        .iter()
        .chain(&after)
        .filter(|s| !usable(s.value))
        .count();
    let start: BTreeMap<&BTreeMap<String, String>, f64> = before
        .iter()
        .filter(|s| usable(s.value))
        .map(|s| (&s.labels, s.value))
        .collect();
    let reset: BTreeSet<Vec<(&str, &str)>> = after
        .iter()
        .filter(|s| usable(s.value))
        .filter(|s| start.get(&s.labels).is_some_and(|&b| s.value < b))
        .map(|s| series_of(&s.labels))
        .collect();
    let bases: Vec<f64> = after
        .iter()
        .map(|s| {
            if reset.contains(&series_of(&s.labels)) {
                0.0
            } else {
                start.get(&s.labels).copied().unwrap_or(0.0)
            }
        })
        .collect();
    let resets = reset.len();
    let series = after
        .into_iter()
        .zip(bases)
        .filter(|(s, _)| usable(s.value))
        .map(|(s, base)| Increase {
            value: s.value - base,
            labels: s.labels,
        })
        .collect();
    Increases {
        series,
        resets,
        unusable,
    }
}

/// The labels naming the exposed series a counter belongs to.
fn series_of(labels: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    labels
        .iter()
        .filter(|(k, _)| !WITHIN_SERIES.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples of `r` with an `instance` and a `code_class`.
    fn samples(rows: &[(&str, &str, f64)]) -> Vec<Sample> {
        rows.iter()
            .map(|&(instance, class, value)| {
                let labels = [
                    ("__name__", "r"),
                    ("instance", instance),
                    ("code_class", class),
                ];
                Sample {
                    labels: labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    value,
                }
            })
            .collect()
    }

    /// The increases of `after` over `before`, as `(instance, class, increase)` rows.
    fn rows(
        before: &[(&str, &str, f64)],
        after: &[(&str, &str, f64)],
    ) -> (Vec<(String, String, f64)>, Increases) {
        let i = increases(&samples(before), samples(after));
        let rows = i
            .series
            .iter()
            .map(|s| {
                (
                    s.labels["instance"].clone(),
                    s.labels["code_class"].clone(),
                    s.value,
                )
            })
            .collect();
        (rows, i)
    }

    fn owned(rows: &[(&str, &str, f64)]) -> Vec<(String, String, f64)> {
        rows.iter()
            .map(|&(a, b, v)| (a.into(), b.into(), v))
            .collect()
    }

    #[test]
    fn differences_are_exact_and_new_series_count_from_zero() {
        let before = [("a", "2xx", 1_000.0), ("a", "5xx", 7.0)];
        let after = [("a", "2xx", 1_100.0), ("a", "5xx", 7.0), ("b", "2xx", 30.0)];
        let (rows, i) = rows(&before, &after);
        assert_eq!(
            rows,
            owned(&[("a", "2xx", 100.0), ("a", "5xx", 0.0), ("b", "2xx", 30.0)])
        );
        assert_eq!((i.resets, i.unusable), (0, 0));
    }

    #[test]
    fn a_reset_restarts_the_whole_series_from_zero() {
        // Edge `a` restarted: its 2xx counter went down, its 5xx counter did not (yet) —
        // both count from zero, or the 5xx would come out as 9 - 7 = 2 instead of 9.
        let before = [("a", "2xx", 1_000.0), ("a", "5xx", 7.0), ("b", "2xx", 5.0)];
        let after = [("a", "2xx", 40.0), ("a", "5xx", 9.0), ("b", "2xx", 6.0)];
        let (rows, i) = rows(&before, &after);
        assert_eq!(
            rows,
            owned(&[("a", "2xx", 40.0), ("a", "5xx", 9.0), ("b", "2xx", 1.0)])
        );
        assert_eq!(i.resets, 1);
    }

    #[test]
    fn odd_values_are_skipped_and_counted() {
        let before = [("a", "2xx", f64::NAN)];
        let after = [
            ("a", "2xx", 3.0),
            ("a", "5xx", f64::INFINITY),
            ("a", "4xx", -1.0),
        ];
        let (rows, i) = rows(&before, &after);
        assert_eq!(rows, owned(&[("a", "2xx", 3.0)]));
        assert_eq!(i.unusable, 3);
    }
}
