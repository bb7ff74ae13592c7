//! `/api/v1/services`: services with their stable version, their immutable version snapshots,
//! registering a new snapshot (admin) and restoring an earlier one as stable (operator).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rollgate_core::model::VersionSnapshot;

use super::responses::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::auth::Caller;
use crate::body::Body;
use crate::dto::{CreateVersion, RestoreDto, ServiceDto, ServiceList, VersionDto, VersionList};
use crate::problem::Problem;
use crate::state::AppState;

/// Every service with its stable version and active rollout.
#[utoipa::path(
    get, path = "/api/v1/services", tag = "services",
    responses(
        (status = 200, description = "The services", body = ServiceList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn list_services(State(state): State<AppState>) -> Result<Json<ServiceList>, Problem> {
    let services = state.control.services().await?;
    Ok(Json(ServiceList {
        services: services.into_iter().map(ServiceDto::from).collect(),
    }))
}

/// One service.
#[utoipa::path(
    get, path = "/api/v1/services/{service}", tag = "services",
    params(("service" = String, Path, description = "The service name")),
    responses(
        (status = 200, description = "The service", body = ServiceDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn get_service(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Json<ServiceDto>, Problem> {
    let services = state.control.services().await?;
    services
        .into_iter()
        .find(|s| s.name == service)
        .map(|s| Json(s.into()))
        .ok_or_else(|| Problem::not_found("service", &service))
}

/// Every version snapshot of a service, oldest first, with the periods each was stable.
#[utoipa::path(
    get, path = "/api/v1/services/{service}/versions", tag = "services",
    params(("service" = String, Path, description = "The service name")),
    responses(
        (status = 200, description = "The versions", body = VersionList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn list_versions(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Json<VersionList>, Problem> {
    let versions = state.control.versions(&service).await?;
    Ok(Json(VersionList {
        versions: versions.into_iter().map(VersionDto::from).collect(),
    }))
}

/// One version snapshot.
#[utoipa::path(
    get, path = "/api/v1/services/{service}/versions/{version}", tag = "services",
    params(
        ("service" = String, Path, description = "The service name"),
        ("version" = String, Path, description = "The version name"),
    ),
    responses(
        (status = 200, description = "The version", body = VersionDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn get_version(
    State(state): State<AppState>,
    Path((service, version)): Path<(String, String)>,
) -> Result<Json<VersionDto>, Problem> {
    find_version(&state, &service, &version).await.map(Json)
}

/// Register a version snapshot (immutable: the same name with other endpoints or labels is
/// refused; the identical snapshot again is answered as created).
#[utoipa::path(
    post, path = "/api/v1/services/{service}/versions", tag = "services",
    params(("service" = String, Path, description = "The service name")),
    request_body = CreateVersion,
    responses(
        (status = 201, description = "Registered", body = VersionDto),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn create_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(service): Path<String>,
    Body(req): Body<CreateVersion>,
) -> Result<(StatusCode, Json<VersionDto>), Problem> {
    let snapshot = VersionSnapshot {
        service: service.clone(),
        name: req.name,
        endpoints: req.endpoints,
        labels: req.labels,
        created_at: 0,
        created_by: String::new(),
    };
    let stored = state
        .control
        .create_version(snapshot, caller.actor())
        .await?;
    let dto = find_version(&state, &service, &stored.name).await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Make an earlier version the stable version again. A rollout running on the service is
/// aborted first; the restore is recorded as a decision with the caller as actor.
#[utoipa::path(
    post, path = "/api/v1/services/{service}/versions/{version}/restore", tag = "services",
    params(
        ("service" = String, Path, description = "The service name"),
        ("version" = String, Path, description = "The version to make stable"),
    ),
    responses(
        (status = 200, description = "Restored", body = RestoreDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn restore_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, version)): Path<(String, String)>,
) -> Result<Json<RestoreDto>, Problem> {
    let outcome = state
        .control
        .restore_version(&service, &version, caller.actor())
        .await?;
    tracing::info!(service, version, by = caller.name, "version restored");
    Ok(Json(outcome.into()))
}

async fn find_version(
    state: &AppState,
    service: &str,
    version: &str,
) -> Result<VersionDto, Problem> {
    let versions = state.control.versions(service).await?;
    versions
        .into_iter()
        .find(|v| v.snapshot.name == version)
        .map(VersionDto::from)
        .ok_or_else(|| Problem::not_found("version", &format!("{service}/{version}")))
}
