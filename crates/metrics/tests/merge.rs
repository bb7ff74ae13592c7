//! Window merging is exact, associative and commutative: records split over any number of
//! shards, merged in any order, sent over the wire or not, give the same window.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rollgate_core::Cohort;
use rollgate_metrics::{
    Aggregate, ErrorSide, EventRecord, Registry, RegistryLimits, RequestRecord, SeriesFilter,
    SeriesKey, Shard, Window, WindowConfig,
};

const EVENTS: [&str; 3] = ["exposure", "conversion", "page_load_ms"];

#[derive(Clone, Debug)]
enum Record {
    Request {
        series: usize,
        status: u16,
        latency_us: u64,
        side: Option<ErrorSide>,
    },
    Event {
        series: usize,
        event: usize,
        value: Option<f64>,
    },
}

fn record() -> impl Strategy<Value = Record> {
    let side = prop_oneof![
        Just(None),
        Just(Some(ErrorSide::Upstream)),
        Just(Some(ErrorSide::Downstream)),
        Just(Some(ErrorSide::Proxy))
    ];
    let status = prop_oneof![Just(0u16), 100u16..600];
    let latency = (0u32..40).prop_flat_map(|bits| 0u64..(1u64 << bits).max(1));
    let request =
        (0..3usize, status, latency, side).prop_map(|(series, status, latency_us, side)| {
            Record::Request {
                series,
                status,
                latency_us,
                side,
            }
        });
    let value = prop_oneof![Just(None), (-1e6f64..1e6).prop_map(Some)];
    let event =
        (0..3usize, 0..EVENTS.len(), value).prop_map(|(series, event, value)| Record::Event {
            series,
            event,
            value,
        });
    prop_oneof![3 => request, 1 => event]
}

struct World {
    registry: Registry,
    keys: Vec<SeriesKey>,
}

impl World {
    fn new() -> World {
        let registry = Registry::new(RegistryLimits::default(), EVENTS);
        let keys: Vec<SeriesKey> = [
            ("v1", Cohort::Stable),
            ("v1", Cohort::Baseline),
            ("v2", Cohort::Canary),
        ]
        .into_iter()
        .map(|(version, cohort)| SeriesKey::new("shop", "shop-v2", version, cohort))
        .collect();
        World { registry, keys }
    }

    /// Records into one shard and closes its single window.
    fn window(&self, records: &[Record]) -> Window {
        let mut shard = Shard::new(WindowConfig::default());
        for (i, r) in records.iter().enumerate() {
            let at = 5_000 + (i as i64 % 1_000);
            match *r {
                Record::Request {
                    series,
                    status,
                    latency_us,
                    side,
                } => {
                    let series = self.registry.series(&self.keys[series]).unwrap();
                    let record = RequestRecord {
                        series,
                        status,
                        latency_us,
                        bytes_out: latency_us / 7,
                        error: side,
                    };
                    shard.record_request(at, &record);
                }
                Record::Event {
                    series,
                    event,
                    value,
                } => {
                    let series = self.registry.series(&self.keys[series]).unwrap();
                    let event = self.registry.event(EVENTS[event]).unwrap();
                    shard
                        .record_event(
                            at,
                            &EventRecord {
                                series,
                                event,
                                value,
                            },
                        )
                        .unwrap();
                }
            }
        }
        let mut closed = shard.close_until(6_000, &self.registry);
        closed.pop().unwrap_or_else(|| Window::new(5_000, 1_000))
    }
}

fn merged(a: &Window, b: &Window) -> Window {
    let mut out = a.clone();
    out.merge(b).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_is_associative_and_commutative(
        a in prop::collection::vec(record(), 0..60),
        b in prop::collection::vec(record(), 0..60),
        c in prop::collection::vec(record(), 0..60),
    ) {
        let world = World::new();
        let (a, b, c) = (world.window(&a), world.window(&b), world.window(&c));
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        prop_assert_eq!(merged(&a, &Window::new(5_000, 1_000)), a);
    }

    #[test]
    fn any_split_over_shards_gives_the_same_window(
        records in prop::collection::vec(record(), 0..200),
        shard_of in prop::collection::vec(0..4usize, 200),
        reverse in any::<bool>(),
    ) {
        let world = World::new();
        let whole = world.window(&records);
        let mut parts: Vec<Vec<Record>> = vec![Vec::new(); 4];
        for (r, &s) in records.iter().zip(&shard_of) {
            parts[s].push(r.clone());
        }
        let mut windows: Vec<Window> = parts.iter().map(|p| world.window(p)).collect();
        if reverse {
            windows.reverse();
        }
        let mut total = Window::new(5_000, 1_000);
        for w in &windows {
            // Through the wire form, as an edge would push it.
            let wire: Window = serde_json::from_str(&serde_json::to_string(w).unwrap()).unwrap();
            total.merge(&wire).unwrap();
        }
        prop_assert_eq!(&total, &whole);
        let requests = records.iter().filter(|r| matches!(r, Record::Request { .. })).count() as u64;
        let aggregate = Aggregate::of([&total], &SeriesFilter::all(), 0, 10_000);
        prop_assert_eq!(aggregate.stats.requests.requests, requests);
        prop_assert_eq!(aggregate.stats.latency.sketch.count(), requests);
        prop_assert_eq!(aggregate.stats.records(), records.len() as u64);
    }
}
