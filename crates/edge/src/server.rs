//! The client listener: accepts TCP connections, terminates TLS when configured, and serves
//! HTTP/1.1 and HTTP/2 on each with the proxy, every connection watched for a graceful drain.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::headers::Hop;
use crate::proxy::handle;
use crate::shared::Shared;

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request head (slow-loris protection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// After a failed `accept` (out of file descriptors, usually), wait this long.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The HTTP/1.1 + HTTP/2 connection settings shared by every client connection.
pub(crate) fn http_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// Serves clients from `listener` until `stop` resolves, then drains this listener's
/// connections for up to `drain`.
pub(crate) async fn serve_clients(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    stop: impl Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    accept_loop(listener, tls, shared, &graceful, stop).await;
    let open = graceful.count();
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => tracing::debug!(connections = open, "drained"),
        Err(_) => tracing::warn!(
            timeout = ?drain,
            "drain timeout passed with requests still in flight; closing them"
        ),
    }
}

/// Accepts connections until `stop` resolves; each is served on its own task and watched by
/// `graceful`.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    graceful: &GracefulShutdown,
    stop: impl Future<Output = ()>,
) {
    let builder = Arc::new(http_builder());
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let task = serve(
                    stream,
                    peer,
                    tls.clone(),
                    Arc::clone(&shared),
                    Arc::clone(&builder),
                    graceful.watcher(),
                );
                tokio::spawn(task);
            }
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    watcher: Watcher,
) {
    let _ = stream.set_nodelay(true);
    let hop = Arc::new(Hop::new(peer.ip(), tls.is_some()));
    let service = service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&hop), req));
    let served = match tls {
        None => {
            watcher
                .watch(builder.serve_connection(TokioIo::new(stream), service))
                .await
        }
        Some(acceptor) => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    watcher
                        .watch(builder.serve_connection(TokioIo::new(stream), service))
                        .await
                }
                Ok(Err(e)) => {
                    return tracing::debug!(%peer, error = %e, "TLS handshake failed");
                }
                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    };
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "client connection ended with an error");
    }
}
