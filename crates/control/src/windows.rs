//! The closed metric windows the control plane keeps in memory: fed by edges (the in-process
//! pump of `rollgate serve`, or windows pushed by remote edges) and by the event ingest, read
//! by the built-in metric provider and the dashboard charts.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rollgate_core::model::UnixMillis;
use rollgate_metrics::{Aggregate, InsertError, SeriesFilter, StoreConfig, Window, WindowStore};

/// A shared [`WindowStore`]. Cheap to clone; every clone sees the same windows. The lock is
/// held only to merge one window in or to aggregate a range, never across an await.
#[derive(Clone, Debug)]
pub struct Windows {
    inner: Arc<Mutex<WindowStore>>,
}

/// What happened to a batch of windows handed to [`Windows::insert`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsertReport {
    /// Windows merged in.
    pub accepted: usize,
    /// Records dropped: windows that arrived after the retention, series over the cap.
    pub dropped_records: u64,
    /// Windows refused whole (another width, unaligned), with the reason.
    pub refused: Vec<String>,
}

impl Windows {
    /// An empty store with `config`.
    pub fn new(config: StoreConfig) -> Windows {
        Windows {
            inner: Arc::new(Mutex::new(WindowStore::new(config))),
        }
    }

    /// The store's settings.
    pub fn config(&self) -> StoreConfig {
        self.lock().config()
    }

    /// Window width in milliseconds.
    pub fn width_ms(&self) -> i64 {
        i64::from(self.config().width_ms.max(1))
    }

    /// Merges `windows` in at `now` (retention is measured from `now`).
    pub fn insert(&self, windows: Vec<Window>, now: UnixMillis) -> InsertReport {
        let mut report = InsertReport::default();
        let mut store = self.lock();
        for window in windows {
            let start = window.start;
            match store.insert(window, now) {
                Ok(outcome) => {
                    report.accepted += 1;
                    report.dropped_records += outcome.dropped.total();
                    if let Some(first) = outcome.refused_series.first() {
                        tracing::warn!(series = %first, refused = outcome.refused_series.len(), "series over the cap dropped");
                    }
                }
                Err(e) => report.refused.push(refusal(start, &e)),
            }
        }
        report
    }

    /// The merged numbers of the series matching `filter` over windows starting in
    /// `[from, to)`.
    pub fn aggregate(&self, filter: &SeriesFilter, from: UnixMillis, to: UnixMillis) -> Aggregate {
        self.lock().aggregate(filter, from, to)
    }

    /// Runs `f` with the store locked (for several aggregates in one go).
    pub fn with<T>(&self, f: impl FnOnce(&WindowStore) -> T) -> T {
        f(&self.lock())
    }

    /// Start of the latest window kept.
    pub fn latest_start(&self) -> Option<UnixMillis> {
        self.lock().latest_start()
    }

    fn lock(&self) -> MutexGuard<'_, WindowStore> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn refusal(start: UnixMillis, e: &InsertError) -> String {
    format!("window starting at {start}: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_windows_of_another_width_and_keeps_the_rest() {
        let w = Windows::new(StoreConfig::default());
        let report = w.insert(vec![Window::new(1_000, 1_000), Window::new(0, 500)], 2_000);
        assert_eq!(report.accepted, 1);
        assert_eq!(report.refused.len(), 1);
        assert!(report.refused[0].contains("500ms"), "{:?}", report.refused);
        assert_eq!(w.latest_start(), Some(1_000));
    }
}
