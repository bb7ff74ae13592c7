//! The numbers of one series over one window (or a merged range of windows). Every part merges
//! exactly, associatively and commutatively.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::moments::Moments;
use crate::record::{ErrorSide, RequestRecord};
use crate::sketch::Sketch;

/// Upper bounds (inclusive, microseconds) of the fixed latency histogram buckets exposed to
/// Prometheus; a last, implicit bucket holds everything slower.
pub const LATENCY_BUCKETS_US: [u64; 11] = [
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000,
];

/// Per-bucket counts for [`LATENCY_BUCKETS_US`], the last slot for slower requests.
pub type LatencyBuckets = [u64; LATENCY_BUCKETS_US.len() + 1];

/// Everything recorded for one series in a window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeriesStats {
    /// Request counters.
    pub requests: RequestCounts,
    /// Request latencies.
    pub latency: LatencyStats,
    /// Client events by name.
    pub events: BTreeMap<Arc<str>, EventStats>,
}

/// Request counters of a series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestCounts {
    /// Every request, whatever its outcome.
    pub requests: u64,
    /// Requests by status class: `[1xx, 2xx, 3xx, 4xx, 5xx]`.
    pub status: [u64; 5],
    /// Requests that ended before any status was sent (or with a status outside 100–599).
    pub no_status: u64,
    /// The numerator of `error_rate`: 5xx responses the upstream returned, or that the proxy
    /// sent because the upstream failed. Never a proxy fault or a client that went away.
    pub version_errors: u64,
    /// Failed requests by side: `[upstream, downstream, proxy]`.
    pub errors: [u64; 3],
    /// Response bytes sent to clients.
    pub bytes_out: u64,
}

/// Request latencies of a series, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyStats {
    /// The quantile sketch.
    pub sketch: Sketch,
    /// Exact count, sum and sum of squares (for the mean and its variance).
    pub moments: Moments,
    /// Exact counts per fixed Prometheus bucket ([`LATENCY_BUCKETS_US`]).
    pub buckets: LatencyBuckets,
}

/// One event name's numbers in a series. Values are kept as integer millionths.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventStats {
    /// How many events arrived, with or without a value.
    pub count: u64,
    /// Exact moments of the values, in millionths.
    pub values: Moments,
    /// Sketch of the non-negative values, in millionths.
    pub positive: Sketch,
    /// Sketch of the magnitudes of negative values, in millionths.
    pub negative: Sketch,
}

impl SeriesStats {
    /// Adds every number of `other`.
    pub fn merge(&mut self, other: &SeriesStats) {
        self.latency.sketch.merge(&other.latency.sketch);
        self.merge_except_latency_sketch(other);
    }

    /// Merges everything but the latency sketch, for callers that sum sketches densely.
    pub(crate) fn merge_except_latency_sketch(&mut self, other: &SeriesStats) {
        self.requests.merge(&other.requests);
        self.latency.moments.merge(&other.latency.moments);
        add_all(&mut self.latency.buckets, &other.latency.buckets);
        for (name, stats) in &other.events {
            self.events.entry(name.clone()).or_default().merge(stats);
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.records() == 0
    }

    /// Records counted: requests plus client events.
    pub fn records(&self) -> u64 {
        (self.events.values()).fold(self.requests.requests, |n, e| n.saturating_add(e.count))
    }
}

impl RequestCounts {
    /// Counts one request.
    #[inline]
    pub fn record(&mut self, r: &RequestRecord) {
        self.requests += 1;
        match r.status / 100 {
            class @ 1..=5 => self.status[usize::from(class) - 1] += 1,
            _ => self.no_status += 1,
        }
        self.version_errors += u64::from(r.is_version_error());
        if let Some(side) = r.error {
            self.errors[side as usize] += 1;
        }
        self.bytes_out += r.bytes_out;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RequestCounts) {
        self.requests = self.requests.saturating_add(other.requests);
        add_all(&mut self.status, &other.status);
        self.no_status = self.no_status.saturating_add(other.no_status);
        self.version_errors = self.version_errors.saturating_add(other.version_errors);
        add_all(&mut self.errors, &other.errors);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
    }

    /// Requests that failed on `side`.
    pub fn errors_on(&self, side: ErrorSide) -> u64 {
        self.errors[side as usize]
    }
}

impl EventStats {
    /// Adds every event of `other`.
    pub fn merge(&mut self, other: &EventStats) {
        self.count = self.count.saturating_add(other.count);
        self.values.merge(&other.values);
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
    }

    /// The value at quantile `q` over both signs, in the event's own unit.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let (neg, pos) = (self.negative.count(), self.positive.count());
        let n = neg.saturating_add(pos);
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (n - 1) as f64).floor() as u64;
        let units = if rank < neg {
            // Negative values ascend as their magnitudes descend.
            -self.negative.quantile(rank_q(neg - 1 - rank, neg))?
        } else {
            self.positive.quantile(rank_q(rank - neg, pos))?
        };
        Some(units / crate::record::EVENT_VALUE_SCALE)
    }

    /// `(value, count)` bins over both signs, ascending, in the event's own unit.
    pub fn bins(&self) -> Vec<(f64, u64)> {
        let scale = crate::record::EVENT_VALUE_SCALE;
        let negative = self.negative.values().rev().map(|(v, c)| (-v / scale, c));
        negative
            .chain(self.positive.values().map(|(v, c)| (v / scale, c)))
            .collect()
    }
}

/// The `q` whose rank `⌊q·(n − 1)⌋` in a sketch of `n` values is exactly `rank`.
fn rank_q(rank: u64, n: u64) -> f64 {
    if n <= 1 {
        0.0
    } else {
        (rank as f64 + 0.5) / (n - 1) as f64
    }
    .min(1.0)
}

/// The bucket of a latency in [`LATENCY_BUCKETS_US`].
#[inline]
pub fn latency_bucket(latency_us: u64) -> usize {
    LATENCY_BUCKETS_US.partition_point(|&bound| bound < latency_us)
}

fn add_all<const N: usize>(into: &mut [u64; N], from: &[u64; N]) {
    into.iter_mut()
        .zip(from)
        .for_each(|(a, b)| *a = a.saturating_add(*b));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::event_value_units;
    use crate::series::SeriesId;

    #[test]
    fn counts_status_classes_and_sides() {
        let mut counts = RequestCounts::default();
        let base = RequestRecord {
            series: SeriesId(0),
            status: 200,
            latency_us: 1,
            bytes_out: 10,
            error: None,
        };
        counts.record(&base);
        counts.record(&RequestRecord {
            status: 503,
            ..base
        });
        counts.record(&RequestRecord {
            status: 502,
            error: Some(ErrorSide::Proxy),
            ..base
        });
        counts.record(&RequestRecord {
            status: RequestRecord::NO_STATUS,
            error: Some(ErrorSide::Downstream),
            ..base
        });
        counts.record(&RequestRecord {
            status: 700,
            ..base
        });
        assert_eq!(counts.requests, 5);
        assert_eq!(counts.status, [0, 1, 0, 0, 2]);
        assert_eq!(counts.no_status, 2);
        assert_eq!(counts.version_errors, 1);
        assert_eq!(counts.errors_on(ErrorSide::Proxy), 1);
        assert_eq!(counts.errors_on(ErrorSide::Downstream), 1);
        assert_eq!(counts.errors_on(ErrorSide::Upstream), 0);
        assert_eq!(counts.bytes_out, 50);
    }

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(5_000), 0);
        assert_eq!(latency_bucket(5_001), 1);
        assert_eq!(latency_bucket(10_000_000), 10);
        assert_eq!(latency_bucket(10_000_001), 11);
    }

    #[test]
    fn event_quantiles_span_both_signs() {
        let mut stats = EventStats::default();
        let values = [-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0];
        for v in values {
            let units = event_value_units(v).unwrap();
            stats.count += 1;
            stats.values.observe(units);
            let sketch = Sketch::of([units.unsigned_abs()]);
            if units < 0 {
                stats.negative.merge(&sketch)
            } else {
                stats.positive.merge(&sketch)
            }
        }
        for (i, &expected) in values.iter().enumerate() {
            let q = i as f64 / (values.len() - 1) as f64;
            let got = stats.quantile(q).unwrap();
            assert!(
                (got - expected).abs() <= expected.abs() / 128.0,
                "q={q}: {got} vs {expected}"
            );
        }
        let bins = stats.bins();
        assert_eq!(bins.len(), 7);
        assert!(bins.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(stats.values.mean(), Some(0.0));
    }
}
