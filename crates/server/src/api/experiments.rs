//! `/api/v1/experiments`: create (admin), list, get, stop (operator).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::responses::{
    BadRequest, Forbidden, Invalid, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::auth::Caller;
use crate::body::Body;
use crate::dto::{ExperimentDto, ExperimentList};
use crate::problem::Problem;
use crate::state::AppState;

/// Every experiment, by name.
#[utoipa::path(
    get, path = "/api/v1/experiments", tag = "experiments",
    responses(
        (status = 200, description = "The experiments", body = ExperimentList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn list_experiments(
    State(state): State<AppState>,
) -> Result<Json<ExperimentList>, Problem> {
    let all = state.control.experiments().await?;
    Ok(Json(ExperimentList {
        experiments: all.into_iter().map(ExperimentDto::from).collect(),
    }))
}

/// Create and start an experiment from a spec (an `[[experiments]]` table as JSON), checked
/// with the whole routing snapshot (layers, allocations, versions).
#[utoipa::path(
    post, path = "/api/v1/experiments", tag = "experiments",
    request_body(content = Object, description = "An `[[experiments]]` table as JSON: name, service, layer, allocation, variants, metrics"),
    responses(
        (status = 201, description = "Created and running", body = ExperimentDto),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn create_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Body(spec): Body<Value>,
) -> Result<(StatusCode, Json<ExperimentDto>), Problem> {
    let record = state
        .control
        .create_experiment(spec, caller.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// One experiment.
#[utoipa::path(
    get, path = "/api/v1/experiments/{experiment}", tag = "experiments",
    params(("experiment" = String, Path, description = "The experiment name")),
    responses(
        (status = 200, description = "The experiment", body = ExperimentDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn get_experiment(
    State(state): State<AppState>,
    Path(experiment): Path<String>,
) -> Result<Json<ExperimentDto>, Problem> {
    Ok(Json(state.control.experiment(&experiment).await?.into()))
}

/// Stop an experiment: its units go back to the service's default routing. Stopping a
/// stopped experiment changes nothing.
#[utoipa::path(
    post, path = "/api/v1/experiments/{experiment}/stop", tag = "experiments",
    params(("experiment" = String, Path, description = "The experiment name")),
    responses(
        (status = 200, description = "Stopped", body = ExperimentDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn stop_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path(experiment): Path<String>,
) -> Result<Json<ExperimentDto>, Problem> {
    let record = state
        .control
        .stop_experiment(&experiment, caller.actor())
        .await?;
    Ok(Json(record.into()))
}
