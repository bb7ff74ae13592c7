//! The load generator's rate limit: every request first takes the next free slot of a fixed
//! schedule (one slot every `1 / rps` seconds, shared by all workers). Slots are not saved up
//! while the workers are busy, so a slow moment is never followed by a burst.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Hands out request slots at a fixed rate.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// A pacer for `rps` requests per second (at least one).
    pub fn new(rps: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(1) / rps.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// The time of the next free slot, which is then taken.
    pub fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = (*next).max(now);
        *next = slot + self.interval;
        slot
    }

    /// Waits for the next free slot.
    pub async fn wait(&self) {
        tokio::time::sleep_until(self.reserve()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_spaced_by_the_rate_and_never_saved_up() {
        let pacer = Pacer::new(100);
        let first = pacer.reserve();
        let gaps: Vec<u128> = (1..5)
            .map(|_| (pacer.reserve() - first).as_millis())
            .collect();
        assert_eq!(gaps, [10, 20, 30, 40]);
        tokio::time::sleep(Duration::from_millis(120)).await;
        // The idle time does not become slots to spend at once.
        let before = Instant::now();
        let a = pacer.reserve();
        let b = pacer.reserve();
        assert!(a >= before);
        assert_eq!(b - a, Duration::from_millis(10));
    }

    #[tokio::test]
    async fn waiting_takes_the_time_of_the_schedule() {
        let pacer = Pacer::new(200);
        let start = Instant::now();
        for _ in 0..11 {
            pacer.wait().await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(50),
            "{:?}",
            start.elapsed()
        );
    }
}
