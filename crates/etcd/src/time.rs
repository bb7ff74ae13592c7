//! Wall-clock time for reports, and the back-off every retry loop in this crate uses.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rollgate_core::model::UnixMillis;

/// Milliseconds since the Unix epoch.
pub(crate) fn now() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The pause after `round` failures: `base · 2^(round-1)`, capped at `max`, minus up to half
/// of it at random, so many clients that lost etcd together do not come back in lockstep.
/// Zero before the first failure.
pub(crate) fn backoff(base: Duration, round: u32, max: Duration) -> Duration {
    if round == 0 {
        return Duration::ZERO;
    }
    let full = base.saturating_mul(1 << (round - 1).min(16)).min(max);
    let cut = u64::try_from(full.as_millis() / 2).unwrap_or(u64::MAX);
    let random = RandomState::new().hash_one(round);
    full.saturating_sub(Duration::from_millis(if cut == 0 {
        0
    } else {
        random % cut
    }))
}

/// Sleeps for [`backoff`]`(base, failures, max)`: nothing before the first failure.
pub(crate) async fn pause(base: Duration, failures: u32, max: Duration) {
    let d = backoff(base, failures, max);
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        assert_eq!(backoff(base, 0, max), Duration::ZERO);
        for round in 1..40 {
            let d = backoff(base, round, max);
            let full = base.saturating_mul(1 << (round - 1).min(16)).min(max);
            assert!(d <= full && d >= full / 2, "round {round}: {d:?}");
        }
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now() > 1_577_836_800_000);
    }
}
