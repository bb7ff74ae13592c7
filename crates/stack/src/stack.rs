//! The whole single-machine stack, started and stopped as one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rollgate_config::Config;
use rollgate_control::{ControlOptions, ControlPlane, InProcess, recorder};
use rollgate_core::{EdgeContext, RoutingTable};
use rollgate_edge::{Edge, Telemetry, close_windows};
use rollgate_metrics::Exposition;
use rollgate_server::ServerOptions;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::StackError;
use crate::parts::{app, notifier, open_store, provider, proxy_settings};

/// Where things go, overriding the configuration file (port 0: any free port).
#[derive(Clone, Debug, Default)]
pub struct StackOptions {
    /// The store's directory instead of `[control] data_dir`.
    pub data_dir: Option<PathBuf>,
    /// Proxy clients here instead of `[edge] listen`.
    pub listen: Option<SocketAddr>,
    /// The edge's admin endpoints here instead of `[edge] admin_listen`.
    pub admin_listen: Option<SocketAddr>,
    /// The API and dashboard here instead of `[control] listen`.
    pub api_listen: Option<SocketAddr>,
    /// Worker threads of the edge instead of `[edge] workers`.
    pub workers: Option<usize>,
    /// Server options (ingest key …) instead of those read from `[control]`.
    pub server: Option<ServerOptions>,
}

/// Rollgate running in this process: edge, control plane, telemetry pump, API and dashboard.
#[derive(Debug)]
pub struct Stack {
    /// The control plane (commands, queries).
    pub plane: ControlPlane,
    /// Where the edge proxy listens.
    pub edge: SocketAddr,
    /// Where the edge's `/metrics`, `/healthz` and `/readyz` are, if anywhere.
    pub admin: Option<SocketAddr>,
    /// Where the API and the dashboard listen.
    pub api: SocketAddr,
    /// The store's directory.
    pub data_dir: PathBuf,
    publisher: Arc<InProcess>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    /// Opens the store, starts the control plane (which seeds the store from `config`, or
    /// resumes what it holds), binds every listener and starts serving. The edge serves the
    /// snapshot built from the store before it accepts the first request.
    pub async fn start(config: &Config, opts: StackOptions) -> Result<Stack, StackError> {
        let data_dir = opts
            .data_dir
            .clone()
            .unwrap_or_else(|| config.control.data_dir.clone());
        let store = open_store(&data_dir)?;
        let context = config
            .edge
            .context()
            .map_err(|e| StackError::Config(e.to_string()))?;
        let mut settings = proxy_settings(&config.edge)?;
        settings.listen = opts.listen.unwrap_or(settings.listen);
        settings.admin_listen = opts.admin_listen.or(settings.admin_listen);
        settings.workers = opts.workers.or(settings.workers);
        let table = RoutingTable::build(&config.routing, &context)
            .map_err(|e| StackError::Config(e.to_string()))?;

        let control = ControlOptions::new(config, context.clone()).with_notifier(notifier(config)?);
        let edge_recorder = Arc::new(recorder(control.window_ms, &control.catalog));
        let exposition = Exposition::new(crate::MAX_EXPOSED_SERIES);
        let telemetry = Telemetry {
            recorder: Arc::clone(&edge_recorder),
            exposition: Some(exposition.clone()),
        };
        let edge = Edge::new(settings, Arc::new(table), telemetry);
        let handle = edge.table_handle();
        let publisher = Arc::new(InProcess::new(handle.clone(), context));
        let control = control.with_breakers(Arc::new(handle));
        let provider = provider(config, &control)?;
        let plane = ControlPlane::start(control, store, publisher.clone(), provider)
            .await
            .map_err(|e| StackError::Control(e.to_string()))?;

        let edge = edge.bind().await.map_err(|e| StackError::Io {
            what: "cannot start the edge".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let api_listen = opts.api_listen.unwrap_or(config.control.listen);
        let api = TcpListener::bind(api_listen)
            .await
            .map_err(|source| StackError::Io {
                what: format!("cannot listen on {api_listen} for the API"),
                source,
            })?;
        let api_addr = api.local_addr().map_err(|source| StackError::Io {
            what: "the API's address".into(),
            source,
        })?;
        let server = match opts.server {
            Some(s) => s,
            None => ServerOptions::from_settings(&config.control)
                .map_err(|e| StackError::Config(e.to_string()))?,
        };
        let (edge_addr, admin) = (edge.local_addr(), edge.admin_addr());
        let (stop, stopped) = watch::channel(false);
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
            let (router, stopped) = (app(plane.clone(), server), stopped.clone());
            async move {
                let served = axum::serve(api, router).with_graceful_shutdown(until(stopped));
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
            data_dir,
            publisher,
            stop,
            tasks,
        })
    }

    /// Gives the edge new edge-local settings (GeoIP database, override key) after a reload.
    pub fn set_edge_context(&self, context: EdgeContext) {
        self.publisher.set_context(context);
    }

    /// A future that resolves once [`Stack::stop`] has been called (for helper tasks).
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        until(self.stop.subscribe())
    }

    /// Stops accepting, drains requests in flight (up to `[edge] drain_timeout`) and waits for
    /// every part to stop.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a part of rollgate failed while stopping");
            }
        }
    }
}

/// Resolves once the flag turns true (or its sender is gone).
async fn until(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
