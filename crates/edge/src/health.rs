//! Active health checks: a `GET` of the configured path on every endpoint, every interval,
//! on a fresh connection (so the check also proves the endpoint accepts connections). One
//! task per endpoint, which ends by itself when no snapshot references the endpoint any more.

use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::header::{HOST, USER_AGENT};
use http::{HeaderValue, Request};
use http_body_util::Empty;
use hyper::client::conn::http1::SendRequest;
use rollgate_core::HealthCheckSpec;
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, interval, timeout};

use crate::conn::handshake;
use crate::endpoint::Endpoint;
use crate::upstream::UpstreamError;

/// The `User-Agent` of health checks, so upstream logs can tell them apart.
pub const HEALTH_CHECK_USER_AGENT: &str = "rollgate-health-check";

/// Starts a checker for every endpoint received, until the sender is dropped.
pub(crate) async fn supervise(mut new_endpoints: mpsc::UnboundedReceiver<Vec<Arc<Endpoint>>>) {
    while let Some(batch) = new_endpoints.recv().await {
        for endpoint in batch {
            if let Some(spec) = endpoint.check().cloned() {
                tokio::spawn(check_loop(Arc::downgrade(&endpoint), spec));
            }
        }
    }
}

async fn check_loop(endpoint: Weak<Endpoint>, spec: HealthCheckSpec) {
    let mut tick = interval(spec.interval.get());
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(e) = endpoint.upgrade() else { return };
        let ok = check_once(&e, &spec).await;
        match e.check_result(ok) {
            Some(true) => tracing::info!(endpoint = e.addr(), "endpoint healthy again"),
            Some(false) => {
                tracing::warn!(endpoint = e.addr(), path = %spec.path, "endpoint failed its health checks")
            }
            None => {}
        }
    }
}

/// A new connection for one check, driven by a task of its own.
async fn dial(
    addr: &str,
    limit: std::time::Duration,
) -> Result<SendRequest<Empty<Bytes>>, UpstreamError> {
    let (tx, conn) = handshake(addr, limit).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "health check connection ended");
        }
    });
    Ok(tx)
}

/// One check: true when the endpoint answered the path with a 2xx within the timeout.
pub(crate) async fn check_once(e: &Endpoint, spec: &HealthCheckSpec) -> bool {
    let limit = spec.timeout.get();
    let exchange = async {
        let mut conn = dial(e.addr(), limit).await.ok()?;
        let req = Request::get(spec.path.as_str())
            .header(HOST, HeaderValue::from_str(e.addr()).ok()?)
            .header(USER_AGENT, HEALTH_CHECK_USER_AGENT)
            .body(Empty::new())
            .ok()?;
        let response = conn.send_request(req).await.ok()?;
        Some(response.status().is_success())
    };
    matches!(timeout(limit, exchange).await, Ok(Some(true)))
}
