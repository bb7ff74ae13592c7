//! A shard: one recording thread's open windows. Recording is a window lookup (cached), a
//! series lookup by integer id and a handful of increments; closing turns finished windows
//! into [`Window`]s with their series named.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::moments::Moments;
use crate::record::{DropCounts, DropReason, EventRecord, RequestRecord, event_value_units};
use crate::series::{EventId, Registry, SeriesId};
use crate::sketch::DenseSketch;
use crate::stats::{
    EventStats, LatencyBuckets, LatencyStats, RequestCounts, SeriesStats, latency_bucket,
};
use crate::window::Window;

/// How records are cut into windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WindowConfig {
    /// Window length in milliseconds (default 1000).
    pub width_ms: u32,
    /// Most windows a shard keeps open at once; a record that would open one more is dropped
    /// (`window_cap`). Bounds memory against records with wild timestamps.
    pub max_open_windows: usize,
}

/// One thread's open windows.
#[derive(Debug)]
pub struct Shard {
    config: WindowConfig,
    open: Vec<OpenWindow>,
    /// Index into `open` of the window last recorded into.
    last: usize,
    /// Drops that could not be put in a window; they go out with the next closed window.
    pending: DropCounts,
}

#[derive(Debug)]
struct OpenWindow {
    start: UnixMillis,
    end: UnixMillis,
    series: HashMap<SeriesId, SeriesAcc, BuildHasherDefault<IdHasher>>,
    dropped: DropCounts,
}

#[derive(Debug, Default)]
struct SeriesAcc {
    requests: RequestCounts,
    sketch: DenseSketch,
    moments: Moments,
    buckets: LatencyBuckets,
    events: Vec<(EventId, EventAcc)>,
}

#[derive(Debug, Default)]
struct EventAcc {
    count: u64,
    values: Moments,
    positive: DenseSketch,
    negative: DenseSketch,
}

/// Windows taken out of a shard, not yet turned into [`Window`]s.
#[derive(Debug)]
#[must_use = "finish() turns the taken windows into closed windows"]
pub struct Closing {
    windows: Vec<OpenWindow>,
    pending: DropCounts,
    fallback_start: UnixMillis,
    width_ms: u32,
}

/// Fibonacci hashing of small integer ids: one multiply instead of SipHash.
#[derive(Debug, Default)]
struct IdHasher(u64);

impl Default for WindowConfig {
    fn default() -> WindowConfig {
        WindowConfig {
            width_ms: 1_000,
            max_open_windows: 64,
        }
    }
}

impl Shard {
    /// An empty shard.
    pub fn new(config: WindowConfig) -> Shard {
        let config = WindowConfig {
            width_ms: config.width_ms.max(1),
            ..config
        };
        Shard {
            config,
            open: Vec::new(),
            last: 0,
            pending: DropCounts::default(),
        }
    }

    /// The window configuration.
    pub fn config(&self) -> WindowConfig {
        self.config
    }

    /// Records one request that ended at `at`.
    #[inline]
    pub fn record_request(&mut self, at: UnixMillis, record: &RequestRecord) {
        let Some(window) = self.window(at) else {
            self.pending.window_cap += 1;
            return;
        };
        window
            .series
            .entry(record.series)
            .or_default()
            .record(record);
    }

    /// Records one client event that happened at `at`. An event whose value is not finite or
    /// too large is dropped and counted (`invalid_value`).
    pub fn record_event(&mut self, at: UnixMillis, event: &EventRecord) -> Result<(), DropReason> {
        let units = match event.value.map(event_value_units) {
            Some(None) => Err(DropReason::InvalidValue),
            Some(Some(units)) => Ok(Some(units)),
            None => Ok(None),
        };
        let Some(window) = self.window(at) else {
            self.pending.window_cap += 1;
            return Err(DropReason::WindowCap);
        };
        let units = units.inspect_err(|&reason| window.dropped.add(reason, 1))?;
        window
            .series
            .entry(event.series)
            .or_default()
            .event(event.event)
            .record(units);
        Ok(())
    }

    /// Counts a record that could not be recorded (a series or event name over its cap), in
    /// the window of `at`.
    pub fn drop_record(&mut self, at: UnixMillis, reason: DropReason) {
        match self.window(at) {
            Some(window) => window.dropped.add(reason, 1),
            None => self.pending.add(DropReason::WindowCap, 1),
        }
    }

    /// Closes every window that ends at or before `now`, oldest first, naming series through
    /// `registry` (the one that issued the ids). Drops that had no window go out with the
    /// first closed window, or in an empty window just before `now` when none closes.
    pub fn close_until(&mut self, now: UnixMillis, registry: &Registry) -> Vec<Window> {
        self.take_until(now).finish(registry)
    }

    /// The first, cheap half of [`Shard::close_until`]: moves the finished windows out, so a
    /// shard shared behind a lock is held only for that; [`Closing::finish`] does the rest.
    pub fn take_until(&mut self, now: UnixMillis) -> Closing {
        let (windows, open): (Vec<_>, Vec<_>) = self.open.drain(..).partition(|w| w.end <= now);
        self.open = open;
        self.last = 0;
        let width_ms = self.config.width_ms;
        let fallback_start = Window::start_of(now, width_ms) - i64::from(width_ms);
        Closing {
            windows,
            pending: std::mem::take(&mut self.pending),
            fallback_start,
            width_ms,
        }
    }

    /// How many windows are open.
    pub fn open_windows(&self) -> usize {
        self.open.len()
    }

    #[inline]
    fn window(&mut self, at: UnixMillis) -> Option<&mut OpenWindow> {
        let hit = self
            .open
            .get(self.last)
            .is_some_and(|w| w.start <= at && at < w.end);
        if !hit {
            self.last = self.find_or_open(at)?;
        }
        self.open.get_mut(self.last)
    }

    #[cold]
    fn find_or_open(&mut self, at: UnixMillis) -> Option<usize> {
        let start = Window::start_of(at, self.config.width_ms);
        if let Some(i) = self.open.iter().position(|w| w.start == start) {
            return Some(i);
        }
        if self.open.len() >= self.config.max_open_windows {
            return None;
        }
        let end = start + i64::from(self.config.width_ms);
        self.open.push(OpenWindow {
            start,
            end,
            series: HashMap::default(),
            dropped: DropCounts::default(),
        });
        Some(self.open.len() - 1)
    }
}

impl Closing {
    /// Names the series through `registry` and returns the closed windows, oldest first.
    pub fn finish(self, registry: &Registry) -> Vec<Window> {
        let resolver = registry.resolver();
        let width = self.width_ms;
        let mut closed: Vec<Window> = (self.windows.into_iter())
            .map(|w| w.close(&resolver, width))
            .collect();
        closed.sort_unstable_by_key(|w| w.start);
        if !self.pending.is_empty() {
            if closed.is_empty() {
                closed.push(Window::new(self.fallback_start, width));
            }
            closed[0].dropped.merge(&self.pending);
        }
        closed
    }
}

impl OpenWindow {
    fn close(self, resolver: &crate::series::Resolver<'_>, width_ms: u32) -> Window {
        let mut window = Window::new(self.start, width_ms);
        window.dropped = self.dropped;
        for (id, acc) in self.series {
            // Ids only come from the registry that resolves them, so the key is always there.
            if let Some(key) = resolver.key(id) {
                window
                    .series
                    .entry(key.clone())
                    .or_default()
                    .merge(&acc.into_stats(resolver));
            }
        }
        window
    }
}

impl SeriesAcc {
    #[inline]
    fn record(&mut self, r: &RequestRecord) {
        self.requests.record(r);
        self.sketch.insert(r.latency_us);
        self.moments
            .observe(i64::try_from(r.latency_us).unwrap_or(i64::MAX));
        self.buckets[latency_bucket(r.latency_us)] += 1;
    }

    fn event(&mut self, id: EventId) -> &mut EventAcc {
        let i = match self.events.iter().position(|(e, _)| *e == id) {
            Some(i) => i,
            None => {
                self.events.push((id, EventAcc::default()));
                self.events.len() - 1
            }
        };
        &mut self.events[i].1
    }

    fn into_stats(self, resolver: &crate::series::Resolver<'_>) -> SeriesStats {
        let latency = LatencyStats {
            sketch: self.sketch.to_sketch(),
            moments: self.moments,
            buckets: self.buckets,
        };
        let events = (self.events.into_iter())
            .filter_map(|(id, acc)| Some((resolver.event(id)?.clone(), acc.into_stats())))
            .collect();
        SeriesStats {
            requests: self.requests,
            latency,
            events,
        }
    }
}

impl EventAcc {
    fn record(&mut self, units: Option<i64>) {
        self.count += 1;
        if let Some(units) = units {
            self.values.observe(units);
            let sketch = if units < 0 {
                &mut self.negative
            } else {
                &mut self.positive
            };
            sketch.insert(units.unsigned_abs());
        }
    }

    fn into_stats(self) -> EventStats {
        EventStats {
            count: self.count,
            values: self.values,
            positive: self.positive.to_sketch(),
            negative: self.negative.to_sketch(),
        }
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use rollgate_core::Cohort;

    use super::*;
    use crate::record::ErrorSide;
    use crate::series::{RegistryLimits, SeriesKey};

    fn setup() -> (Registry, SeriesId, Shard) {
        let registry = Registry::new(RegistryLimits::default(), ["page_load_ms"]);
        let id = registry
            .series(&SeriesKey::new("shop", "r", "v1", Cohort::Canary))
            .unwrap();
        (registry, id, Shard::new(WindowConfig::default()))
    }

    fn request(series: SeriesId, status: u16, latency_us: u64) -> RequestRecord {
        RequestRecord {
            series,
            status,
            latency_us,
            bytes_out: 100,
            error: None,
        }
    }

    #[test]
    fn records_close_into_their_windows() {
        let (registry, id, mut shard) = setup();
        for i in 0..1_000 {
            shard.record_request(10_000 + i, &request(id, 200, 1_000));
        }
        shard.record_request(11_000, &request(id, 503, 2_000));
        assert_eq!(shard.close_until(10_999, &registry), vec![]);
        let closed = shard.close_until(11_000, &registry);
        assert_eq!(closed.len(), 1);
        let stats = closed[0].series.values().next().unwrap();
        assert_eq!(
            (
                closed[0].start,
                stats.requests.requests,
                stats.requests.status[1]
            ),
            (10_000, 1_000, 1_000)
        );
        assert_eq!(stats.latency.sketch.count(), 1_000);
        assert_eq!(stats.latency.moments.sum, 1_000_000);
        assert_eq!(shard.open_windows(), 1);
        let closed = shard.close_until(20_000, &registry);
        assert_eq!(
            closed[0]
                .series
                .values()
                .next()
                .unwrap()
                .requests
                .version_errors,
            1
        );
        assert_eq!(shard.open_windows(), 0);
    }

    #[test]
    fn late_records_reopen_their_window_and_merge_later() {
        let (registry, id, mut shard) = setup();
        shard.record_request(1_500, &request(id, 200, 10));
        let first = shard.close_until(2_000, &registry);
        shard.record_request(1_700, &request(id, 200, 10));
        let mut late = shard.close_until(2_000, &registry);
        late[0].merge(&first[0]).unwrap();
        assert_eq!(late[0].series.values().next().unwrap().requests.requests, 2);
    }

    #[test]
    fn window_cap_bounds_open_windows_and_counts_drops() {
        let (registry, id, _) = setup();
        let mut shard = Shard::new(WindowConfig {
            width_ms: 1_000,
            max_open_windows: 2,
        });
        shard.record_request(0, &request(id, 200, 10));
        shard.record_request(1_000, &request(id, 200, 10));
        shard.record_request(5_000, &request(id, 200, 10));
        shard.record_request(9_000, &request(id, 200, 10));
        assert_eq!(shard.open_windows(), 2);
        let closed = shard.close_until(10_000, &registry);
        assert_eq!(
            closed.iter().map(|w| w.start).collect::<Vec<_>>(),
            vec![0, 1_000]
        );
        assert_eq!(closed[0].dropped.window_cap, 2);
        shard.drop_record(3_500, DropReason::SeriesCap);
        assert_eq!(
            shard.close_until(10_000, &registry)[0].dropped.series_cap,
            1
        );
    }

    #[test]
    fn events_keep_counts_values_and_drop_bad_values() {
        let (registry, id, mut shard) = setup();
        let event = registry.event("page_load_ms").unwrap();
        let click = registry.event("click").unwrap();
        for v in [100.0, 200.0, 300.0] {
            shard
                .record_event(
                    0,
                    &EventRecord {
                        series: id,
                        event,
                        value: Some(v),
                    },
                )
                .unwrap();
        }
        shard
            .record_event(
                0,
                &EventRecord {
                    series: id,
                    event: click,
                    value: None,
                },
            )
            .unwrap();
        let bad = EventRecord {
            series: id,
            event,
            value: Some(f64::NAN),
        };
        assert_eq!(shard.record_event(0, &bad), Err(DropReason::InvalidValue));
        let closed = shard.close_until(1_000, &registry);
        let stats = closed[0].series.values().next().unwrap();
        let page = &stats.events["page_load_ms"];
        assert_eq!(
            (page.count, page.values.n, page.values.mean()),
            (3, 3, Some(200_000_000.0))
        );
        assert_eq!(
            (stats.events["click"].count, stats.events["click"].values.n),
            (1, 0)
        );
        assert_eq!(closed[0].dropped.invalid_value, 1);
    }

    #[test]
    fn error_sides_reach_the_window() {
        let (registry, id, mut shard) = setup();
        let proxy = RequestRecord {
            error: Some(ErrorSide::Proxy),
            ..request(id, 502, 10)
        };
        shard.record_request(0, &proxy);
        let closed = shard.close_until(1_000, &registry);
        let counts = closed[0].series.values().next().unwrap().requests;
        assert_eq!(
            (counts.errors_on(ErrorSide::Proxy), counts.version_errors),
            (1, 0)
        );
    }
}
