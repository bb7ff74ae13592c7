//! Assembling the routes: every handler registered with its OpenAPI description, the access
//! middleware in front of all of them, body limits per endpoint, state last.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Extension};
use axum::middleware::from_fn_with_state;
use axum::routing::any;
use rollgate_control::ControlPlane;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{Gate, enforce};
use crate::api::{assign, decisions, experiments, meta, metrics, rollouts, services, tokens};
use crate::auth::Authenticator;
use crate::options::ServerOptions;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::{ingest, ofrep, openapi::ApiDoc};

/// The control plane's HTTP surface: `/api/v1/…`, `/ofrep/v1/…` and `/v1/events`, with
/// access control, body limits and problem+json errors. Mount it on the control listener;
/// more routes (the dashboard at `/`) can be added with [`Router::merge`] — they get neither
/// the access middleware nor the limits, and can authenticate with
/// [`crate::Authenticator`].
pub fn router(control: ControlPlane, opts: ServerOptions) -> Router {
    let (routes, doc) = api_routes(&opts).split_for_parts();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let gate = Gate {
        auth: Authenticator::new(Arc::clone(control.store())),
        ingest_key: opts.ingest_key.clone(),
    };
    let state = AppState {
        control,
        opts: Arc::new(opts),
    };
    routes
        .route_layer(from_fn_with_state(gate, enforce))
        .route("/api/{*rest}", any(unknown_api_path))
        .layer(Extension(doc))
        .with_state(state)
}

/// The OpenAPI document of [`router`], as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes(&ServerOptions::default()).into_openapi()
}

fn api_routes(opts: &ServerOptions) -> OpenApiRouter<AppState> {
    let events = OpenApiRouter::new()
        .routes(routes!(ingest::ingest_events))
        .layer(DefaultBodyLimit::max(opts.max_event_batch_bytes));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::openapi_document))
        .routes(routes!(meta::whoami))
        .routes(routes!(services::list_services))
        .routes(routes!(services::get_service))
        .routes(routes!(services::list_versions, services::create_version))
        .routes(routes!(services::get_version))
        .routes(routes!(services::restore_version))
        .routes(routes!(rollouts::list_rollouts, rollouts::create_rollout))
        .routes(routes!(rollouts::get_rollout))
        .routes(routes!(rollouts::pause))
        .routes(routes!(rollouts::resume))
        .routes(routes!(rollouts::promote))
        .routes(routes!(rollouts::abort))
        .routes(routes!(rollouts::retry))
        .routes(routes!(rollouts::set_weight))
        .routes(routes!(metrics::rollout_metrics))
        .routes(routes!(metrics::rollout_verdict))
        .routes(routes!(metrics::rollout_series))
        .routes(routes!(decisions::list_decisions))
        .routes(routes!(
            experiments::list_experiments,
            experiments::create_experiment
        ))
        .routes(routes!(experiments::get_experiment))
        .routes(routes!(experiments::stop_experiment))
        .routes(routes!(assign::assign))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(ofrep::evaluate_flag))
        .routes(routes!(ofrep::evaluate_flags))
        .layer(DefaultBodyLimit::max(opts.max_body_bytes))
        .merge(events)
}

async fn unknown_api_path(uri: axum::http::Uri) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        format!(
            "no API endpoint at {}; the endpoints are listed in /api/v1/openapi.json",
            uri.path()
        ),
    )
}
