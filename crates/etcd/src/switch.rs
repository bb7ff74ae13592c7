//! One API listener for a control-plane replica whose role changes: a [`RouterSwitch`] serves
//! whichever router is current — the full API while this replica leads, the
//! [`follower_router`] (every request forwarded to the leader) while it does not — and is
//! switched without closing the listener.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;

use crate::election::leader_info;
use crate::{ClusterKeys, Etcd, EtcdError};

/// The header a follower adds to what it forwards (its id), so nothing is forwarded twice.
pub const FORWARDED_BY: &str = "x-rollgate-forwarded-by";
/// The header carrying the host a client addressed, on a forwarded request.
const FORWARDED_HOST: &str = "x-forwarded-host";
/// The largest request body a follower forwards.
const MAX_FORWARDED_BODY: usize = 32 << 20;
/// How long a forwarded request may take.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// A router that can be replaced while it serves. Cheap to clone.
#[derive(Clone)]
pub struct RouterSwitch {
    current: Arc<ArcSwap<Router>>,
}

/// What a follower needs to forward requests.
#[derive(Clone)]
struct Follower {
    etcd: Etcd,
    keys: ClusterKeys,
    own_id: String,
    http: reqwest::Client,
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

/// The router of a follower replica: every request is forwarded to the leader's API (found in
/// etcd) and its answer returned, so clients may talk to any replica — the bearer token goes
/// along, which a redirect to another host would drop. `503` with `Retry-After: 1` while no
/// other replica leads or the leader cannot be reached; a request already forwarded once is
/// never forwarded again.
pub fn follower_router(etcd: Etcd, keys: ClusterKeys, own_id: &str) -> Result<Router, EtcdError> {
    let http = reqwest::Client::builder()
        .timeout(FORWARD_TIMEOUT)
        .connect_timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| EtcdError::Client(e.to_string()))?;
    Ok(Router::new().fallback(forward).with_state(Follower {
        etcd,
        keys,
        own_id: own_id.to_owned(),
        http,
    }))
}

async fn forward(State(f): State<Follower>, req: Request) -> Response {
    if req.headers().contains_key(FORWARDED_BY) {
        return unavailable("the request was already forwarded once and reached a follower again");
    }
    let api = match leader_info(&f.etcd, &f.keys).await {
        Ok(Some(info)) if info.id == f.own_id => {
            return unavailable("it was just elected leader and is still starting");
        }
        Ok(Some(info)) => info.api,
        Ok(None) => None,
        Err(e) => return unavailable(&format!("cannot look up the leader in etcd: {e}")),
    };
    let Some(api) = api else {
        return unavailable("no leader is elected yet");
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_FORWARDED_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large to forward",
        )
            .into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = f
        .http
        .request(parts.method, format!("{}{path}", api.trim_end_matches('/')))
        .header(FORWARDED_BY, f.own_id.as_str())
        .body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        out = out.header(name, value);
    }
    // The leader sees its own address as `Host`; the one the client used goes along the way
    // proxies pass it (the dashboard checks a form's `Origin` against it).
    if let Some(host) = parts.headers.get(header::HOST)
        && !parts.headers.contains_key(FORWARDED_HOST)
    {
        out = out.header(FORWARDED_HOST, host);
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => return unavailable(&format!("the leader at {api} did not answer: {e}")),
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let Ok(bytes) = resp.bytes().await else {
        return unavailable(&format!("the leader at {api} broke off its answer"));
    };
    let mut answer = Response::new(axum::body::Body::from(bytes));
    *answer.status_mut() = status;
    for (name, value) in headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        answer.headers_mut().append(name, value.clone());
    }
    answer
}

/// Headers that describe one connection, not the request: never forwarded.
fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::HOST,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
}

fn unavailable(why: &str) -> Response {
    let body = serde_json::json!({
        "type": "urn:rollgate:problem:unavailable",
        "title": "Unavailable",
        "status": 503,
        "detail": format!("this control-plane replica is not serving as leader: {why}; retry shortly"),
    });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, HeaderValue::from_static("1")),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            ),
        ],
        body.to_string(),
    )
        .into_response()
}
