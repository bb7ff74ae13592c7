//! Thread-per-core serving, the way nginx runs worker processes: each worker thread runs its
//! own single-threaded runtime and accepts from its own listening socket (`SO_REUSEPORT`, so
//! the kernel spreads connections over the workers). A connection and its upstream
//! connections then live on one thread: no work stealing, no cross-thread wake-ups. Measured
//! against tokio's work-stealing runtime with the same thread count, see
//! `docs/benchmarks.md`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::server::serve_clients;
use crate::shared::Shared;

/// Pending connections the kernel queues per listening socket.
const BACKLOG: u32 = 4096;

/// One worker: its listening socket and the runtime that will serve it.
pub(crate) struct Worker {
    listener: std::net::TcpListener,
    runtime: Runtime,
}

/// Why the workers could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    /// A listening socket could not be opened.
    #[error(transparent)]
    Bind(io::Error),
    /// A worker runtime could not be built.
    #[error("cannot start a worker runtime: {0}")]
    Runtime(io::Error),
}

/// `n` listening sockets sharing `addr` (the port the first one got when `addr` says port
/// 0), each with the runtime of the worker that will serve it.
pub(crate) fn bind(addr: SocketAddr, n: usize) -> Result<Vec<Worker>, WorkerError> {
    let mut workers = Vec::with_capacity(n);
    let mut addr = addr;
    for _ in 0..n.max(1) {
        let listener = reuseport_listener(addr).map_err(WorkerError::Bind)?;
        addr = listener.local_addr().map_err(WorkerError::Bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(WorkerError::Runtime)?;
        workers.push(Worker { listener, runtime });
    }
    Ok(workers)
}

fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    // `listen` registers the socket with the current runtime; the worker registers it again
    // with its own.
    socket.listen(BACKLOG)?.into_std()
}

impl Worker {
    /// The address the worker listens on.
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves on a thread of its own until `stop` turns true, then drains for up to `drain`.
    pub(crate) fn spawn(
        self,
        index: usize,
        tls: Option<TlsAcceptor>,
        shared: Arc<Shared>,
        mut stop: watch::Receiver<bool>,
        drain: Duration,
    ) -> io::Result<std::thread::JoinHandle<()>> {
        let Worker { listener, runtime } = self;
        std::thread::Builder::new().name(format!("rollgate-edge-{index}")).spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return tracing::error!(worker = index, error = %e, "worker cannot listen"),
                };
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                serve_clients(listener, tls, shared, stopped, drain).await;
            });
        })
    }
}
