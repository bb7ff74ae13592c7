//! The request path, phase by phase: route (decide, breaker, health) → rewrite headers →
//! forward (with one retry on stable) → respond (tag, stream, account).

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{HOST, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::clock::Arrival;
use crate::cookie;
use crate::forward::{Failed, forward};
use crate::headers::{self, Hop};
use crate::respond::{self, Tags, messages};
use crate::route::{RouteError, Routed, route};
use crate::shared::Shared;
use crate::snapshot::Snapshot;

/// Handles one client request that arrived over `hop`. Never fails: every problem becomes a
/// response.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    hop: Arc<Hop>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let arrival = Arrival::now();
    let snap = shared.snapshot();
    let vh = shared.version_header();
    if req.method() == Method::CONNECT {
        let error = StatusCode::METHOD_NOT_ALLOWED;
        return Ok(respond::error(error, messages::NO_CONNECT, Tags::default()));
    }
    let (mut parts, body) = req.into_parts();
    let routed = match route(&snap, &parts, hop.client_ip, &arrival) {
        Ok(r) => r,
        Err(e) => return Ok(route_error(&snap, e, vh, hop.tls, &arrival)),
    };
    let set_cookie = routed
        .minted
        .as_ref()
        .and_then(|m| cookie::set_cookie(&m.cookie, &m.id, hop.tls));
    prepare(&mut parts, &snap, &routed, &hop, vh);
    let total = snap.services()[routed.target.version.service]
        .timeouts
        .total;
    let deadline = tokio::time::Instant::from_std(arrival.at + total);
    let req = Request::from_parts(parts, body);
    let sent = forward(&snap, &routed, req, arrival, deadline).await;
    Ok(match sent {
        Ok(f) => {
            let version = Some(&snap.version(f.version).header);
            let tags = Tags {
                version_header: vh,
                version,
                set_cookie,
            };
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
    hop: &Hop,
    vh: Option<&HeaderName>,
) {
    let authority = match parts.uri.authority() {
        Some(a) if !parts.headers.contains_key(HOST) => HeaderValue::from_str(a.as_str()).ok(),
        _ => None,
    };
    let host = parts.headers.get(HOST).cloned().or(authority);
    let version = &snap.version(routed.target.version).header;
    let cohort = HeaderValue::from_static(routed.cohort.as_str());
    headers::to_upstream(&mut parts.headers, hop, host.as_ref(), vh, version, &cohort);
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
    vh: Option<&HeaderName>,
    tls: bool,
    arrival: &Arrival,
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
                arrival,
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
