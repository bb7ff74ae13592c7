//! The edge as a whole: built from settings, a first routing table and telemetry; bound to
//! its listeners; run until a shutdown signal, then drained.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rollgate_core::RoutingTable;
use rollgate_metrics::Exposition;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::admin::{self, Admin};
use crate::endpoint::Endpoint;
use crate::settings::ProxySettings;
use crate::shared::{Shared, TableHandle};
use crate::status::{self, BreakerReport, EndpointReport};
use crate::telemetry::Telemetry;
use crate::tls::{CertStore, TlsError};
use crate::workers::{self, Worker, WorkerError};
use crate::{health, server};

/// An edge proxy, ready to bind its listeners.
#[derive(Debug)]
pub struct Edge {
    settings: ProxySettings,
    shared: Arc<Shared>,
    checks: mpsc::UnboundedReceiver<Vec<Arc<Endpoint>>>,
    exposition: Option<Exposition>,
}

/// An edge whose listeners are bound (so their addresses are known), not yet serving.
pub struct BoundEdge {
    edge: Edge,
    clients: Clients,
    admin: Option<TcpListener>,
    /// The TLS acceptor and the certificate it serves (reloaded while the edge runs).
    tls: Option<(TlsAcceptor, Arc<CertStore>)>,
}

/// Where client connections are served.
enum Clients {
    /// On the runtime that runs the edge.
    Here(TcpListener),
    /// On worker threads of their own (see `workers.rs`).
    Workers(Vec<Worker>),
}

/// Why the edge could not start.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source} (is another process using the port?)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// TLS is configured but cannot be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A worker thread or its runtime could not be started.
    #[error("cannot start the edge's worker threads: {0}")]
    Workers(io::Error),
}

impl Edge {
    /// An edge serving `table`, recording into `telemetry`.
    pub fn new(settings: ProxySettings, table: Arc<RoutingTable>, telemetry: Telemetry) -> Edge {
        let (tx, checks) = mpsc::unbounded_channel();
        let shared = Shared::new(
            table,
            telemetry.recorder,
            settings.version_header.clone(),
            tx,
        );
        Edge {
            settings,
            shared: Arc::new(shared),
            checks,
            exposition: telemetry.exposition,
        }
    }

    /// The handle that publishes new routing tables to this edge (and reports its state).
    pub fn table_handle(&self) -> TableHandle {
        TableHandle::new(Arc::clone(&self.shared))
    }

    /// The circuit breaker of every version.
    pub fn breaker_states(&self) -> Vec<BreakerReport> {
        status::breakers(&self.shared.snapshot())
    }

    /// Binds the client and admin listeners and loads the TLS certificate.
    pub async fn bind(self) -> Result<BoundEdge, EdgeError> {
        let tls = self.settings.tls.as_ref().map(|t| t.serve()).transpose()?;
        let listen = self.settings.listen;
        let clients = match self.settings.workers {
            None => Clients::Here(bind(listen).await?),
            Some(n) => Clients::Workers(workers::bind(listen, n).map_err(|e| match e {
                WorkerError::Bind(source) => EdgeError::Bind {
                    addr: listen,
                    source,
                },
                WorkerError::Runtime(e) => EdgeError::Workers(e),
            })?),
        };
        let admin = match self.settings.admin_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Ok(BoundEdge {
            edge: self,
            clients,
            admin,
            tls,
        })
    }

    /// Binds and serves until `shutdown` resolves, then drains (see [`BoundEdge::run`]).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), EdgeError> {
        self.bind().await?.run(shutdown).await;
        Ok(())
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, EdgeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| EdgeError::Bind { addr, source })
}

impl BoundEdge {
    /// The address clients connect to (with the real port when the settings said port 0).
    pub fn local_addr(&self) -> SocketAddr {
        let bound = match &self.clients {
            Clients::Here(l) => l.local_addr().ok(),
            Clients::Workers(w) => w.first().and_then(|w| w.local_addr().ok()),
        };
        bound.unwrap_or(self.edge.settings.listen)
    }

    /// The admin listener's address, if there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The handle that publishes new routing tables to this edge.
    pub fn table_handle(&self) -> TableHandle {
        self.edge.table_handle()
    }

    /// Serves clients and the admin endpoints until `shutdown` resolves; then stops
    /// accepting, lets requests in flight finish for up to the drain timeout, and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let BoundEdge {
            edge,
            clients,
            admin,
            tls,
        } = self;
        let checker = tokio::spawn(health::supervise(edge.checks));
        let (tls, certs) = tls.unzip();
        let cert_watch = certs.map(|c| tokio::spawn(c.watch(std::future::pending())));
        let drain = edge.settings.drain_timeout;
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let shared = Arc::clone(&edge.shared);
        let admin_state = Admin {
            shared: Arc::clone(&shared),
            exposition: edge.exposition,
        };
        let admin_loop = async {
            if let Some(l) = admin {
                admin::serve(l, admin_state, stopped(stop_rx.clone()), drain).await;
            }
        };
        let signal = async {
            shutdown.await;
            tracing::info!("shutting down: no new connections, draining requests in flight");
            let _ = stop_tx.send(true);
        };
        let clients_done = async {
            match clients {
                Clients::Here(l) => {
                    server::serve_clients(l, tls, shared, stopped(stop_rx.clone()), drain).await
                }
                Clients::Workers(workers) => {
                    run_workers(workers, tls, shared, stop_rx.clone(), drain).await
                }
            }
        };
        tokio::join!(clients_done, admin_loop, signal);
        tracing::info!("edge drained");
        checker.abort();
        if let Some(w) = cert_watch {
            w.abort();
        }
    }
}

/// Runs every worker on its thread and waits until all have drained.
async fn run_workers(
    workers: Vec<Worker>,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let mut threads = Vec::with_capacity(workers.len());
    for (i, w) in workers.into_iter().enumerate() {
        match w.spawn(i, tls.clone(), Arc::clone(&shared), stop.clone(), drain) {
            Ok(t) => threads.push(t),
            Err(e) => tracing::error!(worker = i, error = %e, "cannot start a worker thread"),
        }
    }
    for t in threads {
        if tokio::task::spawn_blocking(move || t.join()).await.is_err() {
            tracing::error!("a worker thread could not be joined");
        }
    }
}

impl std::fmt::Debug for BoundEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundEdge")
            .field("listen", &self.local_addr())
            .field(
                "workers",
                &match &self.clients {
                    Clients::Here(_) => 0,
                    Clients::Workers(w) => w.len(),
                },
            )
            .field("admin", &self.admin_addr())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl TableHandle {
    /// The circuit breaker of every version of the current table.
    pub fn breaker_states(&self) -> Vec<BreakerReport> {
        status::breakers(&self.shared().snapshot())
    }

    /// The health of every endpoint of the current table.
    pub fn endpoint_states(&self) -> Vec<EndpointReport> {
        status::endpoints(&self.shared().snapshot())
    }
}
