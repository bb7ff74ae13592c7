//! Cumulative totals per series since start, fed by closed windows: what `/metrics` shows.

use std::collections::BTreeMap;
use std::sync::Arc;

use rollgate_core::model::UnixMillis;

use crate::record::DropCounts;
use crate::series::SeriesKey;
use crate::stats::{LatencyBuckets, RequestCounts, SeriesStats};
use crate::window::Window;

/// Every series' running totals, and the drops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub(crate) max_series: usize,
    pub(crate) series: BTreeMap<SeriesKey, SeriesTotals>,
    pub(crate) dropped: DropCounts,
}

/// One series' running totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SeriesTotals {
    pub(crate) requests: RequestCounts,
    pub(crate) buckets: LatencyBuckets,
    pub(crate) latency_count: u64,
    pub(crate) latency_sum_us: i128,
    /// Per event name: count and value sum in millionths.
    pub(crate) events: BTreeMap<Arc<str>, (u64, i128)>,
    pub(crate) last_start: UnixMillis,
}

impl Totals {
    /// Empty totals that track at most `max_series` series.
    pub(crate) fn new(max_series: usize) -> Totals {
        Totals {
            max_series,
            ..Totals::default()
        }
    }

    /// Adds a closed window. Records of new series beyond the cap are counted as dropped.
    pub(crate) fn add_window(&mut self, window: &Window) {
        self.dropped.merge(&window.dropped);
        for (key, stats) in &window.series {
            if !self.series.contains_key(key) && self.series.len() >= self.max_series {
                self.dropped.series_cap += stats.records();
                continue;
            }
            self.series
                .entry(key.clone())
                .or_default()
                .add(stats, window.start);
        }
    }

    /// Forgets series with no window starting at or after `before`.
    pub(crate) fn forget_idle(&mut self, before: UnixMillis) {
        self.series.retain(|_, totals| totals.last_start >= before);
    }
}

impl SeriesTotals {
    fn add(&mut self, stats: &SeriesStats, start: UnixMillis) {
        self.requests.merge(&stats.requests);
        for (total, n) in self.buckets.iter_mut().zip(&stats.latency.buckets) {
            *total += n;
        }
        self.latency_count += stats.latency.moments.n;
        self.latency_sum_us += stats.latency.moments.sum;
        for (name, event) in &stats.events {
            let (count, sum) = self.events.entry(name.clone()).or_default();
            *count += event.count;
            *sum += event.values.sum;
        }
        self.last_start = self.last_start.max(start);
    }
}
