//! The parts a Rollgate process is assembled from, each built from the configuration.

use std::path::Path;
use std::sync::Arc;

use rollgate_config::{Config, EdgeSettings, ProviderSpec};
use rollgate_control::{
    Builtin, ControlOptions, ControlPlane, MetricProvider, Notifier, Silent, Webhooks,
};
use rollgate_edge::{ProxySettings, TlsFiles};
use rollgate_server::ServerOptions;
use rollgate_store::{SqliteStore, Store};

use crate::StackError;

/// The store file inside the data directory.
pub const STORE_FILE: &str = "rollgate.db";

/// Most telemetry series an edge's `/metrics` exposes.
pub const MAX_EXPOSED_SERIES: usize = 10_000;

/// Opens (creating it and its directory if needed) the SQLite store in `data_dir`.
pub fn open_store(data_dir: &Path) -> Result<Arc<dyn Store>, StackError> {
    let path = data_dir.join(STORE_FILE);
    let fail = |reason: String| StackError::Store {
        path: path.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(data_dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", data_dir.display())))?;
    let store = SqliteStore::open(&path).map_err(|e| fail(e.to_string()))?;
    Ok(Arc::new(store))
}

/// The webhooks of `[[notifications]]`, or nobody.
pub fn notifier(config: &Config) -> Result<Arc<dyn Notifier>, StackError> {
    if config.notifications.is_empty() {
        return Ok(Arc::new(Silent));
    }
    let hooks = Webhooks::start(&config.notifications)
        .map_err(|e| StackError::Config(format!("notifications: {e}")))?;
    Ok(Arc::new(hooks))
}

/// The metric provider `[control] provider` names.
pub fn provider(
    config: &Config,
    opts: &ControlOptions,
) -> Result<Arc<dyn MetricProvider>, StackError> {
    Ok(match &config.control.provider {
        ProviderSpec::Builtin => Arc::new(Builtin::new(opts.windows.clone(), opts.catalog.clone())),
        ProviderSpec::Prometheus(spec) => Arc::new(
            rollgate_prometheus::PrometheusProvider::new(spec, opts.catalog.clone())
                .map_err(|e| StackError::Config(e.to_string()))?,
        ),
    })
}

/// Everything the control plane serves on its listener: the REST API, OFREP, event ingest and
/// the dashboard.
pub fn app(plane: ControlPlane, opts: ServerOptions) -> axum::Router {
    rollgate_server::router(plane.clone(), opts).merge(rollgate_dashboard::router(
        plane,
        rollgate_dashboard::DashboardOptions::default(),
    ))
}

/// The proxy's settings from `[edge]`.
pub fn proxy_settings(edge: &EdgeSettings) -> Result<ProxySettings, StackError> {
    let version_header = match &edge.version_header {
        Some(h) => Some(
            http::HeaderName::from_bytes(h.as_bytes())
                .map_err(|e| StackError::Config(format!("edge.version_header: {h:?}: {e}")))?,
        ),
        None => None,
    };
    Ok(ProxySettings {
        listen: edge.listen,
        admin_listen: edge.admin_listen,
        version_header,
        tls: edge.tls.as_ref().map(|t| TlsFiles {
            cert: t.cert.clone(),
            key: t.key.clone(),
        }),
        drain_timeout: edge.drain_timeout.get(),
        workers: Some(edge.workers.unwrap_or_else(cores)),
    })
}

/// The CPU cores this process may use (1 when unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
