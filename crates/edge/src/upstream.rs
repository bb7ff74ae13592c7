//! Talking to one upstream endpoint: a pooled keep-alive connection or a new one (within the
//! connect timeout), then the request, streamed, until the response head arrives (within the
//! first-byte timeout). A request whose body was not touched is handed back on failure, so
//! the caller can send it elsewhere.

use std::io;
use std::time::Duration;

use http::StatusCode;
use http::request::Parts;
use hyper::body::Incoming;
use tokio::time::Instant;

use crate::clock::{Millis, now_ms};
use crate::conn::{Failure, UpstreamConn};
use crate::endpoint::Endpoint;
use crate::exchange::End;
use crate::headers::{self, Rewrite};
use crate::pool::Conn;
use crate::wire::{ExchangeError, RequestBody, ResponseHead};

/// What went wrong talking to an upstream.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No TCP connection within the connect timeout.
    #[error("connecting to {addr} timed out after {after:?}")]
    ConnectTimeout {
        /// The endpoint.
        addr: String,
        /// The connect timeout.
        after: Duration,
    },
    /// The TCP connection was refused or failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The endpoint.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// The response head did not arrive within the first-byte timeout.
    #[error("{addr} sent no response head within {after:?}")]
    FirstByteTimeout {
        /// The endpoint.
        addr: String,
        /// The first-byte timeout.
        after: Duration,
    },
    /// The exchange failed after the connection was made: reset, closed, malformed response.
    #[error("exchange with {addr} failed: {source}")]
    Exchange {
        /// The endpoint.
        addr: String,
        /// Why.
        source: ExchangeError,
    },
    /// The client's request body failed while it was being forwarded (the client went away).
    #[error("the client's request body failed: {0}")]
    ClientBody(#[source] hyper::Error),
}

/// The request as it goes out: the client's head, what the edge adds, and how the body is
/// framed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outgoing<'a> {
    pub(crate) parts: &'a Parts,
    pub(crate) rewrite: Rewrite<'a>,
    pub(crate) body: RequestBody,
}

/// A request that could not be sent.
#[derive(Debug)]
pub(crate) struct SendFailure {
    pub(crate) error: UpstreamError,
    /// `Some` when the request can be sent elsewhere: none of its body was taken (here it
    /// is, when it has one).
    pub(crate) resend: Option<Option<Incoming>>,
}

/// Timeouts of one exchange, already capped by what is left of the total timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) connect: Duration,
    pub(crate) first_byte: Duration,
}

impl UpstreamError {
    /// Which side the failure is charged to.
    pub(crate) fn end(&self) -> End {
        match self {
            UpstreamError::ClientBody(_) => End::Downstream,
            _ => End::Upstream,
        }
    }

    /// The status the client gets: 504 for timeouts, 502 for other upstream failures.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            UpstreamError::ConnectTimeout { .. } | UpstreamError::FirstByteTimeout { .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            UpstreamError::ClientBody(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    /// True when no connection could be made (nothing was sent).
    pub(crate) fn is_connect(&self) -> bool {
        matches!(
            self,
            UpstreamError::ConnectTimeout { .. } | UpstreamError::Connect { .. }
        )
    }
}

/// Sends `req` with `body` to `endpoint`, the attempt starting at `start` (`now` on the
/// edge's clock). `own`: the response header the edge sets (the upstream's copy is dropped).
/// On success returns the response head and the connection, which the response body reads
/// while it streams and which goes back to the pool once the body has ended.
pub(crate) async fn send(
    endpoint: &Endpoint,
    req: &Outgoing<'_>,
    mut body: Option<Incoming>,
    limits: Limits,
    start: Instant,
    now: Millis,
) -> Result<(ResponseHead, Conn), SendFailure> {
    let mut pooled = endpoint.pool.checkout(now);
    let head_request = req.parts.method == http::Method::HEAD;
    loop {
        let reused = pooled.is_some();
        let mut conn = match pooled.take() {
            Some(conn) => conn,
            // Boxed: new connections are rare, and the request future stays small without them.
            None => match Box::pin(UpstreamConn::open(endpoint.addr(), limits.connect)).await {
                Ok(conn) => {
                    endpoint.connect_succeeded();
                    Box::new(conn)
                }
                Err(error) => {
                    if endpoint.connect_failed(now_ms()) {
                        tracing::warn!(endpoint = endpoint.addr(), %error, "endpoint ejected after repeated connect failures");
                    }
                    return Err(SendFailure {
                        error,
                        resend: Some(body),
                    });
                }
            },
        };
        if reused && !conn.ready().await {
            // The pooled connection went bad while idle: dial a new one.
            continue;
        }
        headers::write_request(conn.head_buf(), req.parts, &req.rewrite, req.body);
        // A pooled connection sends at once; a new one may have taken a while to open.
        let sent = if reused { start } else { Instant::now() };
        let had_body = body.is_some();
        let own = req.rewrite.version_header;
        let exchanged = conn
            .exchange(body, req.body, head_request, own, sent + limits.first_byte)
            .await;
        let failed = match exchanged {
            Ok(response) => return Ok((response, conn)),
            Err(failed) => failed,
        };
        let resend = match (had_body, failed.body) {
            (false, _) => Some(None),
            (true, Some(b)) => Some(Some(b)),
            (true, None) => None,
        };
        // The upstream closed a pooled connection as the request went out: nothing came
        // back, so a request safe to repeat goes once more on a new connection.
        let lost = matches!(
            failed.error,
            Failure::Upstream(ExchangeError::Closed | ExchangeError::Io(_))
        );
        if reused
            && lost
            && failed.nothing_received
            && retryable(req.parts)
            && let Some(again) = resend
        {
            body = again;
            continue;
        }
        let error = match failed.error {
            Failure::Timeout => UpstreamError::FirstByteTimeout {
                addr: endpoint.addr().into(),
                after: limits.first_byte,
            },
            Failure::ClientBody(e) => UpstreamError::ClientBody(e),
            Failure::Upstream(source) => UpstreamError::Exchange {
                addr: endpoint.addr().into(),
                source,
            },
        };
        return Err(SendFailure { error, resend });
    }
}

/// The header that marks a request as safe to repeat although its method is not.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// May this request be sent again after it may have reached an upstream? GET, HEAD, OPTIONS
/// and TRACE are safe by definition; any other method only with an `Idempotency-Key` header.
pub(crate) fn retryable(req: &Parts) -> bool {
    matches!(
        req.method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS | http::Method::TRACE
    ) || req.headers.contains_key(IDEMPOTENCY_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_or_marked_requests_are_retried() {
        let req = |m: http::Method| {
            http::Request::builder()
                .method(m)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        assert!(retryable(&req(http::Method::GET)));
        assert!(retryable(&req(http::Method::HEAD)));
        assert!(retryable(&req(http::Method::OPTIONS)));
        assert!(!retryable(&req(http::Method::POST)));
        assert!(!retryable(&req(http::Method::PUT)));
        let marked = http::Request::post("/")
            .header("Idempotency-Key", "k1")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert!(retryable(&marked));
    }
}
