//! Phase 3 of a request: sending it to the chosen endpoint and waiting for the response
//! head. When the endpoint cannot be connected to (so nothing was sent) and the request is
//! safe to repeat, it is sent once more to the fallback (stable) version, so the user never
//! sees the failure; the failed attempt is still recorded against the version that failed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use http::{Method, Request, Response};
use hyper::body::Incoming;
use rollgate_core::Cohort;

use crate::clock::now_ms;
use crate::exchange::Exchange;
use crate::headers;
use crate::route::retry_target;
use crate::snapshot::{Snapshot, Target, Timeouts, VersionRef};
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

/// Sends `req` to `target`, retrying once on `retry_on` when allowed (see the module docs).
pub(crate) async fn forward(
    snap: &Arc<Snapshot>,
    mut target: Target,
    mut retry_on: Option<VersionRef>,
    cohort: Cohort,
    mut req: Request<Incoming>,
    started: Instant,
    deadline: tokio::time::Instant,
) -> Result<Forwarded, Failed> {
    let timeouts = snap.services()[target.version.service].timeouts;
    loop {
        let mut exchange = Exchange::new(Arc::clone(snap), target, started);
        let endpoint = &snap.version(target.version).endpoints[target.endpoint];
        match upstream::send(endpoint, req, limits(timeouts, deadline)).await {
            Ok((response, conn)) => {
                exchange.set_conn(conn);
                return Ok(Forwarded {
                    response,
                    exchange,
                    version: target.version,
                });
            }
            Err(failure) => {
                exchange.set_status(failure.error.status().as_u16());
                exchange.finish(failure.error.end());
                tracing::debug!(endpoint = endpoint.addr(), error = %failure.error, "upstream request failed");
                let next = match (failure.request, retry_on.take()) {
                    (Some(back), Some(fallback))
                        if failure.error.is_connect() && retryable(&back) =>
                    {
                        retry_target(snap, fallback, cohort, now_ms()).map(|t| (back, t))
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
            }
        }
    }
}

/// Connect and first-byte timeouts, each capped by what is left of the total.
fn limits(t: Timeouts, deadline: tokio::time::Instant) -> Limits {
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    Limits {
        connect: t.connect.min(left),
        first_byte: t.first_byte.min(left),
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
