//! The request path, phase by phase: route (decide, breaker, health) → rewrite headers →
//! forward (with one retry on stable) → respond (tag, stream, account).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::HeaderValue;
use http::{Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::clock::now_ms;
use crate::cookie;
use crate::forward::{Failed, forward};
use crate::headers::{self, Hop};
use crate::respond::{self, Tags, messages};
use crate::route::{RouteError, Routed, route};
use crate::shared::Shared;
use crate::snapshot::Snapshot;

/// What the edge knows about the client connection a request arrived on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnInfo {
    pub(crate) peer: SocketAddr,
    pub(crate) tls: bool,
}

/// Handles one client request. Never fails: every problem becomes a response.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: ConnInfo,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let started = Instant::now();
    let snap = shared.snapshot();
    let vh = shared.version_header();
    if req.method() == Method::CONNECT {
        return Ok(respond::error(
            StatusCode::METHOD_NOT_ALLOWED,
            messages::NO_CONNECT,
            Tags::default(),
        ));
    }
    let (mut parts, body) = req.into_parts();
    let routed = match route(&snap, &parts, conn.peer.ip(), now_ms()) {
        Ok(r) => r,
        Err(e) => return Ok(route_error(&snap, e, vh, conn.tls, started)),
    };
    let set_cookie = routed
        .minted
        .as_ref()
        .and_then(|m| cookie::set_cookie(&m.cookie, &m.id, conn.tls));
    prepare(&mut parts, &snap, &routed, conn, vh);
    let deadline = tokio::time::Instant::now()
        + snap.services()[routed.target.version.service]
            .timeouts
            .total;
    let req = Request::from_parts(parts, body);
    let sent = forward(
        &snap,
        routed.target,
        routed.retry_on,
        routed.cohort,
        req,
        started,
        deadline,
    )
    .await;
    Ok(match sent {
        Ok(f) => {
            let version = Some(&snap.version(f.version).header);
            let tags = Tags {
                version_header: vh,
                version,
                set_cookie,
            };
            let deadline = Box::pin(tokio::time::sleep_until(deadline));
            respond::relay(f.response, f.exchange, deadline, tags)
        }
        Err(Failed { error, version }) => {
            let message = match error.status() {
                StatusCode::GATEWAY_TIMEOUT => messages::TIMEOUT,
                StatusCode::BAD_REQUEST => messages::BAD_REQUEST,
                _ => messages::BAD_GATEWAY,
            };
            let tags = Tags {
                version_header: vh,
                version: Some(&snap.version(version).header),
                set_cookie,
            };
            respond::error(error.status(), message, tags)
        }
    })
}

/// Phase 2: the request as the upstream gets it: origin-form URI, HTTP/1.1, rewritten headers.
fn prepare(
    parts: &mut http::request::Parts,
    snap: &Snapshot,
    routed: &Routed,
    conn: ConnInfo,
    vh: Option<&http::HeaderName>,
) {
    let authority = match parts.uri.authority() {
        Some(a) if !parts.headers.contains_key(http::header::HOST) => {
            HeaderValue::from_str(a.as_str()).ok()
        }
        _ => None,
    };
    let host = parts.headers.get(http::header::HOST).cloned().or(authority);
    let hop = Hop {
        client_ip: conn.peer.ip().to_canonical(),
        tls: conn.tls,
        host: host.as_ref(),
    };
    let version = &snap.version(routed.target.version).header;
    let cohort = HeaderValue::from_static(routed.cohort.as_str());
    headers::to_upstream(&mut parts.headers, &hop, vh, version, &cohort);
    if let Some(why) = routed.rerouted {
        headers::set_rerouted(&mut parts.headers, why.as_str());
    }
    if parts.uri.scheme().is_some() || parts.uri.authority().is_some() {
        parts.uri = parts
            .uri
            .path_and_query()
            .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()));
    }
    parts.version = http::Version::HTTP_11;
}

/// The response to a request that could not be routed. A request whose fallback version has
/// no healthy endpoint is recorded in its series as a proxy-side failure: it never reached
/// an upstream, so no version is charged.
fn route_error(
    snap: &Snapshot,
    e: RouteError,
    vh: Option<&http::HeaderName>,
    tls: bool,
    started: Instant,
) -> Response<ProxyBody> {
    match e {
        RouteError::NoService => {
            respond::error(StatusCode::NOT_FOUND, messages::NO_SERVICE, Tags::default())
        }
        RouteError::Mint(e) => {
            tracing::error!(error = %e, "cannot mint an anonymous unit id");
            respond::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                messages::INTERNAL,
                Tags::default(),
            )
        }
        RouteError::NoHealthyEndpoint {
            version,
            service,
            minted,
            cohort,
        } => {
            tracing::debug!(%service, "no healthy endpoint");
            let v = snap.version(version);
            snap.record_unserved(
                v.series(cohort),
                StatusCode::SERVICE_UNAVAILABLE.as_u16(),
                started,
            );
            let set_cookie = minted.and_then(|m| cookie::set_cookie(&m.cookie, &m.id, tls));
            let tags = Tags {
                version_header: vh,
                version: Some(&v.header),
                set_cookie,
            };
            respond::error(StatusCode::SERVICE_UNAVAILABLE, messages::UNAVAILABLE, tags)
        }
    }
}
