//! One API listener for a control-plane replica whose role changes: a [`RouterSwitch`] serves
//! whichever router is current — the full API while this replica leads, the
//! [`follower_router`] (every request redirected to the leader) while it does not — and is
//! switched without closing the listener.

use std::convert::Infallible;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;

use crate::election::leader_info;
use crate::{ClusterKeys, Etcd};

/// A router that can be replaced while it serves. Cheap to clone.
#[derive(Clone)]
pub struct RouterSwitch {
    current: Arc<ArcSwap<Router>>,
}

/// What a follower needs to redirect.
#[derive(Clone)]
struct Follower {
    etcd: Etcd,
    keys: ClusterKeys,
    own_id: String,
}

impl RouterSwitch {
    /// Serves `first` until [`RouterSwitch::set`] is called.
    pub fn new(first: Router) -> RouterSwitch {
        RouterSwitch {
            current: Arc::new(ArcSwap::from_pointee(first)),
        }
    }

    /// Makes `router` answer every request from now on (requests in flight finish on the
    /// one they started with).
    pub fn set(&self, router: Router) {
        self.current.store(Arc::new(router));
    }

    /// The router to serve: hands each request to the current one.
    pub fn router(&self) -> Router {
        let current = Arc::clone(&self.current);
        Router::new().fallback_service(tower::service_fn(move |req: Request| {
            let router = current.load_full();
            async move {
                Ok::<Response, Infallible>(
                    Router::clone(&router).oneshot(req).await.into_response(),
                )
            }
        }))
    }
}

impl std::fmt::Debug for RouterSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterSwitch").finish_non_exhaustive()
    }
}

/// The router of a follower replica: every request is answered `307 Temporary Redirect` to
/// the same path on the leader's API (clients repeat the method and body), or `503` with
/// `Retry-After: 1` while no other replica leads.
pub fn follower_router(etcd: Etcd, keys: ClusterKeys, own_id: &str) -> Router {
    Router::new().fallback(redirect).with_state(Follower {
        etcd,
        keys,
        own_id: own_id.to_owned(),
    })
}

async fn redirect(State(f): State<Follower>, req: Request) -> Response {
    let leader = match leader_info(&f.etcd, &f.keys).await {
        Ok(Some(info)) if info.id != f.own_id => info.api,
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, "cannot look up the leader");
            None
        }
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    match leader.and_then(|api| HeaderValue::from_str(&format!("{}{path}", api.trim_end_matches('/'))).ok()) {
        Some(location) => (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, HeaderValue::from_static("1")),
                (header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")),
            ],
            r#"{"type":"urn:rollgate:problem:unavailable","title":"Unavailable","status":503,"detail":"this control-plane replica is a follower and no leader is elected yet; retry shortly"}"#,
        )
            .into_response(),
    }
}
