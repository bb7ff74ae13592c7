//! The edge as a whole: built from settings, a first routing table and telemetry; bound to
//! its listeners; run until a shutdown signal, then drained.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::server::graceful::GracefulShutdown;
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
use crate::tls::TlsError;
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
    listener: TcpListener,
    admin: Option<TcpListener>,
    tls: Option<TlsAcceptor>,
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
        let tls = self
            .settings
            .tls
            .as_ref()
            .map(|t| t.acceptor())
            .transpose()?;
        let listener = bind(self.settings.listen).await?;
        let admin = match self.settings.admin_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Ok(BoundEdge {
            edge: self,
            listener,
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
        self.listener
            .local_addr()
            .unwrap_or(self.edge.settings.listen)
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
            listener,
            admin,
            tls,
        } = self;
        let checker = tokio::spawn(health::supervise(edge.checks));
        let graceful = GracefulShutdown::new();
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
                admin::serve(l, admin_state, &graceful, stopped(stop_rx.clone())).await;
            }
        };
        let signal = async {
            shutdown.await;
            tracing::info!("shutting down: no new connections, draining requests in flight");
            let _ = stop_tx.send(true);
        };
        tokio::join!(
            server::accept_loop(listener, tls, shared, &graceful, stopped(stop_rx.clone())),
            admin_loop,
            signal
        );
        let open = graceful.count();
        match tokio::time::timeout(edge.settings.drain_timeout, graceful.shutdown()).await {
            Ok(()) => tracing::info!(connections = open, "drained"),
            Err(_) => tracing::warn!(
                timeout = ?edge.settings.drain_timeout,
                "drain timeout passed with requests still in flight; closing them"
            ),
        }
        checker.abort();
    }
}

impl std::fmt::Debug for BoundEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundEdge")
            .field("listen", &self.local_addr())
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
