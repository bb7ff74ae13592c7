//! Telemetry in: client SDK events (`POST /v1/events`) joined to a version and cohort through
//! the current routing table, and closed windows pushed by edges. Both land in the same
//! windows the analysis reads.
//!
//! An event's series is `(service, rollout, version, cohort)`:
//! - without `version`, the unit's assignment decides all of it (the unit's bucket in the
//!   service's rollout, its audience, the current weight);
//! - with a valid `version` (the one the client actually saw), that version is recorded; the
//!   cohort is the unit's assigned cohort when the assignment gives that same version, else
//!   `canary` when it is the rollout's canary, else `stable`.
//!
//! Events are recorded at the time they arrive (client clocks are not trusted), into the
//! control plane's own recorder, whose windows the loop closes every tick.

use rollgate_core::model::UnixMillis;
use rollgate_core::{AttributesView, Cohort, Decision, RoutingTable, did_you_mean};
use rollgate_metrics::{MAX_EVENT_VALUE, RecordError, SeriesKey, Window, is_event_name};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plane::ControlPlane;
use crate::windows::InsertReport;

/// Longest unit id accepted (bytes).
pub const MAX_UNIT_LEN: usize = 256;

/// One client event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The service the unit used (`shop`).
    pub service: String,
    /// The unit (user id, anonymous cookie value): the same id the edge buckets.
    pub unit: String,
    /// The event name (`exposure`, `conversion`, `page_load_ms`): 1–64 of `a-z 0-9 _`,
    /// starting with a letter.
    pub event: String,
    /// A value (`page_load_ms`: 812.5), for means and quantiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The version the client saw (its `X-Version` header), when it knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Request attributes the audience rules read (country, headers, ip …).
    #[serde(default)]
    pub attributes: AttributesView,
}

/// What happened to a batch of events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Events recorded.
    pub accepted: usize,
    /// Events refused, each with its position, field and reason.
    pub rejected: Vec<EventError>,
}

/// One refused event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventError {
    /// Its position in the batch (0-based).
    pub index: usize,
    /// The field at fault (`service`, `event`, `value`, …; empty for the whole event).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl ControlPlane {
    /// Records a batch of events; each is judged on its own (one bad event does not refuse
    /// the others).
    pub fn record_events(&self, events: &[Event]) -> IngestReport {
        let table = self.routing();
        let now = self.now();
        let mut report = IngestReport::default();
        for (index, event) in events.iter().enumerate() {
            match self.record_one(&table, event, now) {
                Ok(()) => report.accepted += 1,
                Err((field, reason)) => report.rejected.push(EventError {
                    index,
                    field: field.to_string(),
                    reason,
                }),
            }
        }
        report
    }

    /// Parses and records a batch of JSON events: a malformed event is refused with the path
    /// of the bad field, the others are recorded.
    pub fn record_json_events(&self, events: &[Value]) -> IngestReport {
        let mut parsed = Vec::with_capacity(events.len());
        let mut positions = Vec::with_capacity(events.len());
        let mut rejected = Vec::new();
        for (index, v) in events.iter().enumerate() {
            match serde_path_to_error::deserialize::<_, Event>(v) {
                Ok(e) => {
                    parsed.push(e);
                    positions.push(index);
                }
                Err(e) => {
                    let path = e.path().to_string();
                    rejected.push(EventError {
                        index,
                        field: if path == "." { String::new() } else { path },
                        reason: e.into_inner().to_string(),
                    });
                }
            }
        }
        let mut report = self.record_events(&parsed);
        for e in &mut report.rejected {
            e.index = positions.get(e.index).copied().unwrap_or(e.index);
        }
        report.rejected.extend(rejected);
        report.rejected.sort_by_key(|e| e.index);
        report
    }

    /// Merges closed windows (from edges, or the in-process edge's recorder) into the windows
    /// the analysis reads.
    pub fn ingest_windows(&self, windows: Vec<Window>) -> InsertReport {
        let report = self.inner.opts.windows.insert(windows, self.now());
        for r in &report.refused {
            tracing::warn!(reason = %r, "window refused");
        }
        report
    }

    fn record_one(
        &self,
        table: &RoutingTable,
        e: &Event,
        now: UnixMillis,
    ) -> Result<(), (&'static str, String)> {
        if e.unit.is_empty() || e.unit.len() > MAX_UNIT_LEN {
            return Err(("unit", format!("must be 1 to {MAX_UNIT_LEN} bytes")));
        }
        if !is_event_name(&e.event) {
            return Err((
                "event",
                format!(
                    "{:?} is not an event name: 1 to 64 of a-z, 0-9, _, starting with a letter",
                    e.event
                ),
            ));
        }
        if let Some(v) = e.value
            && !(v.is_finite() && v.abs() <= MAX_EVENT_VALUE)
        {
            return Err((
                "value",
                format!("{v} is not a finite number within ±{MAX_EVENT_VALUE}"),
            ));
        }
        let decision = table
            .assign(&e.service, &e.unit, &e.attributes)
            .map_err(|err| ("service", err.to_string()))?;
        let key = series_key(table, &decision, e.version.as_deref())?;
        self.inner
            .opts
            .events
            .record_event_named(now, &key, &e.event, e.value)
            .map_err(|err| match err {
                RecordError::Registry(r) => ("event", r.to_string()),
                RecordError::Dropped(d) => ("", format!("dropped: {}", d.as_str())),
            })
    }
}

/// The series an event lands in (see the module documentation).
fn series_key(
    table: &RoutingTable,
    d: &Decision<'_, '_>,
    version: Option<&str>,
) -> Result<SeriesKey, (&'static str, String)> {
    let rollout = d.rollout().unwrap_or("");
    let Some(v) = version else {
        return Ok(SeriesKey::new(
            d.service(),
            rollout,
            d.version(),
            d.cohort(),
        ));
    };
    let service = table.service(d.service());
    if service.is_none_or(|s| s.version_index(v).is_none()) {
        let known = service
            .map(|s| {
                s.versions
                    .iter()
                    .map(|x| x.name.as_str())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let hint = did_you_mean(v, known);
        return Err((
            "version",
            format!("{v:?} is not a version of {:?}{hint}", d.service()),
        ));
    }
    let cohort = if d.version() == v {
        d.cohort()
    } else if d
        .rollout()
        .and_then(|r| table.rollout(r))
        .is_some_and(|r| r.canary == v)
    {
        Cohort::Canary
    } else {
        Cohort::Stable
    };
    Ok(SeriesKey::new(d.service(), rollout, v, cohort))
}
