//! The breaker's rolling window: requests and failures over the last `window`, in ten
//! buckets of packed atomic counters, so recording is one compare-and-swap.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Millis;

/// Failures and requests over the last `window`, in ten buckets.
#[derive(Debug)]
pub(super) struct RollingWindow {
    bucket_ms: Millis,
    /// Each slot packs its bucket number (24 bits), requests (20 bits) and failures (20 bits).
    slots: [AtomicU64; BUCKETS],
}

const BUCKETS: usize = 10;
const EPOCH_BITS: u32 = 24;
const COUNT_BITS: u32 = 20;
const COUNT_MAX: u64 = (1 << COUNT_BITS) - 1;
const EPOCH_MASK: u64 = (1 << EPOCH_BITS) - 1;

impl RollingWindow {
    /// An empty window `window_ms` long.
    pub(super) fn new(window_ms: Millis) -> RollingWindow {
        RollingWindow {
            bucket_ms: (window_ms / BUCKETS as u64).max(1),
            slots: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn epoch(&self, now: Millis) -> u64 {
        (now / self.bucket_ms) & EPOCH_MASK
    }

    /// Counts a request at `now`, failed or not.
    pub(super) fn add(&self, now: Millis, failed: bool) {
        let epoch = self.epoch(now);
        let slot = &self.slots[(now / self.bucket_ms) as usize % BUCKETS];
        let mut seen = slot.load(Ordering::Relaxed);
        loop {
            let (e, mut requests, mut failures) = unpack_slot(seen);
            if e != epoch {
                (requests, failures) = (0, 0);
            }
            requests = (requests + 1).min(COUNT_MAX);
            failures = (failures + u64::from(failed)).min(COUNT_MAX);
            let next = pack_slot(epoch, requests, failures);
            match slot.compare_exchange_weak(seen, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(actual) => seen = actual,
            }
        }
    }

    /// (requests, failures) in the buckets that are still inside the window at `now`.
    pub(super) fn totals(&self, now: Millis) -> (u64, u64) {
        let epoch = self.epoch(now);
        self.slots.iter().fold((0, 0), |(r, f), slot| {
            let (e, requests, failures) = unpack_slot(slot.load(Ordering::Relaxed));
            let age = epoch.wrapping_sub(e) & EPOCH_MASK;
            if age < BUCKETS as u64 {
                (r + requests, f + failures)
            } else {
                (r, f)
            }
        })
    }

    /// Forgets everything.
    pub(super) fn clear(&self) {
        for slot in &self.slots {
            slot.store(0, Ordering::Relaxed);
        }
    }
}

fn pack_slot(epoch: u64, requests: u64, failures: u64) -> u64 {
    (epoch << (2 * COUNT_BITS)) | (requests << COUNT_BITS) | failures
}

fn unpack_slot(word: u64) -> (u64, u64, u64) {
    (
        word >> (2 * COUNT_BITS),
        (word >> COUNT_BITS) & COUNT_MAX,
        word & COUNT_MAX,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_saturate_instead_of_overflowing() {
        let w = RollingWindow::new(10_000);
        for _ in 0..(COUNT_MAX + 5) {
            w.add(0, true);
        }
        assert_eq!(w.totals(0), (COUNT_MAX, COUNT_MAX));
        w.clear();
        assert_eq!(w.totals(0), (0, 0));
    }
}
