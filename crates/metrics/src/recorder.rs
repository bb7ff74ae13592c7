//! The recorder the edge shares across its worker threads: one shard per thread, so a
//! recording thread only ever takes its own, uncontended lock, and a closer visits every shard
//! once per window.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::record::{DropReason, EventRecord, RequestRecord};
use crate::series::{Registry, RegistryError, RegistryLimits, SeriesKey};
use crate::shard::{Shard, WindowConfig};
use crate::window::Window;

/// Settings of a [`Recorder`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecorderConfig {
    /// How records are cut into windows.
    pub window: WindowConfig,
    /// Caps on series and event names.
    pub limits: RegistryLimits,
}

/// Records requests and events from many threads into per-thread shards and closes them into
/// windows. Share it (`Arc<Recorder>`); it never blocks one recording thread on another.
#[derive(Debug)]
pub struct Recorder {
    id: u64,
    config: RecorderConfig,
    registry: Registry,
    shards: Mutex<Vec<Arc<Mutex<Shard>>>>,
}

/// A shard of a [`Recorder`] held explicitly (instead of the calling thread's own): for a
/// task that records in bulk, such as an event batch.
#[derive(Clone, Debug)]
pub struct ShardHandle(Arc<Mutex<Shard>>);

/// Why a named event was not recorded. Each is counted as a dropped record too.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The series or event name was refused by the registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The record was dropped for this reason.
    #[error("event dropped: {}", .0.as_str())]
    Dropped(DropReason),
}

static NEXT_RECORDER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's shard of each live recorder, by recorder id.
    static LOCAL: RefCell<Vec<(u64, Arc<Mutex<Shard>>)>> = const { RefCell::new(Vec::new()) };
}

impl Recorder {
    /// A recorder; `declared_events` (the events metric definitions use) are always accepted.
    pub fn new<'a>(
        config: RecorderConfig,
        declared_events: impl IntoIterator<Item = &'a str>,
    ) -> Recorder {
        Recorder {
            id: NEXT_RECORDER.fetch_add(1, Ordering::Relaxed),
            config,
            registry: Registry::new(config.limits, declared_events),
            shards: Mutex::new(Vec::new()),
        }
    }

    /// The registry that interns series and event names for this recorder.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The settings.
    pub fn config(&self) -> RecorderConfig {
        self.config
    }

    /// A new shard, closed along with the others.
    pub fn shard(&self) -> ShardHandle {
        let shard = Arc::new(Mutex::new(Shard::new(self.config.window)));
        lock(&self.shards).push(shard.clone());
        ShardHandle(shard)
    }

    /// Records one request into the calling thread's shard.
    #[inline]
    pub fn record_request(&self, at: UnixMillis, record: &RequestRecord) {
        self.with_local(|shard| shard.record_request(at, record));
    }

    /// Records one client event into the calling thread's shard.
    pub fn record_event(&self, at: UnixMillis, event: &EventRecord) -> Result<(), DropReason> {
        self.with_local(|shard| shard.record_event(at, event))
    }

    /// Resolves `key` and `name`, then records the event; a refusal is counted as a dropped
    /// record and returned for the caller to log.
    pub fn record_event_named(
        &self,
        at: UnixMillis,
        key: &SeriesKey,
        name: &str,
        value: Option<f64>,
    ) -> Result<(), RecordError> {
        let resolved = self
            .registry
            .series(key)
            .and_then(|series| Ok((series, self.registry.event(name)?)));
        match resolved {
            Ok((series, event)) => {
                let record = EventRecord {
                    series,
                    event,
                    value,
                };
                self.record_event(at, &record).map_err(RecordError::Dropped)
            }
            Err(e) => {
                let reason = match e {
                    RegistryError::SeriesCap { .. } => DropReason::SeriesCap,
                    RegistryError::EventCap { .. } | RegistryError::InvalidEventName(_) => {
                        DropReason::EventCap
                    }
                };
                self.drop_record(at, reason);
                Err(e.into())
            }
        }
    }

    /// Counts a record that could not be recorded (its series or event name was refused).
    pub fn drop_record(&self, at: UnixMillis, reason: DropReason) {
        self.with_local(|shard| shard.drop_record(at, reason));
    }

    /// Closes every window ending at or before `now` in every shard, and merges windows of the
    /// same start: one window per start, oldest first. Shards of threads that have exited
    /// are forgotten once empty.
    pub fn close_until(&self, now: UnixMillis) -> Vec<Window> {
        let shards: Vec<Arc<Mutex<Shard>>> = lock(&self.shards).clone();
        let mut closed: Vec<Window> = Vec::new();
        for shard in &shards {
            // Hold the shard's lock only to move its finished windows out.
            let taken = lock(shard).take_until(now);
            for window in taken.finish(&self.registry) {
                merge_into(&mut closed, window);
            }
        }
        drop(shards);
        // Held only here: the thread that recorded into it has exited and it is empty.
        lock(&self.shards).retain(|s| Arc::strong_count(s) > 1 || lock(s).open_windows() > 0);
        closed.sort_unstable_by_key(|w| w.start);
        closed
    }

    #[inline]
    fn with_local<T>(&self, f: impl FnOnce(&mut Shard) -> T) -> T {
        LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let i = match local.iter().position(|(id, _)| *id == self.id) {
                Some(i) => i,
                None => {
                    // Forget shards of recorders that no longer exist.
                    local.retain(|(_, s)| Arc::strong_count(s) > 1);
                    let ShardHandle(shard) = self.shard();
                    local.push((self.id, shard));
                    local.len() - 1
                }
            };
            f(&mut lock(&local[i].1))
        })
    }
}

impl ShardHandle {
    /// Locks the shard for a batch of records.
    pub fn lock(&self) -> MutexGuard<'_, Shard> {
        lock(&self.0)
    }
}

/// Merges `window` into the window of the same start in `closed`, or appends it.
fn merge_into(closed: &mut Vec<Window>, window: Window) {
    match closed
        .iter_mut()
        .find(|w| w.start == window.start && w.width_ms == window.width_ms)
    {
        // Same start and width, so the merge cannot fail.
        Some(existing) => existing.absorb(window).unwrap_or_default(),
        None => closed.push(window),
    }
}

/// Locks a mutex, carrying on after a panic elsewhere: the data is plain counters, never left
/// half-updated in a way that matters.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use rollgate_core::Cohort;

    use super::*;

    #[test]
    fn threads_record_into_their_own_shards_and_close_together() {
        let recorder = Arc::new(Recorder::new(RecorderConfig::default(), []));
        let key = SeriesKey::new("shop", "r", "v1", Cohort::Canary);
        let series = recorder.registry().series(&key).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let recorder = recorder.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        let record = RequestRecord {
                            series,
                            status: 200,
                            latency_us: i,
                            bytes_out: 1,
                            error: None,
                        };
                        recorder.record_request(i as i64 % 2_000, &record);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let closed = recorder.close_until(2_000);
        assert_eq!(
            closed.iter().map(|w| w.start).collect::<Vec<_>>(),
            vec![0, 1_000]
        );
        let total: u64 = closed
            .iter()
            .map(|w| w.series[&key].requests.requests)
            .sum();
        assert_eq!(total, 40_000);
        assert_eq!(
            lock(&recorder.shards).len(),
            0,
            "shards of finished threads are forgotten"
        );
    }

    #[test]
    fn named_events_resolve_or_count_as_dropped() {
        let config = RecorderConfig {
            limits: RegistryLimits {
                max_series: 1,
                max_event_names: 0,
            },
            ..Default::default()
        };
        let recorder = Recorder::new(config, ["conversion"]);
        let key = SeriesKey::new("shop", "r", "v1", Cohort::Canary);
        recorder
            .record_event_named(10, &key, "conversion", None)
            .unwrap();
        let err = recorder
            .record_event_named(10, &key, "click", None)
            .unwrap_err();
        assert!(matches!(
            err,
            RecordError::Registry(RegistryError::EventCap { .. })
        ));
        let other = SeriesKey::new("shop", "r", "v2", Cohort::Canary);
        assert!(
            recorder
                .record_event_named(10, &other, "conversion", None)
                .is_err()
        );
        let closed = recorder.close_until(1_000);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].series[&key].events["conversion"].count, 1);
        assert_eq!(
            (closed[0].dropped.event_cap, closed[0].dropped.series_cap),
            (1, 1)
        );
    }

    #[test]
    fn explicit_handles_are_closed_too() {
        let recorder = Recorder::new(RecorderConfig::default(), []);
        let key = SeriesKey::new("shop", "", "v1", Cohort::Stable);
        let series = recorder.registry().series(&key).unwrap();
        let handle = recorder.shard();
        let record = RequestRecord {
            series,
            status: 404,
            latency_us: 5,
            bytes_out: 0,
            error: None,
        };
        handle.lock().record_request(0, &record);
        let closed = recorder.close_until(1_000);
        assert_eq!(closed[0].series[&key].requests.status[3], 1);
    }
}
