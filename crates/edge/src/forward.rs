//! Phase 3 of a request: sending it to the chosen endpoint and waiting for the response
//! head. When the endpoint cannot be connected to (so nothing was sent) and the request is
//! safe to repeat, it is sent once more to the fallback (stable) version, so the user never
//! sees the failure; the failed attempt is still recorded against the version that failed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::clock::{Arrival, now_ms};
use crate::exchange::Exchange;
use crate::headers;
use crate::route::{Routed, retry_target};
use crate::snapshot::{Snapshot, VersionRef};
use crate::upstream::{self, Limits, UpstreamError};

/// A response head from the upstream; its body is still to stream.
#[derive(Debug)]
pub(crate) struct Forwarded {
    pub(crate) response: Response<Incoming>,
    pub(crate) exchange: Exchange,
    /// The version that answered.
    pub(crate) version: VersionRef,
}

/// The request could not be forwarded.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) error: UpstreamError,
    /// The version that failed.
    pub(crate) version: VersionRef,
}

/// The header that marks a request as safe to repeat although its method is not.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Sends `req` where `routed` says, retrying once on its `retry_on` version when allowed (see
/// the module docs).
pub(crate) async fn forward(
    snap: &Arc<Snapshot>,
    routed: &Routed,
    mut req: Request<Incoming>,
    arrival: Arrival,
    deadline: tokio::time::Instant,
) -> Result<Forwarded, Failed> {
    let timeouts = snap.services()[routed.target.version.service].timeouts;
    let (mut target, mut retry_on) = (routed.target, routed.retry_on);
    // The first attempt starts right after arrival: no need to read the clock for it.
    let mut limits = Limits {
        connect: timeouts.connect.min(timeouts.total),
        first_byte: timeouts.first_byte.min(timeouts.total),
    };
    loop {
        let mut exchange = Exchange::new(Arc::clone(snap), target, arrival);
        let endpoint = &snap.version(target.version).endpoints[target.endpoint];
        let failure = match upstream::send(endpoint, req, limits, arrival.ms()).await {
            Ok((response, conn)) => {
                exchange.set_conn(conn);
                return Ok(Forwarded {
                    response,
                    exchange,
                    version: target.version,
                });
            }
            Err(failure) => failure,
        };
        exchange.set_status(failure.error.status().as_u16());
        exchange.finish(failure.error.end());
        tracing::debug!(endpoint = endpoint.addr(), error = %failure.error, "upstream request failed");
        let next = match (failure.request, retry_on.take()) {
            (Some(back), Some(fallback)) if failure.error.is_connect() && retryable(&back) => {
                retry_target(snap, fallback, routed.cohort, now_ms()).map(|t| (back, t))
            }
            _ => None,
        };
        let Some((mut back, next)) = next else {
            return Err(Failed {
                error: failure.error,
                version: target.version,
            });
        };
        snap.version(target.version)
            .stats
            .retried
            .fetch_add(1, Ordering::Relaxed);
        headers::set_version(back.headers_mut(), &snap.version(next.version).header);
        (req, target) = (back, next);
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        limits = Limits {
            connect: timeouts.connect.min(left),
            first_byte: timeouts.first_byte.min(left),
        };
    }
}

/// May this request be sent again after a failed connect? GET, HEAD, OPTIONS and TRACE are
/// safe by definition; any other method only with an `Idempotency-Key` header.
fn retryable<B>(req: &Request<B>) -> bool {
    matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || req.headers().contains_key(IDEMPOTENCY_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_or_marked_requests_are_retried() {
        let req = |m: Method| Request::builder().method(m).body(()).unwrap();
        assert!(retryable(&req(Method::GET)));
        assert!(retryable(&req(Method::HEAD)));
        assert!(retryable(&req(Method::OPTIONS)));
        assert!(!retryable(&req(Method::POST)));
        assert!(!retryable(&req(Method::PUT)));
        let marked = Request::post("/")
            .header("Idempotency-Key", "k1")
            .body(())
            .unwrap();
        assert!(retryable(&marked));
    }
}
