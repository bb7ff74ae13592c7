//! The window store: closed windows from every shard and edge, merged by start, kept for a
//! rolling retention, with a cap on the number of series. Views over a range are derived by
//! merging the stored windows.

use std::collections::{BTreeMap, HashMap};

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, SeriesFilter};
use crate::record::DropCounts;
use crate::series::SeriesKey;
use crate::window::{Window, WindowMismatch};

/// Settings of a [`WindowStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Window length in milliseconds; every inserted window must have it (default 1000).
    pub width_ms: u32,
    /// How long windows are kept, in milliseconds (default 15 minutes).
    pub retention_ms: u64,
    /// Most series kept at once (default 10 000); windows of new series beyond it are dropped
    /// (`series_cap`).
    pub max_series: usize,
}

/// Closed windows by start, within the retention.
#[derive(Clone, Debug)]
pub struct WindowStore {
    config: StoreConfig,
    windows: BTreeMap<UnixMillis, Window>,
    /// Every series kept, with the start of the latest window it has data in.
    series: HashMap<SeriesKey, UnixMillis>,
}

/// What the store did with an inserted window, for the caller's counters and log lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct InsertOutcome {
    /// Records the store dropped: the whole window when it arrived after its retention
    /// (`late`), or the records of series over the cap (`series_cap`).
    pub dropped: DropCounts,
    /// Series refused because of the cap (log one line naming the first and the count).
    pub refused_series: Vec<SeriesKey>,
}

/// An inserted window the store cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The window's width differs from the store's.
    #[error(
        "window of {got}ms does not fit a store of {expected}ms windows: every edge and the control plane must use the same window"
    )]
    Width {
        /// The store's width.
        expected: u32,
        /// The window's width.
        got: u32,
    },
    /// The window's start is not a multiple of its width.
    #[error("window start {0} is not aligned to the window width")]
    Unaligned(UnixMillis),
    /// The window does not cover the same time as the one kept for its start.
    #[error(transparent)]
    Mismatch(#[from] WindowMismatch),
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            width_ms: 1_000,
            retention_ms: 15 * 60 * 1_000,
            max_series: 10_000,
        }
    }
}

impl WindowStore {
    /// An empty store.
    pub fn new(config: StoreConfig) -> WindowStore {
        let config = StoreConfig {
            width_ms: config.width_ms.max(1),
            ..config
        };
        WindowStore {
            config,
            windows: BTreeMap::new(),
            series: HashMap::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> StoreConfig {
        self.config
    }

    /// Merges a closed window in (with any window of the same start already kept), then
    /// evicts what `now` puts out of retention.
    pub fn insert(
        &mut self,
        mut window: Window,
        now: UnixMillis,
    ) -> Result<InsertOutcome, InsertError> {
        if window.width_ms != self.config.width_ms {
            return Err(InsertError::Width {
                expected: self.config.width_ms,
                got: window.width_ms,
            });
        }
        if Window::start_of(window.start, window.width_ms) != window.start {
            return Err(InsertError::Unaligned(window.start));
        }
        let mut outcome = InsertOutcome::default();
        if window.end() <= self.cutoff(now) {
            outcome.dropped.late = window.records();
            return Ok(outcome);
        }
        self.admit_series(&mut window, &mut outcome);
        window.dropped.merge(&outcome.dropped);
        let start = window.start;
        match self.windows.get_mut(&start) {
            Some(kept) => kept.absorb(window)?,
            None => {
                self.windows.insert(start, window);
            }
        }
        self.evict(now);
        Ok(outcome)
    }

    /// Forgets windows that ended more than the retention before `now`, and series with no
    /// data in the windows left.
    pub fn evict(&mut self, now: UnixMillis) {
        let cutoff = self.cutoff(now);
        let width = i64::from(self.config.width_ms);
        // Windows end at start + width; keep those ending after the cutoff.
        self.windows = self.windows.split_off(&(cutoff.saturating_sub(width) + 1));
        self.series
            .retain(|_, last| last.saturating_add(width) > cutoff);
    }

    /// The merged numbers of the series matching `filter` over windows starting in
    /// `[from, to)`.
    pub fn aggregate(&self, filter: &SeriesFilter, from: UnixMillis, to: UnixMillis) -> Aggregate {
        Aggregate::of(
            self.windows.range(from..to.max(from)).map(|(_, w)| w),
            filter,
            from,
            to,
        )
    }

    /// The rolling view over the last `windows` windows that ended by `now`.
    pub fn rolling(&self, filter: &SeriesFilter, now: UnixMillis, windows: u32) -> Aggregate {
        let to = Window::start_of(now, self.config.width_ms);
        let span = i64::from(windows) * i64::from(self.config.width_ms);
        let from = to.saturating_sub(span);
        self.aggregate(filter, from, to)
    }

    /// The series kept, in no particular order.
    pub fn series(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.keys()
    }

    /// The windows kept, oldest first.
    pub fn windows(&self) -> impl Iterator<Item = &Window> {
        self.windows.values()
    }

    /// Start of the latest window kept.
    pub fn latest_start(&self) -> Option<UnixMillis> {
        self.windows.keys().next_back().copied()
    }

    fn cutoff(&self, now: UnixMillis) -> UnixMillis {
        now.saturating_sub(i64::try_from(self.config.retention_ms).unwrap_or(i64::MAX))
    }

    /// Drops the series over the cap from `window`, and notes when the rest were last seen.
    fn admit_series(&mut self, window: &mut Window, outcome: &mut InsertOutcome) {
        let start = window.start;
        let max = self.config.max_series;
        let series = &mut self.series;
        window.series.retain(|key, stats| {
            if let Some(last) = series.get_mut(key) {
                *last = (*last).max(start);
                return true;
            }
            if series.len() < max {
                series.insert(key.clone(), start);
                return true;
            }
            outcome.dropped.series_cap += stats.records();
            outcome.refused_series.push(key.clone());
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use rollgate_core::Cohort;

    use super::*;

    fn window(start: UnixMillis, version: &str, requests: u64) -> Window {
        let mut w = Window::new(start, 1_000);
        let key = SeriesKey::new("shop", "r", version, Cohort::Canary);
        w.series.entry(key).or_default().requests.requests = requests;
        w
    }

    fn put(s: &mut WindowStore, w: Window, now: UnixMillis) {
        assert_eq!(s.insert(w, now).unwrap(), InsertOutcome::default());
    }

    fn store(max_series: usize) -> WindowStore {
        WindowStore::new(StoreConfig {
            width_ms: 1_000,
            retention_ms: 10_000,
            max_series,
        })
    }

    #[test]
    fn same_start_merges_and_ranges_aggregate() {
        let mut s = store(10);
        for start in [0, 1_000, 1_000, 2_000] {
            let outcome = s.insert(window(start, "v1", 5), 3_000).unwrap();
            assert_eq!(outcome, InsertOutcome::default());
        }
        assert_eq!(s.windows().count(), 3);
        let all = s.aggregate(&SeriesFilter::all(), 0, 3_000);
        assert_eq!((all.stats.requests.requests, all.windows), (20, 3));
        let none = s.aggregate(&SeriesFilter::all().with_version("v9"), 0, 3_000);
        assert_eq!((none.stats.requests.requests, none.windows), (0, 0));
        assert_eq!(
            s.aggregate(&SeriesFilter::all(), 1_000, 2_000)
                .stats
                .requests
                .requests,
            10
        );
        assert_eq!(
            s.rolling(&SeriesFilter::all(), 3_500, 2)
                .stats
                .requests
                .requests,
            15
        );
        assert_eq!(s.aggregate(&SeriesFilter::all(), 5_000, 0).windows, 0);
    }

    #[test]
    fn retention_evicts_old_windows_and_refuses_late_ones() {
        let mut s = store(10);
        put(&mut s, window(0, "v1", 1), 1_000);
        put(&mut s, window(5_000, "v2", 1), 6_000);
        assert_eq!(s.series().count(), 2);
        // At 11_000 the window [0, 1000) ended 10 s ago: out.
        put(&mut s, window(10_000, "v2", 1), 11_000);
        assert_eq!(
            s.windows().map(|w| w.start).collect::<Vec<_>>(),
            vec![5_000, 10_000]
        );
        assert_eq!(s.series().count(), 1, "v1 has no data left");
        let late = s.insert(window(0, "v1", 7), 11_000).unwrap();
        assert_eq!(late.dropped.late, 7);
        assert_eq!(s.windows().count(), 2);
    }

    #[test]
    fn series_cap_drops_new_series_and_names_them() {
        let mut s = store(1);
        put(&mut s, window(0, "v1", 1), 1_000);
        let outcome = s.insert(window(1_000, "v2", 4), 2_000).unwrap();
        assert_eq!(outcome.dropped.series_cap, 4);
        assert_eq!(
            outcome.refused_series,
            vec![SeriesKey::new("shop", "r", "v2", Cohort::Canary)]
        );
        let agg = s.aggregate(&SeriesFilter::all(), 0, 2_000);
        assert_eq!(
            (agg.stats.requests.requests, agg.dropped.series_cap),
            (1, 4)
        );
    }

    /// Found by `fuzz/fuzz_targets/window_json.rs`: windows at the ends of time are stored,
    /// evicted and read without overflowing.
    #[test]
    fn windows_at_the_ends_of_time() {
        let mut s = store(10);
        let last = Window::start_of(i64::MAX, 1_000);
        put(&mut s, window(last, "v1", 1), i64::MAX);
        assert_eq!(s.rolling(&SeriesFilter::all(), i64::MAX, 5).windows, 0);
        assert_eq!(
            s.rolling(&SeriesFilter::all(), i64::MIN, u32::MAX).windows,
            0
        );
        let late = s.insert(window(i64::MIN, "v1", 2), i64::MAX).unwrap();
        assert_eq!(late.dropped.late, 2);
        s.evict(i64::MIN);
        assert_eq!(s.series().count(), 1);
    }

    #[test]
    fn refuses_windows_of_another_width_or_alignment() {
        let mut s = store(1);
        let err = s.insert(Window::new(0, 500), 0).unwrap_err();
        assert_eq!(
            err,
            InsertError::Width {
                expected: 1_000,
                got: 500
            }
        );
        assert!(err.to_string().contains("same window"));
        assert_eq!(
            s.insert(Window::new(10, 1_000), 0).unwrap_err(),
            InsertError::Unaligned(10)
        );
    }
}
