//! The `POST /v1/events` body, read event by event: one bad event is reported with its index,
//! field and reason, and the others in the batch still count. This module checks the shape,
//! the timestamp and the attributes; the control plane checks the rest (unit, name, value,
//! service, version) when it records.

use rollgate_core::AttributesView;
use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::attributes::read_attributes;

/// A batch of client events.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// The events, oldest first.
    #[schema(value_type = Vec<ClientEvent>)]
    pub events: Vec<Value>,
}

/// One client event, as sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"unit": "user-42", "name": "page_load_ms", "value": 840, "timestamp": 1717243200000u64}))]
pub struct ClientEvent {
    /// The unit id (user id, anonymous cookie) the event is about.
    pub unit: String,
    /// The event name: 1 to 64 of `a-z`, `0-9`, `_`, starting with a letter (`exposure`,
    /// `page_load_ms`, `click`, `conversion`).
    pub name: String,
    /// The service (default: the only service, else the only service a rollout moves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The version the unit saw (default: the one its assignment gives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A number the event carries (`page_load_ms` = 840); finite, at most ±9·10¹².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// When it happened, Unix milliseconds (default: when it arrives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<UnixMillis>,
    /// Request attributes for audience rules: `country`, `ip`, `device`, `userAgent`,
    /// `headers`, `cookies`, `query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Map<String, Value>>,
}

/// A refused event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventError {
    /// Its position in `events`.
    pub index: usize,
    /// The field at fault (`name`, `attributes.ip`), empty for the event as a whole.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

/// What happened to a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IngestResponse {
    /// Events recorded.
    pub accepted: usize,
    /// Events refused.
    pub rejected: usize,
    /// Why each refused event was refused, by index.
    #[serde(default)]
    pub errors: Vec<EventError>,
}

/// An event that passed the checks.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidEvent {
    /// Its position in the batch.
    pub index: usize,
    /// The event.
    pub event: ClientEvent,
    /// When it happened.
    pub at: UnixMillis,
    /// Its attributes.
    pub attrs: AttributesView,
}

/// How far in the future a timestamp may be (clock skew of clients).
pub const MAX_FUTURE_MS: i64 = 60_000;

/// Checks every event of `batch` received at `now`, keeping events no older than `max_age_ms`.
pub fn check_events(
    batch: Vec<Value>,
    now: UnixMillis,
    max_age_ms: i64,
) -> (Vec<ValidEvent>, Vec<EventError>) {
    let mut valid = Vec::with_capacity(batch.len());
    let mut errors = Vec::new();
    for (index, raw) in batch.into_iter().enumerate() {
        match check_event(index, raw, now, max_age_ms) {
            Ok(v) => valid.push(v),
            Err(e) => errors.push(e),
        }
    }
    (valid, errors)
}

fn check_event(
    index: usize,
    raw: Value,
    now: UnixMillis,
    max_age_ms: i64,
) -> Result<ValidEvent, EventError> {
    let fail = |field: &str, reason: String| EventError {
        index,
        field: field.to_owned(),
        reason,
    };
    let event: ClientEvent = serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        fail(&field, e.into_inner().to_string())
    })?;
    let at = event.timestamp.unwrap_or(now);
    if at > now + MAX_FUTURE_MS {
        return Err(fail(
            "timestamp",
            format!(
                "{at} is {} s in the future (is the client clock right?)",
                (at - now) / 1000
            ),
        ));
    }
    if at < now - max_age_ms {
        return Err(fail(
            "timestamp",
            format!(
                "{at} is older than the {} s the windows keep",
                max_age_ms / 1000
            ),
        ));
    }
    let attrs = match &event.attributes {
        Some(map) => read_attributes(map, "attributes").map_err(|e| fail(&e.path, e.message))?,
        None => AttributesView::new(),
    };
    Ok(ValidEvent {
        index,
        event,
        at,
        attrs,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn check(events: Value) -> (Vec<ValidEvent>, Vec<EventError>) {
        let Value::Array(list) = events else { panic!() };
        check_events(list, NOW, 900_000)
    }

    #[test]
    fn good_events_pass_with_defaults() {
        let (ok, errs) = check(json!([
            {"unit": "u1", "name": "exposure"},
            {"unit": "u2", "name": "page_load_ms", "value": 840.5, "timestamp": NOW - 5_000,
             "version": "v1.2", "service": "shop", "attributes": {"country": "DE"}}
        ]));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].at, NOW);
        assert_eq!(ok[1].at, NOW - 5_000);
        assert_eq!(ok[1].event.value, Some(840.5));
    }

    #[test]
    fn each_bad_event_names_its_index_and_field() {
        let (ok, errs) = check(json!([
            {"unit": "u1", "name": "click"},
            {"unit": "u1", "name": "click", "value": "fast"},
            {"unit": "u1", "name": "click", "colour": "red"},
            {"name": "click"},
            {"unit": "u1", "name": "click", "timestamp": NOW + 3_600_000},
            {"unit": "u1", "name": "click", "timestamp": NOW - 3_600_000},
            {"unit": "u1", "name": "click", "attributes": {"ip": "x"}},
            "not an object",
            {"unit": "u9", "name": "conversion"}
        ]));
        assert_eq!(ok.iter().map(|v| v.index).collect::<Vec<_>>(), [0, 8]);
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.index, e.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "value"),
                (2, "colour"),
                (3, ""),
                (4, "timestamp"),
                (5, "timestamp"),
                (6, "attributes.ip"),
                (7, ""),
            ]
        );
        assert!(
            errs[1].reason.contains("unknown field `colour`"),
            "{:?}",
            errs[1]
        );
        assert!(
            errs[2].reason.contains("missing field `unit`"),
            "{:?}",
            errs[2]
        );
    }
}
