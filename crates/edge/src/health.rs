//! Active health checks: a `GET` of the configured path on every endpoint, every interval,
//! on a fresh connection (so the check also proves the endpoint accepts connections), spoken
//! by the same HTTP/1.1 client as the proxied requests. One
//! task per endpoint, which ends by itself when no snapshot references the endpoint any more.

use std::sync::{Arc, Weak};

use http::uri::PathAndQuery;
use rollgate_core::HealthCheckSpec;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval, timeout};

use crate::conn::UpstreamConn;
use crate::endpoint::Endpoint;
use crate::wire::RequestBody;

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

/// One check: true when the endpoint answered the path with a 2xx within the timeout.
pub(crate) async fn check_once(e: &Endpoint, spec: &HealthCheckSpec) -> bool {
    let limit = spec.timeout.get();
    let Ok(path) = PathAndQuery::try_from(spec.path.as_str()) else {
        return false;
    };
    let exchange = async {
        let mut conn = UpstreamConn::open(e.addr(), limit).await.ok()?;
        let head = conn.head_buf();
        for part in [
            "GET ",
            path.as_str(),
            " HTTP/1.1\r\nhost: ",
            e.addr(),
            "\r\nuser-agent: ",
            HEALTH_CHECK_USER_AGENT,
            "\r\n\r\n",
        ] {
            head.extend_from_slice(part.as_bytes());
        }
        let deadline = Instant::now() + limit;
        let response = conn
            .exchange(None, RequestBody::None, false, None, deadline)
            .await
            .ok()?;
        Some(response.status.is_success())
    };
    matches!(timeout(limit, exchange).await, Ok(Some(true)))
}
