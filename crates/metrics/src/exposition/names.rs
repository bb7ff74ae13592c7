//! Metric family and label names of the Prometheus exposition, defined once.
//!
//! Counter families are named without `_total`: the encoder appends it.

/// Requests by status class: `rollgate_requests_total`.
pub const REQUESTS: &str = "rollgate_requests";
/// Request latency histogram in seconds.
pub const REQUEST_DURATION: &str = "rollgate_request_duration_seconds";
/// Failed requests by side: `rollgate_errors_total`.
pub const ERRORS: &str = "rollgate_errors";
/// 5xx responses charged to the version (the numerator of `error_rate`):
/// `rollgate_version_errors_total`.
pub const VERSION_ERRORS: &str = "rollgate_version_errors";
/// Response bytes sent to clients: `rollgate_response_bytes_total`.
pub const RESPONSE_BYTES: &str = "rollgate_response_bytes";
/// Client events by name: `rollgate_events_total`.
pub const EVENTS: &str = "rollgate_events";
/// Sum of client event values by name (a gauge: values may be negative).
pub const EVENT_VALUE_SUM: &str = "rollgate_event_value_sum";
/// Records not counted, by reason: `rollgate_dropped_records_total`.
pub const DROPPED: &str = "rollgate_dropped_records";

/// Label: the service.
pub const SERVICE: &str = "service";
/// Label: the rollout (empty outside a rollout).
pub const ROLLOUT: &str = "rollout";
/// Label: the version.
pub const VERSION: &str = "version";
/// Label: the cohort (`canary`, `baseline`, `stable`).
pub const COHORT: &str = "cohort";
/// Label: the status class (`1xx` … `5xx`, `none` when no status was sent).
pub const CODE_CLASS: &str = "code_class";
/// Label: the side that failed (`upstream`, `downstream`, `proxy`).
pub const SIDE: &str = "side";
/// Label: the client event name.
pub const EVENT: &str = "event";
/// Label: why records were dropped.
pub const REASON: &str = "reason";

/// Values of [`CODE_CLASS`], in the order of the status counters, then `none`.
pub const CODE_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];
