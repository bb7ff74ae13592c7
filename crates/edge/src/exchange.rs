//! The accounting of one proxied request, settled exactly once when the response ends (or
//! the client goes away): the breaker learns the outcome, the endpoint's in-flight count goes
//! down, a clean keep-alive connection goes back to the pool, and telemetry records it.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use rollgate_metrics::{ErrorSide, RequestRecord};
use tokio::time::Instant;

use crate::breaker::Outcome;
use crate::clock::{Arrival, ms_at};
use crate::pool::Conn;
use crate::snapshot::{Snapshot, Target};
use crate::wire::ExchangeError;

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
            settled: false,
        }
    }

    /// The status sent to the client.
    pub(crate) fn set_status(&mut self, status: u16) {
        self.status = status;
    }

    /// The keep-alive connection the response streams over: read by the body while it
    /// streams, handed back to the pool if the response ends cleanly.
    pub(crate) fn set_conn(&mut self, conn: Conn) {
        self.conn = Some(conn);
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
            if let (End::Complete, Some(mut conn)) = (end, self.conn.take())
                && conn.finish()
            {
                endpoint.pool.checkin(conn, now);
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

impl Drop for Exchange {
    fn drop(&mut self) {
        self.finish(End::Downstream);
    }
}
