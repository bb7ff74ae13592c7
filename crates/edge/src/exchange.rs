//! The accounting of one proxied request, settled exactly once when the response ends (or
//! the client goes away): the breaker learns the outcome, the endpoint's in-flight count goes
//! down, a clean keep-alive connection goes back to the pool, and telemetry records it.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rollgate_metrics::{ErrorSide, RequestRecord};
use tokio::time::Instant;

use crate::breaker::Outcome;
use crate::clock::{Arrival, ms_at};
use crate::pool::Conn;
use crate::snapshot::{Snapshot, Target};
use crate::wire::ExchangeError;

/// How long the rest of a request body whose answer came early is read, at most (nginx's
/// `lingering_time` is 30 s).
const DISCARD_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The whole response reached the client.
    Complete,
    /// The upstream failed (refused, reset, timed out, malformed response).
    Upstream,
    /// The client went away or sent a broken request.
    Downstream,
}

/// One request's accounting; settled by [`Exchange::finish`] or, if the response body is
/// dropped before its end, by `Drop` (the client went away).
#[derive(Debug)]
pub(crate) struct Exchange {
    snap: Arc<Snapshot>,
    target: Target,
    arrival: Arrival,
    status: u16,
    bytes: u64,
    conn: Option<Conn>,
    /// The client speaks HTTP/1: a request body the upstream did not take is read to its end
    /// rather than dropped (see [`discard`]).
    http1: bool,
    settled: bool,
}

impl Exchange {
    /// The accounting of a request to `target` that arrived at `arrival`; the endpoint counts
    /// it in flight until it is settled.
    pub(crate) fn new(snap: Arc<Snapshot>, target: Target, arrival: Arrival) -> Exchange {
        if let Some(e) = snap.version(target.version).endpoint(target.endpoint) {
            e.begin();
        }
        Exchange {
            snap,
            target,
            arrival,
            status: RequestRecord::NO_STATUS,
            bytes: 0,
            conn: None,
            http1: false,
            settled: false,
        }
    }

    /// The status sent to the client.
    pub(crate) fn set_status(&mut self, status: u16) {
        self.status = status;
    }

    /// The keep-alive connection the response streams over: read by the body while it
    /// streams, handed back to the pool if the response ends cleanly. `http1`: the client's
    /// request came over HTTP/1.x.
    pub(crate) fn set_conn(&mut self, conn: Conn, http1: bool) {
        self.conn = Some(conn);
        self.http1 = http1;
    }

    /// The next frame of the response body, read from the connection.
    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ExchangeError>>> {
        match &mut self.conn {
            Some(conn) => conn.poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    /// Whether the response body is complete.
    pub(crate) fn is_end_stream(&self) -> bool {
        self.conn.as_ref().is_none_or(|c| c.is_end_stream())
    }

    /// What is known of the response body's length.
    pub(crate) fn size_hint(&self) -> SizeHint {
        self.conn
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |c| c.size_hint())
    }

    /// Ready once `deadline` has passed.
    pub(crate) fn poll_deadline(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.conn {
            Some(conn) => conn.poll_deadline(deadline, cx),
            None => Poll::Pending,
        }
    }

    /// Counts response bytes sent to the client.
    #[inline]
    pub(crate) fn add_bytes(&mut self, n: usize) {
        self.bytes = self.bytes.saturating_add(n as u64);
    }

    /// Settles the request; later calls do nothing.
    pub(crate) fn finish(&mut self, end: End) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let outcome = match end {
            End::Complete if self.status >= 500 => Outcome::Failure,
            End::Complete => Outcome::Success,
            End::Upstream => Outcome::Failure,
            End::Downstream => Outcome::Neutral,
        };
        let ended = std::time::Instant::now();
        let now = ms_at(ended);
        let version = self.snap.version(self.target.version);
        version.breaker.record(outcome, self.target.probe, now);
        if let Some(endpoint) = version.endpoint(self.target.endpoint) {
            endpoint.end();
            if let (End::Complete, Some(mut conn)) = (end, self.conn.take()) {
                if conn.finish() {
                    endpoint.pool.checkin(conn, now);
                } else if let Some(rest) = conn.take_unsent_rest()
                    && self.http1
                {
                    discard(rest);
                }
            }
        }
        let error = match end {
            End::Complete => None,
            End::Upstream => Some(ErrorSide::Upstream),
            End::Downstream => Some(ErrorSide::Downstream),
        };
        let latency = ended.saturating_duration_since(self.arrival.at);
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let record = |series| RequestRecord {
            series,
            status: self.status,
            latency_us,
            bytes_out: self.bytes,
            error,
        };
        let at = self
            .arrival
            .unix_ms
            .saturating_add(i64::try_from(latency.as_millis()).unwrap_or(i64::MAX));
        self.snap.record(at, self.target.series.map(record));
    }
}

/// Reads and drops what is left of an HTTP/1 client's request body whose response is
/// complete: the upstream answered before it took all of it (a `413`, say). Dropping the body
/// instead would make hyper close the client's connection with the body still arriving, and
/// the reset that follows can destroy the response before the client reads it. At most
/// [`DISCARD_FOR`]; then the connection is closed after all. (Over HTTP/2 dropping the body
/// just resets its stream, which is what RFC 9113 §8.1 asks for.)
fn discard(mut rest: Incoming) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let drained = async { while let Some(Ok(_)) = rest.frame().await {} };
        let _ = tokio::time::timeout(DISCARD_FOR, drained).await;
    });
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.finish(End::Downstream);
    }
}
