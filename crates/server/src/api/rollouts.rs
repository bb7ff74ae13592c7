//! `/api/v1/rollouts`: create from a spec, list, get, and the commands (pause, resume,
//! promote, abort, retry, set weight), each recorded with the caller's token name as actor.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rollgate_controller::Command;
use rollgate_store::RolloutFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::responses::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::auth::Caller;
use crate::body::Body;
use crate::dto::{RolloutDto, RolloutList, SetWeight};
use crate::problem::Problem;
use crate::state::AppState;

/// `GET /api/v1/rollouts` filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RolloutParams {
    /// Only rollouts that are not over (not promoted, rolled back or aborted).
    #[serde(default)]
    pub active: bool,
    /// Only rollouts of this service.
    pub service: Option<String>,
}

/// Every rollout, oldest first.
#[utoipa::path(
    get, path = "/api/v1/rollouts", tag = "rollouts",
    params(RolloutParams),
    responses(
        (status = 200, description = "The rollouts", body = RolloutList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn list_rollouts(
    State(state): State<AppState>,
    params: Result<Query<RolloutParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RolloutList>, Problem> {
    let Query(params) = params.map_err(super::query_problem)?;
    let filter = RolloutFilter {
        active_only: params.active,
        service: params.service,
    };
    let views = state.control.rollouts(&filter).await?;
    Ok(Json(RolloutList {
        rollouts: views.into_iter().map(RolloutDto::from).collect(),
    }))
}

/// Create a rollout from a spec (a `[[rollouts]]` table of `rollgate.toml`, as JSON),
/// validated like the configuration file. It starts at the next reconcile.
#[utoipa::path(
    post, path = "/api/v1/rollouts", tag = "rollouts",
    request_body(content = Object, description = "A `[[rollouts]]` table as JSON: name, service, stable, canary, strategy, analysis, audience"),
    responses(
        (status = 201, description = "Created", body = RolloutDto),
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
pub async fn create_rollout(
    State(state): State<AppState>,
    caller: Caller,
    Body(spec): Body<Value>,
) -> Result<(StatusCode, Json<RolloutDto>), Problem> {
    let view = state.control.create_rollout(spec, caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// One rollout with its current state and latest verdict.
#[utoipa::path(
    get, path = "/api/v1/rollouts/{rollout}", tag = "rollouts",
    params(("rollout" = String, Path, description = "The rollout name")),
    responses(
        (status = 200, description = "The rollout", body = RolloutDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn get_rollout(
    State(state): State<AppState>,
    Path(rollout): Path<String>,
) -> Result<Json<RolloutDto>, Problem> {
    Ok(Json(state.control.rollout(&rollout).await?.into()))
}

async fn run(
    state: &AppState,
    caller: &Caller,
    rollout: &str,
    command: Command,
) -> Result<Json<RolloutDto>, Problem> {
    let view = state
        .control
        .command(rollout, command, caller.actor())
        .await?;
    tracing::info!(rollout, %command, by = caller.name, phase = %view.phase, weight = %view.weight, "command");
    Ok(Json(view.into()))
}

macro_rules! command_route {
    ($fn:ident, $path:literal, $command:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "rollouts",
            params(("rollout" = String, Path, description = "The rollout name")),
            responses(
                (status = 200, description = "Done; the rollout as it is now", body = RolloutDto),
                (status = 401, response = Unauthorized),
                (status = 403, response = Forbidden),
                (status = 404, response = NotFound),
                (status = 409, response = Conflict),
                (status = 503, response = Unavailable),
            ),
            security(("bearer" = []))
        )]
        pub async fn $fn(
            State(state): State<AppState>,
            caller: Caller,
            Path(rollout): Path<String>,
        ) -> Result<Json<RolloutDto>, Problem> {
            run(&state, &caller, &rollout, $command).await
        }
    };
}

command_route!(
    pause,
    "/api/v1/rollouts/{rollout}/pause",
    Command::Pause,
    "Pause: hold the weight until resumed (progressing rollouts)."
);
command_route!(
    resume,
    "/api/v1/rollouts/{rollout}/resume",
    Command::Resume,
    "Resume a paused rollout; the strategy goes on from the current weight."
);
command_route!(
    promote,
    "/api/v1/rollouts/{rollout}/promote",
    Command::Promote,
    "Promote: the canary becomes the stable version now."
);
command_route!(
    abort,
    "/api/v1/rollouts/{rollout}/abort",
    Command::Abort,
    "Abort: all traffic back to stable now."
);
command_route!(
    retry,
    "/api/v1/rollouts/{rollout}/retry",
    Command::Retry,
    "Retry a rolled-back or aborted rollout from its first step."
);

/// Set the canary weight by hand; the rollout is paused at it until resumed.
#[utoipa::path(
    post, path = "/api/v1/rollouts/{rollout}/weight", tag = "rollouts",
    params(("rollout" = String, Path, description = "The rollout name")),
    request_body = SetWeight,
    responses(
        (status = 200, description = "Done; the rollout as it is now", body = RolloutDto),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn set_weight(
    State(state): State<AppState>,
    caller: Caller,
    Path(rollout): Path<String>,
    Body(req): Body<SetWeight>,
) -> Result<Json<RolloutDto>, Problem> {
    run(&state, &caller, &rollout, Command::SetWeight(req.weight)).await
}
