//! The request path, phase by phase: route (decide, breaker, health) → rewrite headers (as
//! the upstream head is written) → forward (with one retry on stable) → respond (tag,
//! stream, account).

use std::convert::Infallible;
use std::sync::Arc;

use http::header::HeaderName;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::clock::Arrival;
use crate::cookie;
use crate::forward::{Failed, forward};
use crate::headers::{Hop, Rewrite};
use crate::respond::{self, Tags, messages};
use crate::route::{Reroute, RouteError, route};
use crate::shared::Shared;
use crate::snapshot::Snapshot;
use crate::upstream::Outgoing;
use crate::wire::RequestBody;

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
    let (parts, body) = req.into_parts();
    let routed = match route(&snap, &parts, hop.client_ip, &arrival) {
        Ok(r) => r,
        Err(e) => return Ok(route_error(&snap, e, vh, hop.tls, &arrival)),
    };
    let set_cookie = routed
        .minted
        .as_ref()
        .and_then(|m| cookie::set_cookie(&m.cookie, &m.id, hop.tls));
    // Phase 2, header rewriting, happens as the request head is written out.
    let outgoing = Outgoing {
        parts: &parts,
        rewrite: Rewrite {
            hop: &hop,
            version_header: vh,
            version: &snap.version(routed.target.version).header,
            cohort: routed.cohort.as_str(),
            rerouted: routed.rerouted.map(Reroute::as_str),
        },
        body: RequestBody::of(&parts.method, &parts.headers, &body),
    };
    let total = snap.services()[routed.target.version.service]
        .timeouts
        .total;
    let deadline = tokio::time::Instant::from_std(arrival.at + total);
    let sent = forward(&snap, &routed, outgoing, body, arrival, deadline).await;
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
