//! Phase 3 of a request: sending it to the chosen endpoint and waiting for the response
//! head. When the endpoint cannot be connected to (so nothing was sent) and the request is
//! safe to repeat, it is sent once more to the fallback (stable) version, so the user never
//! sees the failure; the failed attempt is still recorded against the version that failed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::body::Incoming;

use crate::clock::{Arrival, now_ms};
use crate::exchange::Exchange;
use crate::route::{Routed, retry_target};
use crate::snapshot::{Snapshot, VersionRef};
use crate::upstream::{self, Limits, Outgoing, UpstreamError, retryable};
use crate::wire::{RequestBody, ResponseHead};

/// A response head from the upstream; its body is still to stream.
#[derive(Debug)]
pub(crate) struct Forwarded {
    pub(crate) response: ResponseHead,
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

/// Sends `req` with `body` where `routed` says, retrying once on its `retry_on` version when
/// allowed (see the module docs).
pub(crate) async fn forward<'a>(
    snap: &'a Arc<Snapshot>,
    routed: &Routed,
    mut req: Outgoing<'a>,
    body: Incoming,
    arrival: Arrival,
    deadline: tokio::time::Instant,
) -> Result<Forwarded, Failed> {
    let timeouts = snap.services()[routed.target.version.service].timeouts;
    let (mut target, mut retry_on) = (routed.target, routed.retry_on);
    // A body that is not sent is dropped now (hyper's client rules, see `RequestBody::of`).
    let mut body = (req.body != RequestBody::None).then_some(body);
    // The first attempt starts right after arrival: no need to read the clock for it.
    let mut start = tokio::time::Instant::from_std(arrival.at);
    let mut limits = Limits {
        connect: timeouts.connect.min(timeouts.total),
        first_byte: timeouts.first_byte.min(timeouts.total),
    };
    loop {
        let mut exchange = Exchange::new(Arc::clone(snap), target, arrival);
        let endpoint = &snap.version(target.version).endpoints[target.endpoint];
        let sent = upstream::send(endpoint, &req, body, limits, start, arrival.ms()).await;
        let failure = match sent {
            Ok((response, conn)) => {
                exchange.set_conn(conn, req.parts.version < http::Version::HTTP_2);
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
        let next = match (failure.resend, retry_on.take()) {
            (Some(back), Some(fallback)) if failure.error.is_connect() && retryable(req.parts) => {
                retry_target(snap, fallback, routed.cohort, now_ms()).map(|t| (back, t))
            }
            _ => None,
        };
        let Some((back, next)) = next else {
            return Err(Failed {
                error: failure.error,
                version: target.version,
            });
        };
        snap.version(target.version)
            .stats
            .retried
            .fetch_add(1, Ordering::Relaxed);
        req.rewrite.version = &snap.version(next.version).header;
        (body, target) = (back, next);
        start = tokio::time::Instant::now();
        let left = deadline.saturating_duration_since(start);
        limits = Limits {
            connect: timeouts.connect.min(left),
            first_byte: timeouts.first_byte.min(left),
        };
    }
}
