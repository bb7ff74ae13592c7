//! [`WindowMerger`]: the leader's side of telemetry from many edges. Edges push batches of
//! closed windows numbered by `(edge, incarnation, seq)`; a batch seen before (a retry whose
//! answer was lost) is acknowledged and ignored. Windows of the same start are merged across
//! edges and held until complete — every live edge has closed past the window's end — or
//! until a grace period has passed (an edge that is slow or silent cannot stall the analysis).
//!
//! Pure: time is passed in, nothing is read from a clock, so the rules are tested exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rollgate_core::model::UnixMillis;
use rollgate_metrics::Window;
use serde::{Deserialize, Serialize};

use crate::seqs::SeqSet;

/// What an edge pushes: windows it closed, numbered for de-duplication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowBatch {
    /// The edge (`pop-fra-1`).
    pub edge_id: String,
    /// One run of the edge process (its start time and a random part): a restarted edge
    /// numbers its batches from 0 again without being mistaken for a retry.
    pub incarnation: String,
    /// The batch's number within the incarnation: 0, 1, 2… A retry repeats it.
    pub seq: u64,
    /// The edge has closed (and sent, in this or earlier batches) every window ending at or
    /// before this time.
    pub closed_until: UnixMillis,
    /// The windows, oldest first (may be empty: the batch then only reports progress).
    pub windows: Vec<Window>,
}

/// The leader's answer to a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReceipt {
    /// True when this batch was already received (nothing was merged again).
    pub duplicate: bool,
    /// Windows merged in.
    pub windows: usize,
    /// Windows refused (another width), with the reason.
    pub refused: Vec<String>,
}

/// Merges windows from many edges until each is complete.
#[derive(Debug)]
pub struct WindowMerger {
    width_ms: u32,
    grace_ms: i64,
    pending: BTreeMap<UnixMillis, Pending>,
    edges: HashMap<String, EdgeProgress>,
}

#[derive(Debug)]
struct Pending {
    window: Window,
    /// When the first part of it arrived.
    since: UnixMillis,
}

#[derive(Debug, Default)]
struct EdgeProgress {
    incarnation: String,
    delivered: SeqSet,
    closed_until: UnixMillis,
    last_seen: UnixMillis,
}

impl WindowMerger {
    /// A merger of windows `width_ms` wide that releases an incomplete window `grace_ms`
    /// after its first part arrived.
    pub fn new(width_ms: u32, grace_ms: i64) -> WindowMerger {
        WindowMerger {
            width_ms,
            grace_ms,
            pending: BTreeMap::new(),
            edges: HashMap::new(),
        }
    }

    /// Takes in a batch received at `now`.
    pub fn accept(&mut self, batch: WindowBatch, now: UnixMillis) -> BatchReceipt {
        let edge = self.edges.entry(batch.edge_id.clone()).or_default();
        if edge.incarnation != batch.incarnation {
            // A new run of the edge: its numbering starts again.
            *edge = EdgeProgress {
                incarnation: batch.incarnation.clone(),
                ..EdgeProgress::default()
            };
        }
        edge.last_seen = now;
        if edge.delivered.contains(batch.seq) {
            return BatchReceipt {
                duplicate: true,
                ..BatchReceipt::default()
            };
        }
        edge.delivered.insert(batch.seq);
        edge.closed_until = edge.closed_until.max(batch.closed_until);
        let mut receipt = BatchReceipt::default();
        for window in batch.windows {
            if window.width_ms != self.width_ms
                || Window::start_of(window.start, window.width_ms) != window.start
            {
                receipt.refused.push(format!(
                    "window [{}, +{}ms) from {}: the control plane uses {}ms windows",
                    window.start, window.width_ms, batch.edge_id, self.width_ms
                ));
                continue;
            }
            let start = window.start;
            match self.pending.get_mut(&start) {
                Some(p) => {
                    if let Err(e) = p.window.absorb(window) {
                        receipt.refused.push(e.to_string());
                        continue;
                    }
                }
                None => {
                    self.pending.insert(start, Pending { window, since: now });
                }
            }
            receipt.windows += 1;
        }
        receipt
    }

    /// The windows ready at `now`, oldest first: complete for every edge in `live`, or
    /// waiting longer than the grace period. They leave the merger.
    pub fn ready(&mut self, now: UnixMillis, live: &BTreeSet<String>) -> Vec<Window> {
        let done: Vec<UnixMillis> = self
            .pending
            .iter()
            .filter(|(_, p)| self.complete(&p.window, live) || now - p.since >= self.grace_ms)
            .map(|(start, _)| *start)
            .collect();
        done.into_iter()
            .filter_map(|start| self.pending.remove(&start).map(|p| p.window))
            .collect()
    }

    /// Forgets edges not heard from since `before` (their de-duplication memory).
    pub fn forget_edges_before(&mut self, before: UnixMillis) {
        self.edges.retain(|_, e| e.last_seen >= before);
    }

    /// Windows held back now.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn complete(&self, window: &Window, live: &BTreeSet<String>) -> bool {
        !live.is_empty()
            && live.iter().all(|edge| {
                self.edges
                    .get(edge)
                    .is_some_and(|p| p.closed_until >= window.end())
            })
    }
}

#[cfg(test)]
mod tests {
    use rollgate_core::Cohort;
    use rollgate_metrics::SeriesKey;

    use super::*;

    fn window(start: UnixMillis, requests: u64) -> Window {
        let mut w = Window::new(start, 1_000);
        let key = SeriesKey::new("shop", "r", "v2", Cohort::Canary);
        w.series.entry(key).or_default().requests.requests = requests;
        w
    }

    fn batch(edge: &str, seq: u64, closed_until: UnixMillis, windows: Vec<Window>) -> WindowBatch {
        WindowBatch {
            edge_id: edge.into(),
            incarnation: "boot-1".into(),
            seq,
            closed_until,
            windows,
        }
    }

    fn live(edges: &[&str]) -> BTreeSet<String> {
        edges.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn a_window_is_released_once_every_live_edge_closed_past_it() {
        let mut m = WindowMerger::new(1_000, 5_000);
        let all = live(&["a", "b"]);
        m.accept(batch("a", 0, 2_000, vec![window(1_000, 3)]), 2_100);
        assert!(m.ready(2_100, &all).is_empty(), "b has not reported yet");
        // b had no traffic in that window: its progress alone completes it.
        m.accept(batch("b", 0, 2_000, vec![]), 2_200);
        let out = m.ready(2_200, &all);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].records(), 3);
        assert_eq!(m.pending(), 0);
    }

    #[test]
    fn retries_are_counted_once() {
        let mut m = WindowMerger::new(1_000, 5_000);
        let b = batch("a", 7, 2_000, vec![window(1_000, 4)]);
        assert_eq!(m.accept(b.clone(), 2_000).windows, 1);
        let again = m.accept(b.clone(), 2_050);
        assert!(again.duplicate);
        // A restarted edge numbers from scratch: not a duplicate.
        let mut restarted = b;
        restarted.incarnation = "boot-2".into();
        restarted.windows = vec![window(1_000, 1)];
        assert!(!m.accept(restarted, 2_100).duplicate);
        let out = m.ready(2_100, &live(&["a"]));
        assert_eq!(out[0].records(), 5);
    }

    #[test]
    fn a_silent_edge_delays_a_window_only_for_the_grace_period() {
        let mut m = WindowMerger::new(1_000, 3_000);
        let all = live(&["a", "silent"]);
        m.accept(batch("a", 0, 2_000, vec![window(1_000, 2)]), 2_000);
        assert!(m.ready(4_999, &all).is_empty());
        assert_eq!(m.ready(5_000, &all).len(), 1);
    }

    #[test]
    fn merged_windows_equal_the_sum_of_the_edges() {
        let mut m = WindowMerger::new(1_000, 10_000);
        let edges = ["a", "b", "c"];
        for (i, e) in edges.iter().enumerate() {
            let n = (i as u64 + 1) * 10;
            m.accept(
                batch(e, 0, 3_000, vec![window(1_000, n), window(2_000, n)]),
                3_000,
            );
        }
        let out = m.ready(3_000, &live(&edges));
        assert_eq!(
            out.iter().map(Window::records).collect::<Vec<_>>(),
            [60, 60]
        );
    }

    #[test]
    fn windows_of_another_width_are_refused() {
        let mut m = WindowMerger::new(1_000, 1_000);
        let r = m.accept(batch("a", 0, 2_000, vec![Window::new(0, 500)]), 2_000);
        assert_eq!((r.windows, r.refused.len()), (0, 1));
        assert!(r.refused[0].contains("1000ms"), "{:?}", r.refused);
    }

    #[test]
    fn quiet_edges_are_forgotten() {
        let mut m = WindowMerger::new(1_000, 1_000);
        m.accept(batch("a", 0, 1_000, vec![]), 1_000);
        m.forget_edges_before(2_000);
        assert!(!m.accept(batch("a", 0, 1_000, vec![]), 3_000).duplicate);
    }
}
