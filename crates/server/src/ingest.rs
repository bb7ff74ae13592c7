//! `POST /v1/events`: batches of client events (exposure, page_load_ms, click, conversion…)
//! from SDKs and browsers, joined to the unit's version and cohort and recorded into the same
//! windows as the edge's requests.
//!
//! | answer | when |
//! | --- | --- |
//! | 200 | the batch was read; `accepted` events were recorded, `errors` lists the others |
//! | 422 | the batch was read but every event was refused (same body as 200) |
//! | 400 / 422 problem | the body is not JSON, or not `{"events": [...]}` |
//! | 413 problem | the body or the event count is over the limit; nothing was recorded |
//! | 401 problem | an ingest key is configured and was not sent |
//!
//! Events are counted in the window they arrive in (client clocks are not trusted for
//! windowing); a `timestamp` more than a minute ahead or older than the window retention marks
//! a broken client and is refused.

mod batch;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use rollgate_control::Event;
use rollgate_core::RoutingTable;

use crate::api::responses::{
    BadRequest, Invalid, PayloadTooLarge, Unauthorized, UnsupportedMediaType,
};
use crate::body::{check_content_type, parse, read_bytes};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

pub use batch::{ClientEvent, EventBatch, EventError, IngestResponse, check_events};

/// Record a batch of client events.
#[utoipa::path(
    post, path = "/v1/events", tag = "events",
    request_body(content = EventBatch, content_type = "application/json"),
    params(("key" = Option<String>, Query, description = "The ingest key, for clients that cannot set headers (`navigator.sendBeacon`); prefer the `X-Rollgate-Ingest-Key` header")),
    responses(
        (status = 200, description = "Read; `accepted` events recorded, `errors` lists the refused ones by index", body = IngestResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
    ),
    security(("ingest_key" = []), ())
)]
pub async fn ingest_events(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<IngestResponse>), Problem> {
    check_content_type(req.headers(), true)?;
    let bytes = read_bytes(req, &()).await?;
    let batch: EventBatch = parse(&bytes)?;
    let max = state.opts.max_event_batch_events;
    if batch.events.len() > max {
        return Err(Problem::new(
            ProblemKind::PayloadTooLarge,
            format!(
                "the batch has {} events; at most {max} are accepted at once; nothing was recorded",
                batch.events.len()
            ),
        ));
    }
    let total = batch.events.len();
    let now = state.control.now();
    let (valid, mut errors) = check_events(batch.events, now, state.opts.max_event_age_ms);
    let table = state.control.routing();
    let mut events = Vec::with_capacity(valid.len());
    let mut positions = Vec::with_capacity(valid.len());
    for v in valid {
        match to_event(v.event, v.attrs, &table) {
            Ok(e) => {
                events.push(e);
                positions.push(v.index);
            }
            Err(reason) => errors.push(EventError {
                index: v.index,
                field: "service".into(),
                reason,
            }),
        }
    }
    let report = state.control.record_events(&events);
    errors.extend(report.rejected.into_iter().map(|e| EventError {
        index: positions.get(e.index).copied().unwrap_or(e.index),
        // The control plane calls the name `event`; the wire calls it `name`.
        field: if e.field == "event" {
            "name".into()
        } else {
            e.field
        },
        reason: e.reason,
    }));
    errors.sort_by_key(|e| e.index);
    let status = if report.accepted == 0 && total > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(IngestResponse {
            accepted: report.accepted,
            rejected: errors.len(),
            errors,
        }),
    ))
}

/// The control plane's event. Without a service: the only service, else the only service a
/// rollout moves.
fn to_event(
    e: ClientEvent,
    attributes: rollgate_core::AttributesView,
    table: &RoutingTable,
) -> Result<Event, String> {
    let service = match e.service {
        Some(s) => s,
        None => default_service(table)?,
    };
    Ok(Event {
        service,
        unit: e.unit,
        event: e.name,
        value: e.value,
        version: e.version,
        attributes,
    })
}

fn default_service(table: &RoutingTable) -> Result<String, String> {
    let spec = table.spec();
    if let [only] = spec.services.as_slice() {
        return Ok(only.name.clone());
    }
    let mut moved: Vec<&str> = spec.rollouts.iter().map(|r| r.service.as_str()).collect();
    moved.sort_unstable();
    moved.dedup();
    match moved.as_slice() {
        [only] => Ok((*only).to_owned()),
        _ => {
            let names: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
            Err(format!(
                "is required: several services are configured ({}) and not exactly one has a rollout",
                names.join(", ")
            ))
        }
    }
}
