//! Talking to one upstream endpoint: a pooled keep-alive connection or a new one (within the
//! connect timeout), then the request, streamed, until the response head arrives (within the
//! first-byte timeout). A request that never left the edge is handed back, so the caller can
//! send it elsewhere.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::time::timeout;

use crate::clock::{Millis, now_ms};
use crate::endpoint::Endpoint;
use crate::exchange::End;
use crate::pool::Conn;

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
    /// The HTTP/1.1 connection could not be set up.
    #[error("HTTP/1.1 handshake with {addr} failed: {source}")]
    Handshake {
        /// The endpoint.
        addr: String,
        /// Why.
        source: hyper::Error,
    },
    /// The response head did not arrive within the first-byte timeout.
    #[error("{addr} sent no response head within {after:?}")]
    FirstByteTimeout {
        /// The endpoint.
        addr: String,
        /// The first-byte timeout.
        after: Duration,
    },
    /// The exchange failed after the request was sent: reset, closed, malformed response.
    #[error("exchange with {addr} failed: {source}")]
    Exchange {
        /// The endpoint.
        addr: String,
        /// Why.
        source: hyper::Error,
    },
    /// The client's request body failed while it was being forwarded (the client went away).
    #[error("the client's request body failed: {0}")]
    ClientBody(#[source] hyper::Error),
}

/// A request that could not be sent: `request` is `Some` when none of it left the edge.
#[derive(Debug)]
pub(crate) struct SendFailure {
    pub(crate) error: UpstreamError,
    pub(crate) request: Option<Request<Incoming>>,
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
            UpstreamError::ConnectTimeout { .. }
                | UpstreamError::Connect { .. }
                | UpstreamError::Handshake { .. }
        )
    }
}

/// Sends `req` to `endpoint` (`now` is the request's arrival). On success returns the
/// response head and the connection, which the response body keeps driving while it streams
/// and which goes back to the pool once the body has ended.
pub(crate) async fn send(
    endpoint: &Endpoint,
    mut req: Request<Incoming>,
    limits: Limits,
    now: Millis,
) -> Result<(Response<Incoming>, Conn), SendFailure> {
    let mut pooled = endpoint.pool.checkout(now);
    loop {
        let reused = pooled.is_some();
        let mut conn = match pooled.take() {
            Some(conn) => conn,
            // Boxed: new connections are rare, and the request future stays small without them.
            None => match Box::pin(Conn::open(endpoint.addr(), limits.connect)).await {
                Ok(conn) => {
                    endpoint.connect_succeeded();
                    conn
                }
                Err(error) => {
                    if endpoint.connect_failed(now_ms()) {
                        tracing::warn!(endpoint = endpoint.addr(), %error, "endpoint ejected after repeated connect failures");
                    }
                    return Err(SendFailure {
                        error,
                        request: Some(req),
                    });
                }
            },
        };
        if reused && !timeout(limits.connect, conn.ready()).await.unwrap_or(false) {
            // The pooled connection went bad while idle: dial a new one.
            continue;
        }
        match timeout(limits.first_byte, conn.send(req)).await {
            Ok(Ok(response)) => return Ok((response, conn)),
            Ok(Err(mut e)) => match e.take_message() {
                // Not sent at all (the connection closed under us): once more on a new one.
                Some(back) if reused => req = back,
                back => {
                    return Err(SendFailure {
                        error: classify(endpoint, e.into_error()),
                        request: back,
                    });
                }
            },
            Err(_) => {
                let error = UpstreamError::FirstByteTimeout {
                    addr: endpoint.addr().into(),
                    after: limits.first_byte,
                };
                return Err(SendFailure {
                    error,
                    request: None,
                });
            }
        }
    }
}

/// Tells a failure of the client's request body (the client went away) from an upstream one.
fn classify(endpoint: &Endpoint, e: hyper::Error) -> UpstreamError {
    let from_client_body = e.is_user() && e.source().is_some_and(|s| s.is::<hyper::Error>());
    if from_client_body {
        UpstreamError::ClientBody(e)
    } else {
        UpstreamError::Exchange {
            addr: endpoint.addr().into(),
            source: e,
        }
    }
}
