//! The edge's monotonic clock in milliseconds: cheap to read on the hot path and easy to pass
//! into the breaker and endpoint state, so their logic is tested with made-up times.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// Milliseconds since the first time the edge read its clock (monotonic).
pub(crate) type Millis = u64;

static START: OnceLock<Instant> = OnceLock::new();

fn start() -> Instant {
    *START.get_or_init(Instant::now)
}

/// Now, in milliseconds on the edge's monotonic clock.
pub(crate) fn now_ms() -> Millis {
    millis(start().elapsed())
}

/// Instant `at` in milliseconds on the edge's monotonic clock (no clock read: the request path
/// reads the clock once on arrival and once at the end, and derives everything else).
pub(crate) fn ms_at(at: Instant) -> Millis {
    millis(at.saturating_duration_since(start()))
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> Millis {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// When a request arrived. The request path reads the clocks once on arrival and once at the
/// end; every other time it needs is derived from these.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arrival {
    /// The monotonic instant.
    pub(crate) at: Instant,
    /// Milliseconds since the Unix epoch.
    pub(crate) unix_ms: i64,
}

impl Arrival {
    /// Now.
    pub(crate) fn now() -> Arrival {
        let unix_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Arrival {
            at: Instant::now(),
            unix_ms,
        }
    }

    /// The arrival on the edge's monotonic millisecond clock.
    pub(crate) fn ms(&self) -> Millis {
        ms_at(self.at)
    }

    /// Whole seconds since the Unix epoch.
    pub(crate) fn unix_secs(&self) -> u64 {
        u64::try_from(self.unix_ms / 1000).unwrap_or(0)
    }
}

/// The wall-clock time of monotonic instant `at` (for reports: "open since 12:03:04").
pub(crate) fn wall_time(at: Millis) -> SystemTime {
    let ago = now_ms().saturating_sub(at);
    SystemTime::now()
        .checked_sub(Duration::from_millis(ago))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward_and_maps_to_wall_time() {
        let a = now_ms();
        std::thread::sleep(Duration::from_millis(5));
        let b = now_ms();
        assert!(b >= a + 5, "{a} {b}");
        let wall = wall_time(a);
        let age = SystemTime::now().duration_since(wall).unwrap_or_default();
        assert!(
            age >= Duration::from_millis(5) && age < Duration::from_secs(5),
            "{age:?}"
        );
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }
}
