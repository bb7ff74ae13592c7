//! A closed window: every series' numbers for one fixed stretch of time. This is what shards
//! produce, what edges push to the control plane and what the store keeps.

use std::collections::BTreeMap;

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::record::DropCounts;
use crate::series::SeriesKey;
use crate::stats::SeriesStats;

/// Every series' numbers for `[start, start + width_ms)`. Windows with the same start and
/// width merge exactly, in any order, whichever shard, edge or replay produced them.
///
/// On the wire the series are a list of `{key, stats}` entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Start of the window (a multiple of `width_ms`).
    pub start: UnixMillis,
    /// Length of the window in milliseconds.
    pub width_ms: u32,
    /// Numbers per series.
    #[serde(serialize_with = "entries", deserialize_with = "from_entries", default)]
    pub series: BTreeMap<SeriesKey, SeriesStats>,
    /// Records dropped while this window was open.
    #[serde(default)]
    pub dropped: DropCounts,
}

/// Two windows that cover different time cannot merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot merge window [{start}, +{width_ms}ms) with window [{other_start}, +{other_width_ms}ms): they cover different time (is every edge configured with the same window?)"
)]
pub struct WindowMismatch {
    /// Start of the receiving window.
    pub start: UnixMillis,
    /// Width of the receiving window.
    pub width_ms: u32,
    /// Start of the other window.
    pub other_start: UnixMillis,
    /// Width of the other window.
    pub other_width_ms: u32,
}

impl Window {
    /// An empty window.
    pub fn new(start: UnixMillis, width_ms: u32) -> Window {
        Window {
            start,
            width_ms,
            series: BTreeMap::new(),
            dropped: DropCounts::default(),
        }
    }

    /// The start of the window of width `width_ms` that contains `at`.
    pub fn start_of(at: UnixMillis, width_ms: u32) -> UnixMillis {
        let width = i64::from(width_ms.max(1));
        at.saturating_sub(at.rem_euclid(width))
    }

    /// The end of the window (exclusive).
    pub fn end(&self) -> UnixMillis {
        self.start.saturating_add(i64::from(self.width_ms))
    }

    /// Records in the window: requests plus client events, over every series.
    pub fn records(&self) -> u64 {
        (self.series.values()).fold(0, |n, s| n.saturating_add(s.records()))
    }

    /// Adds every number of `other`, which must cover the same time.
    pub fn merge(&mut self, other: &Window) -> Result<(), WindowMismatch> {
        self.check_same_time(other)?;
        for (key, stats) in &other.series {
            self.series.entry(key.clone()).or_default().merge(stats);
        }
        self.dropped.merge(&other.dropped);
        Ok(())
    }

    /// Like [`Window::merge`], but takes `other` by value and moves its series in.
    pub fn absorb(&mut self, other: Window) -> Result<(), WindowMismatch> {
        self.check_same_time(&other)?;
        for (key, stats) in other.series {
            match self.series.entry(key) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(stats);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(&stats),
            }
        }
        self.dropped.merge(&other.dropped);
        Ok(())
    }

    fn check_same_time(&self, other: &Window) -> Result<(), WindowMismatch> {
        if self.start == other.start && self.width_ms == other.width_ms {
            return Ok(());
        }
        Err(WindowMismatch {
            start: self.start,
            width_ms: self.width_ms,
            other_start: other.start,
            other_width_ms: other.width_ms,
        })
    }
}

#[derive(Serialize)]
struct EntryRef<'a> {
    key: &'a SeriesKey,
    stats: &'a SeriesStats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    key: SeriesKey,
    stats: SeriesStats,
}

fn entries<S: Serializer>(
    series: &BTreeMap<SeriesKey, SeriesStats>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(series.iter().map(|(key, stats)| EntryRef { key, stats }))
}

/// Reads the entry list; a series listed twice is merged, as if sent in two windows.
fn from_entries<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<SeriesKey, SeriesStats>, D::Error> {
    let mut series: BTreeMap<SeriesKey, SeriesStats> = BTreeMap::new();
    for Entry { key, stats } in Vec::<Entry>::deserialize(d)? {
        series.entry(key).or_default().merge(&stats);
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use rollgate_core::Cohort;

    use super::*;

    #[test]
    fn window_starts_align_to_the_width() {
        assert_eq!(Window::start_of(1_999, 1_000), 1_000);
        assert_eq!(Window::start_of(2_000, 1_000), 2_000);
        assert_eq!(Window::start_of(-1, 1_000), -1_000);
        assert_eq!(Window::new(5_000, 1_000).end(), 6_000);
    }

    #[test]
    fn only_windows_of_the_same_time_merge() {
        let mut a = Window::new(1_000, 1_000);
        let err = a.merge(&Window::new(2_000, 1_000)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot merge window [1000, +1000ms) with window [2000, +1000ms)")
        );
        assert!(a.merge(&Window::new(1_000, 500)).is_err());
        assert!(a.merge(&Window::new(1_000, 1_000)).is_ok());
    }

    #[test]
    fn wire_form_round_trips_and_merges_repeated_series() {
        let key = SeriesKey::new("shop", "", "v1", Cohort::Stable);
        let mut w = Window::new(0, 1_000);
        let stats = w.series.entry(key.clone()).or_default();
        stats.requests.requests = 3;
        stats.latency.moments.observe(1_000);
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Window>(&json).unwrap(), w);

        let entry = serde_json::to_value(&w).unwrap()["series"][0].clone();
        let doubled =
            serde_json::json!({"start": 0, "width_ms": 1000, "series": [entry.clone(), entry]});
        let doubled: Window = serde_json::from_value(doubled).unwrap();
        assert_eq!(doubled.series[&key].requests.requests, 6);
    }

    /// Found by `fuzz/fuzz_targets/window_json.rs`: a pushed window's counters and times come
    /// from another process, and adding them up used to overflow (a panic in debug builds).
    #[test]
    fn counters_and_times_from_the_wire_saturate() {
        let max = u64::MAX;
        let stats = format!(
            r#"{{"requests": {{"requests": {max}, "status": [{max}, 0, 0, 0, {max}], "bytes_out": {max}}},
                "latency": {{"sketch": [[3775, {max}], [3, {max}]],
                            "moments": {{"n": {max}, "sum": {}, "sum_sq": [0, 0]}}}},
                "events": {{"click": {{"count": {max}, "positive": [[7, {max}]], "negative": [[7, {max}]]}}}}}}"#,
            i128::MAX
        );
        let entry = format!(
            r#"{{"key": {{"service": "s", "rollout": "", "version": "v", "cohort": "stable"}}, "stats": {stats}}}"#
        );
        let start = Window::start_of(i64::MAX, 1_000);
        let wire = format!(
            r#"{{"start": {start}, "width_ms": 1000, "series": [{entry}, {entry}],
                "dropped": {{"late": {max}, "series_cap": {max}}}}}"#
        );
        let mut w: Window = serde_json::from_str(&wire).unwrap();
        w.merge(&w.clone()).unwrap();
        let s = w.series.values().next().unwrap();
        assert_eq!(s.requests.requests, max);
        assert_eq!(s.requests.status, [max, 0, 0, 0, max]);
        assert_eq!(s.latency.moments.n, max);
        assert_eq!(s.latency.moments.sum, i128::MAX);
        assert_eq!(s.latency.sketch.count(), max);
        assert!(s.latency.sketch.quantile(1.0).is_some());
        assert!(s.events["click"].quantile(0.5).is_some());
        assert_eq!((w.records(), w.dropped.total()), (max, max));
        assert_eq!(w.end(), i64::MAX);
        assert_eq!(Window::start_of(i64::MIN, 1_000), i64::MIN);
    }
}
