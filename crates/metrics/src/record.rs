//! What the proxy and the event ingest record: one request, one client event, and the
//! reasons a record can be dropped.

use serde::{Deserialize, Serialize};

use crate::series::{EventId, SeriesId};

/// Which side of the proxy caused a failed request. Only [`ErrorSide::Upstream`] counts
/// against a version: a client that goes away or a fault of the proxy itself never does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSide {
    /// The version's upstream failed: refused or reset the connection, timed out, sent a
    /// malformed response. The proxy answers 502 or 504 and the version is charged.
    Upstream,
    /// The client went away or sent something broken. Never charged to a version.
    Downstream,
    /// The proxy itself failed (no healthy endpoint, internal error, overload). Never charged
    /// to a version.
    Proxy,
}

/// One proxied request, as the edge records it after the response is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// The series (service, rollout, version, cohort) the request belongs to.
    pub series: SeriesId,
    /// The HTTP status sent to the client; [`RequestRecord::NO_STATUS`] when the request ended
    /// before any status was sent.
    pub status: u16,
    /// Time from the request's arrival to the end of the response, in microseconds.
    pub latency_us: u64,
    /// Response bytes sent to the client.
    pub bytes_out: u64,
    /// Which side failed, when something failed.
    pub error: Option<ErrorSide>,
}

/// One client event (`exposure`, `click`, `page_load_ms` …), already resolved to a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventRecord {
    /// The series the unit was in when the event happened.
    pub series: SeriesId,
    /// The event name.
    pub event: EventId,
    /// The event's value (`page_load_ms = 840`), if it carries one.
    pub value: Option<f64>,
}

/// Why a record was not counted. Every drop is counted and exposed as
/// `rollgate_dropped_records_total{reason}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// A new series would exceed the series cap.
    SeriesCap,
    /// A new event name would exceed the event-name cap.
    EventCap,
    /// An event value that is not finite or is beyond ±[`MAX_EVENT_VALUE`].
    InvalidValue,
    /// A record for a window that could not be opened: the shard already holds its maximum
    /// number of open windows.
    WindowCap,
    /// A closed window that arrived after its retention had passed.
    Late,
}

/// Per-reason drop counts. Merge by adding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DropCounts {
    /// See [`DropReason::SeriesCap`].
    pub series_cap: u64,
    /// See [`DropReason::EventCap`].
    pub event_cap: u64,
    /// See [`DropReason::InvalidValue`].
    pub invalid_value: u64,
    /// See [`DropReason::WindowCap`].
    pub window_cap: u64,
    /// See [`DropReason::Late`].
    pub late: u64,
}

/// The largest event value magnitude accepted: values are kept exactly to six decimal places
/// in 64-bit integers.
pub const MAX_EVENT_VALUE: f64 = 9.0e12;

/// Scale of event values: they are kept as integer millionths.
pub const EVENT_VALUE_SCALE: f64 = 1e6;

impl RequestRecord {
    /// The `status` of a request that ended before any status was sent to the client.
    pub const NO_STATUS: u16 = 0;

    /// True when the request counts as a failure of its version in `error_rate`: a 5xx response
    /// the upstream returned itself, or one the proxy sent because the upstream failed. 5xx
    /// caused by the proxy or the client are not the version's fault.
    #[inline]
    pub fn is_version_error(&self) -> bool {
        (500..600).contains(&self.status) && matches!(self.error, None | Some(ErrorSide::Upstream))
    }
}

impl ErrorSide {
    /// Every side, in label order.
    pub const ALL: [ErrorSide; 3] = [ErrorSide::Upstream, ErrorSide::Downstream, ErrorSide::Proxy];

    /// The label value (`upstream`, `downstream`, `proxy`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSide::Upstream => "upstream",
            ErrorSide::Downstream => "downstream",
            ErrorSide::Proxy => "proxy",
        }
    }
}

impl DropReason {
    /// Every reason, in label order.
    pub const ALL: [DropReason; 5] = [
        DropReason::SeriesCap,
        DropReason::EventCap,
        DropReason::InvalidValue,
        DropReason::WindowCap,
        DropReason::Late,
    ];

    /// The label value (`series_cap`, `event_cap`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::SeriesCap => "series_cap",
            DropReason::EventCap => "event_cap",
            DropReason::InvalidValue => "invalid_value",
            DropReason::WindowCap => "window_cap",
            DropReason::Late => "late",
        }
    }
}

impl DropCounts {
    /// Counts `n` drops for `reason`.
    pub fn add(&mut self, reason: DropReason, n: u64) {
        let slot = self.slot(reason);
        *slot = slot.saturating_add(n);
    }

    /// The count for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::SeriesCap => self.series_cap,
            DropReason::EventCap => self.event_cap,
            DropReason::InvalidValue => self.invalid_value,
            DropReason::WindowCap => self.window_cap,
            DropReason::Late => self.late,
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &DropCounts) {
        for reason in DropReason::ALL {
            self.add(reason, other.get(reason));
        }
    }

    /// All drops, whatever the reason.
    pub fn total(&self) -> u64 {
        (DropReason::ALL.iter()).fold(0, |n, &r| n.saturating_add(self.get(r)))
    }

    /// True when nothing was dropped.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    fn slot(&mut self, reason: DropReason) -> &mut u64 {
        match reason {
            DropReason::SeriesCap => &mut self.series_cap,
            DropReason::EventCap => &mut self.event_cap,
            DropReason::InvalidValue => &mut self.invalid_value,
            DropReason::WindowCap => &mut self.window_cap,
            DropReason::Late => &mut self.late,
        }
    }
}

/// An event value as exact integer millionths, or `None` when it is not finite or too large.
pub fn event_value_units(v: f64) -> Option<i64> {
    (v.is_finite() && v.abs() <= MAX_EVENT_VALUE).then(|| (v * EVENT_VALUE_SCALE).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: u16, error: Option<ErrorSide>) -> RequestRecord {
        RequestRecord {
            series: SeriesId(0),
            status,
            latency_us: 1,
            bytes_out: 0,
            error,
        }
    }

    #[test]
    fn only_upstream_5xx_count_against_the_version() {
        assert!(record(500, None).is_version_error());
        assert!(record(503, None).is_version_error());
        assert!(record(502, Some(ErrorSide::Upstream)).is_version_error());
        assert!(!record(502, Some(ErrorSide::Proxy)).is_version_error());
        assert!(!record(503, Some(ErrorSide::Downstream)).is_version_error());
        assert!(!record(404, None).is_version_error());
        assert!(!record(200, Some(ErrorSide::Upstream)).is_version_error());
        assert!(!record(RequestRecord::NO_STATUS, Some(ErrorSide::Upstream)).is_version_error());
    }

    #[test]
    fn event_values_are_exact_millionths_within_range() {
        assert_eq!(event_value_units(1.5), Some(1_500_000));
        assert_eq!(event_value_units(-0.000_001), Some(-1));
        assert_eq!(
            event_value_units(MAX_EVENT_VALUE),
            Some(9_000_000_000_000_000_000)
        );
        assert_eq!(event_value_units(1e13), None);
        assert_eq!(event_value_units(f64::NAN), None);
        assert_eq!(event_value_units(f64::INFINITY), None);
    }

    #[test]
    fn drop_counts_add_and_merge() {
        let mut a = DropCounts::default();
        a.add(DropReason::EventCap, 2);
        let mut b = DropCounts::default();
        b.add(DropReason::Late, 3);
        b.add(DropReason::EventCap, 1);
        a.merge(&b);
        assert_eq!(a.event_cap, 3);
        assert_eq!(a.late, 3);
        assert_eq!(a.total(), 6);
        assert!(DropCounts::default().is_empty());
    }
}
