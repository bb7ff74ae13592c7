//! One keep-alive HTTP/1.1 connection to an upstream, driven by the task of the request that
//! uses it instead of a task of its own: the request's task polls the connection while it
//! waits for the response head, and the response body polls it while it streams. That saves
//! two cross-task wake-ups per request (measured with `examples/client_modes.rs`: about 1.5 µs
//! of CPU per request on the benchmark machine, see `docs/benchmarks.md`). An idle connection
//! in the pool is polled by nobody; the next request that takes it out polls it first, which
//! notices an upstream that closed it meanwhile without a system call when it did not.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::TrySendError;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::upstream::UpstreamError;

/// A connection to an upstream: the sending half and the connection's state machine.
pub(crate) struct UpstreamConn {
    tx: SendRequest<Incoming>,
    driver: Pin<Box<Connection<TokioIo<TcpStream>, Incoming>>>,
    /// The connection future finished: the connection is gone.
    done: bool,
}

impl UpstreamConn {
    /// Connects to `addr` within `limit` and sets up HTTP/1.1.
    pub(crate) async fn open(addr: &str, limit: Duration) -> Result<UpstreamConn, UpstreamError> {
        let (tx, driver) = handshake(addr, limit).await?;
        Ok(UpstreamConn {
            tx,
            driver: Box::pin(driver),
            done: false,
        })
    }

    /// Makes progress on the connection (writing the request body, reading the response).
    /// Ready once the connection has ended.
    pub(crate) fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        match self.driver.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "upstream connection ended");
                }
                self.done = true;
                Poll::Ready(())
            }
        }
    }

    /// Whether the connection can still carry a request.
    pub(crate) fn is_open(&self) -> bool {
        !self.done && !self.tx.is_closed()
    }

    /// Waits until the connection can take a request; false when it is gone.
    pub(crate) async fn ready(&mut self) -> bool {
        poll_fn(|cx| {
            if self.poll_drive(cx).is_ready() {
                return Poll::Ready(false);
            }
            self.tx.poll_ready(cx).map(|r| r.is_ok())
        })
        .await
    }

    /// Sends `req` and waits for the response head, driving the connection meanwhile. When
    /// the connection could not take the request at all, the error hands it back.
    pub(crate) async fn send(
        &mut self,
        req: Request<Incoming>,
    ) -> Result<Response<Incoming>, TrySendError<Request<Incoming>>> {
        let mut sent = std::pin::pin!(self.tx.try_send_request(req));
        poll_fn(|cx| {
            // The connection ending resolves `sent` with its error: keep polling `sent`.
            let _ = self.poll_drive(cx);
            sent.as_mut().poll(cx)
        })
        .await
    }
}

/// A new HTTP/1.1 connection to `addr` (TCP connect within `limit`, `TCP_NODELAY`) carrying
/// request bodies of type `B`: its sending half and the connection future to drive.
pub(crate) async fn handshake<B>(
    addr: &str,
    limit: Duration,
) -> Result<(SendRequest<B>, Connection<TokioIo<TcpStream>, B>), UpstreamError>
where
    B: http_body::Body + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = match timeout(limit, TcpStream::connect(addr)).await {
        Err(_) => {
            return Err(UpstreamError::ConnectTimeout {
                addr: addr.into(),
                after: limit,
            });
        }
        Ok(Err(source)) => {
            return Err(UpstreamError::Connect {
                addr: addr.into(),
                source,
            });
        }
        Ok(Ok(stream)) => stream,
    };
    // Small requests and responses must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|source| UpstreamError::Handshake {
            addr: addr.into(),
            source,
        })
}

impl std::fmt::Debug for UpstreamConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConn")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
