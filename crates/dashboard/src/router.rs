//! The dashboard's routes, to merge next to the API router on the control listener.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::map_response;
use axum::routing::{get, post};
use rollgate_control::ControlPlane;
use rollgate_server::Authenticator;

use crate::options::DashboardOptions;
use crate::pages::{experiments, login, rollout, rollouts, versions};
use crate::session::Sessions;
use crate::state::DashState;
use crate::{actions, assets, respond};

/// Largest form the dashboard reads (a token, a CSRF token, a weight).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The dashboard at `/` (pages, their live fragments, the buttons' POST handlers, sign-in,
/// assets). It has no fallback, so it merges with the API router:
///
/// ```ignore
/// let app = rollgate_server::router(plane.clone(), server_opts)
///     .merge(rollgate_dashboard::router(plane, DashboardOptions::default()));
/// ```
pub fn router(control: ControlPlane, opts: DashboardOptions) -> Router {
    let state = DashState {
        auth: Authenticator::new(Arc::clone(control.store())),
        sessions: Arc::new(Sessions::new(
            opts.session_ttl,
            opts.idle_timeout,
            opts.max_sessions,
        )),
        opts: Arc::new(opts),
        control,
    };
    Router::new()
        .route("/", get(rollouts::show))
        .route("/rollouts", get(rollouts::show))
        .route("/live/rollouts", get(rollouts::live))
        .route("/rollouts/{name}", get(rollout::show))
        .route("/rollouts/{name}/live", get(rollout::live))
        .route("/rollouts/{name}/{action}", post(actions::rollout))
        .route("/services", get(versions::list))
        .route("/services/{service}", get(versions::show))
        .route(
            "/services/{service}/versions/{version}/restore",
            post(actions::restore),
        )
        .route("/experiments", get(experiments::list))
        .route("/experiments/{name}", get(experiments::show))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/assets/{file}", get(assets::asset))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(map_response(respond::security_headers))
        .with_state(state)
}
