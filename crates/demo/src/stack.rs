//! The Rollgate side of the demo, in this process: the embedded SQLite store in the run's
//! temporary directory, the edge proxy, the control plane with its reconcile loop, the
//! telemetry pump between them, and the API on its own listener. The same building blocks, in
//! the same order, as `rollgate serve`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rollgate_config::Config;
use rollgate_control::{Builtin, ControlOptions, ControlPlane, InProcess, recorder};
use rollgate_core::RoutingTable;
use rollgate_edge::{Edge, ProxySettings, Telemetry, close_windows};
use rollgate_metrics::Exposition;
use rollgate_server::ServerOptions;
use rollgate_store::{Role, SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::DemoError;

/// The store's file in the data directory (as `rollgate serve` names it).
pub const STORE_FILE: &str = "rollgate.db";
/// Most telemetry series the edge's `/metrics` exposes.
const MAX_EXPOSED_SERIES: usize = 10_000;

/// Rollgate running in this process.
#[derive(Debug)]
pub struct Stack {
    /// The control plane (what the live view reads).
    pub plane: ControlPlane,
    /// Where the edge proxy listens.
    pub edge: SocketAddr,
    /// Where the edge's `/metrics` is.
    pub admin: Option<SocketAddr>,
    /// Where the API and the dashboard listen.
    pub api: SocketAddr,
    /// An operator token for the API, created for this run.
    pub token: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    /// Opens the store in `data_dir` and starts the edge, the control plane and the API of
    /// `config`, each on the port its section names (0: any free port).
    pub async fn start(config: &Config, data_dir: &Path) -> Result<Stack, DemoError> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(data_dir.join(STORE_FILE))?);
        let context = config.edge.context()?;
        let table = RoutingTable::build(&config.routing, &context).map_err(DemoError::Routing)?;
        let opts = ControlOptions::new(config, context.clone());
        let edge_recorder = Arc::new(recorder(opts.window_ms, &opts.catalog));
        let exposition = Exposition::new(MAX_EXPOSED_SERIES);
        let telemetry = Telemetry {
            recorder: Arc::clone(&edge_recorder),
            exposition: Some(exposition.clone()),
        };
        let edge = Edge::new(proxy_settings(config), Arc::new(table), telemetry);
        let handle = edge.table_handle();
        let publisher = Arc::new(InProcess::new(handle.clone(), context));
        let opts = opts.with_breakers(Arc::new(handle));
        let provider = Arc::new(Builtin::new(
            opts.windows.clone(),
            Arc::clone(&opts.catalog),
        ));
        let plane = ControlPlane::start(opts, store, publisher, provider).await?;
        let edge = edge.bind().await?;
        let api = TcpListener::bind(config.control.listen)
            .await
            .map_err(DemoError::io(format!(
                "cannot listen on {} for the API",
                config.control.listen
            )))?;
        let api_addr = api
            .local_addr()
            .map_err(DemoError::io("the API's address"))?;
        let now = plane.now();
        let (_, secret) = plane
            .store()
            .create_token("demo-operator", Role::Operator, now)
            .await?;

        let (stop, stopped) = watch::channel(false);
        let (edge_addr, admin) = (edge.local_addr(), edge.admin_addr());
        let server_opts =
            ServerOptions::from_settings_with(&config.control, |_| None).unwrap_or_default();
        let app =
            rollgate_server::router(plane.clone(), server_opts).merge(rollgate_dashboard::router(
                plane.clone(),
                rollgate_dashboard::DashboardOptions::default(),
            ));
        let pump = close_windows(
            edge_recorder,
            exposition,
            {
                let plane = plane.clone();
                move |w| {
                    plane.ingest_windows(vec![w.clone()]);
                }
            },
            until(stopped.clone()),
        );
        let decide = {
            let (plane, stopped) = (plane.clone(), stopped.clone());
            async move { plane.run(until(stopped)).await }
        };
        let serve_api = {
            let stopped = stopped.clone();
            async move {
                let served = axum::serve(api, app).with_graceful_shutdown(until(stopped));
                if let Err(e) = served.await {
                    tracing::error!(error = %e, "the API server failed");
                }
            }
        };
        let tasks = vec![
            tokio::spawn(edge.run(until(stopped))),
            tokio::spawn(pump),
            tokio::spawn(decide),
            tokio::spawn(serve_api),
        ];
        Ok(Stack {
            plane,
            edge: edge_addr,
            admin,
            api: api_addr,
            token: secret.expose().to_string(),
            stop,
            tasks,
        })
    }

    /// Stops accepting, drains requests in flight and waits for every part to stop.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The edge's settings from `[edge]` (no TLS: the demo listens on 127.0.0.1 only).
fn proxy_settings(config: &Config) -> ProxySettings {
    let edge = &config.edge;
    ProxySettings {
        admin_listen: edge.admin_listen,
        version_header: edge
            .version_header
            .as_deref()
            .and_then(|h| http::HeaderName::from_bytes(h.as_bytes()).ok()),
        drain_timeout: edge.drain_timeout.get(),
        ..ProxySettings::new(edge.listen)
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn until(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
