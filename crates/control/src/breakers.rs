//! The canary's circuit breaker, as the controller sees it: a [`BreakerSource`] reports every
//! version's breaker (the in-process edge, or a fake), and [`OpenTracker`] turns reports into
//! "open since" — the start of the current run of not-closed reports, so a breaker cycling
//! open → half-open → open counts as one long outage.

use std::sync::{Mutex, PoisonError};
use std::time::UNIX_EPOCH;

use rollgate_core::model::UnixMillis;
use rollgate_edge::{BreakerState, TableHandle};
use serde::{Deserialize, Serialize};

/// One version's breaker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerStatus {
    /// The service.
    pub service: String,
    /// The version.
    pub version: String,
    /// `closed`, `open` or `half_open`.
    pub state: BreakerPhase,
    /// When it entered that state.
    pub since: UnixMillis,
}

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerPhase {
    /// Traffic flows.
    Closed,
    /// The version gets no traffic.
    Open,
    /// Probe requests test the version.
    HalfOpen,
}

/// Reports breakers. Called once per tick; must not block.
pub trait BreakerSource: Send + Sync {
    /// Every version's breaker that is known.
    fn breakers(&self) -> Vec<BreakerStatus>;
}

/// A fake whose reports tests set.
#[derive(Debug, Default)]
pub struct StaticBreakers {
    reports: Mutex<Vec<BreakerStatus>>,
}

/// Remembers since when a breaker has been continuously not closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenTracker {
    open_since: Option<UnixMillis>,
}

impl BreakerSource for TableHandle {
    fn breakers(&self) -> Vec<BreakerStatus> {
        self.breaker_states()
            .into_iter()
            .map(|b| BreakerStatus {
                service: b.service,
                version: b.version,
                state: match b.state {
                    BreakerState::Closed => BreakerPhase::Closed,
                    BreakerState::Open => BreakerPhase::Open,
                    BreakerState::HalfOpen => BreakerPhase::HalfOpen,
                },
                since: b
                    .since
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            })
            .collect()
    }
}

impl StaticBreakers {
    /// No reports.
    pub fn new() -> StaticBreakers {
        StaticBreakers::default()
    }

    /// Replaces the reports.
    pub fn set(&self, reports: Vec<BreakerStatus>) {
        *self.reports.lock().unwrap_or_else(PoisonError::into_inner) = reports;
    }
}

impl BreakerSource for StaticBreakers {
    fn breakers(&self) -> Vec<BreakerStatus> {
        self.reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl OpenTracker {
    /// Takes the latest report (`None`: the version is not reported) and returns since when
    /// the breaker has been not closed, if it is.
    pub fn observe(&mut self, report: Option<&BreakerStatus>) -> Option<UnixMillis> {
        match report {
            Some(r) if r.state != BreakerPhase::Closed => {
                let since = self.open_since.map_or(r.since, |s| s.min(r.since));
                self.open_since = Some(since);
            }
            _ => self.open_since = None,
        }
        self.open_since
    }

    /// Since when it has been not closed, as last observed.
    pub fn open_since(&self) -> Option<UnixMillis> {
        self.open_since
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(state: BreakerPhase, since: UnixMillis) -> BreakerStatus {
        BreakerStatus {
            service: "shop".into(),
            version: "v2".into(),
            state,
            since,
        }
    }

    #[test]
    fn open_and_half_open_count_as_one_outage_until_closed() {
        let mut t = OpenTracker::default();
        assert_eq!(t.observe(Some(&report(BreakerPhase::Closed, 1))), None);
        assert_eq!(t.observe(Some(&report(BreakerPhase::Open, 10))), Some(10));
        assert_eq!(
            t.observe(Some(&report(BreakerPhase::HalfOpen, 15))),
            Some(10)
        );
        assert_eq!(t.observe(Some(&report(BreakerPhase::Open, 16))), Some(10));
        assert_eq!(t.observe(Some(&report(BreakerPhase::Closed, 20))), None);
        assert_eq!(t.observe(None), None);
    }
}
