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

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> Millis {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
