//! One upstream endpoint (`host:port`) of a version: whether it may take traffic (active
//! health checks and passive ejection), how many requests it has in flight, and its idle
//! keep-alive connections.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use rollgate_core::HealthCheckSpec;

use crate::clock::Millis;
use crate::pool::IdlePool;

/// An upstream endpoint and its health.
#[derive(Debug)]
pub(crate) struct Endpoint {
    addr: Box<str>,
    /// Idle keep-alive connections.
    pub(crate) pool: IdlePool,
    in_flight: AtomicU32,
    health: Health,
    check: Option<HealthCheckSpec>,
}

/// How an endpoint's health is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HealthPolicy {
    /// Whether an active checker runs for this endpoint (it then decides when an ejected
    /// endpoint comes back).
    pub(crate) active: bool,
    /// Consecutive failures (checks or connects) that take the endpoint out.
    pub(crate) unhealthy_threshold: u32,
    /// Consecutive successful checks that bring it back.
    pub(crate) healthy_threshold: u32,
    /// Without active checks: how long an ejected endpoint is skipped before real traffic
    /// tries it again.
    pub(crate) ejection_ms: Millis,
}

#[derive(Debug)]
struct Health {
    policy: HealthPolicy,
    /// Cleared by the active checker or by passive ejection when checks run.
    up: AtomicBool,
    /// Without active checks: skipped until this time.
    ejected_until: AtomicU64,
    connect_failures: AtomicU32,
    checks_ok: AtomicU32,
    checks_failed: AtomicU32,
}

/// Passive ejection without active checks: how long an endpoint is skipped.
pub(crate) const PASSIVE_EJECTION_MS: Millis = 5_000;

impl Endpoint {
    /// An endpoint at `addr`, healthy until shown otherwise, actively checked per `check`.
    pub(crate) fn new(
        addr: &str,
        policy: HealthPolicy,
        pool: IdlePool,
        check: Option<HealthCheckSpec>,
    ) -> Endpoint {
        Endpoint {
            addr: addr.into(),
            check,
            pool,
            in_flight: AtomicU32::new(0),
            health: Health {
                policy,
                up: AtomicBool::new(true),
                ejected_until: AtomicU64::new(0),
                connect_failures: AtomicU32::new(0),
                checks_ok: AtomicU32::new(0),
                checks_failed: AtomicU32::new(0),
            },
        }
    }

    /// `host:port`.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// The active health check, if any.
    pub(crate) fn check(&self) -> Option<&HealthCheckSpec> {
        self.check.as_ref()
    }

    /// May the load balancer pick this endpoint at `now`?
    #[inline]
    pub(crate) fn available(&self, now: Millis) -> bool {
        self.health.up.load(Ordering::Relaxed)
            && now >= self.health.ejected_until.load(Ordering::Relaxed)
    }

    /// Requests in flight.
    #[inline]
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts one more request in flight; each call must be matched by one [`Endpoint::end`].
    #[inline]
    pub(crate) fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request less in flight.
    #[inline]
    pub(crate) fn end(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// A connection attempt succeeded.
    #[inline]
    pub(crate) fn connect_succeeded(&self) {
        if self.health.connect_failures.load(Ordering::Relaxed) != 0 {
            self.health.connect_failures.store(0, Ordering::Relaxed);
        }
    }

    /// A connection attempt failed at `now`: after `unhealthy_threshold` in a row the
    /// endpoint is ejected (until the active checker sees it healthy again, or for
    /// [`HealthPolicy::ejection_ms`] without active checks). Returns true when this failure
    /// ejected it.
    pub(crate) fn connect_failed(&self, now: Millis) -> bool {
        let h = &self.health;
        let run = h
            .connect_failures
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        if run < h.policy.unhealthy_threshold {
            return false;
        }
        if h.policy.active {
            h.checks_ok.store(0, Ordering::Relaxed);
            h.up.swap(false, Ordering::AcqRel)
        } else {
            let until = now.saturating_add(h.policy.ejection_ms);
            h.ejected_until.swap(until, Ordering::AcqRel) <= now
        }
    }

    /// Records an active check result; returns the new health when it changed.
    pub(crate) fn check_result(&self, ok: bool) -> Option<bool> {
        let h = &self.health;
        let (mine, other, threshold) = if ok {
            (&h.checks_ok, &h.checks_failed, h.policy.healthy_threshold)
        } else {
            (&h.checks_failed, &h.checks_ok, h.policy.unhealthy_threshold)
        };
        other.store(0, Ordering::Relaxed);
        let run = mine.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if run < threshold || h.up.load(Ordering::Acquire) == ok {
            return None;
        }
        h.up.store(ok, Ordering::Release);
        if ok {
            h.connect_failures.store(0, Ordering::Relaxed);
        }
        Some(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(active: bool) -> Endpoint {
        let policy = HealthPolicy {
            active,
            unhealthy_threshold: 3,
            healthy_threshold: 2,
            ejection_ms: 5_000,
        };
        Endpoint::new("127.0.0.1:1", policy, IdlePool::new(4, 60_000), None)
    }

    #[test]
    fn passive_ejection_without_checks_lasts_the_ejection_time() {
        let e = endpoint(false);
        assert!(!e.connect_failed(10));
        e.connect_succeeded();
        assert!(!e.connect_failed(11));
        assert!(!e.connect_failed(12));
        assert!(e.available(12));
        assert!(e.connect_failed(13));
        assert!(!e.available(14));
        assert!(!e.available(5_012));
        assert!(e.available(5_013));
        // Still failing when tried again: ejected again at once.
        assert!(e.connect_failed(5_013));
        assert!(!e.available(5_014));
    }

    #[test]
    fn with_active_checks_an_ejected_endpoint_waits_for_healthy_checks() {
        let e = endpoint(true);
        for t in 0..3 {
            e.connect_failed(t);
        }
        assert!(!e.available(1_000_000));
        assert_eq!(e.check_result(true), None);
        assert_eq!(e.check_result(true), Some(true));
        assert!(e.available(0));
    }

    #[test]
    fn active_checks_use_both_thresholds() {
        let e = endpoint(true);
        assert_eq!(e.check_result(false), None);
        assert_eq!(e.check_result(false), None);
        assert_eq!(e.check_result(true), None);
        assert_eq!(e.check_result(false), None);
        assert_eq!(e.check_result(false), None);
        assert_eq!(e.check_result(false), Some(false));
        assert!(!e.available(0));
        assert_eq!(e.check_result(false), None);
        assert_eq!(e.check_result(true), None);
        assert_eq!(e.check_result(true), Some(true));
        assert_eq!(e.check_result(true), None);
    }

    #[test]
    fn in_flight_counts_requests() {
        let e = endpoint(false);
        e.begin();
        e.begin();
        assert_eq!(e.in_flight(), 2);
        e.end();
        assert_eq!(e.in_flight(), 1);
        e.end();
        assert_eq!(e.in_flight(), 0);
        assert_eq!(e.addr(), "127.0.0.1:1");
    }
}
