//! `rollgate edge --etcd URLS --edge-id ID`: the edge proxy routing by the snapshot the leader
//! publishes in etcd. It starts from etcd's snapshot, or from its disk copy when etcd does not
//! answer within two seconds; follows every new snapshot; registers under its id; and pushes
//! its closed windows to the leader. The config file is optional: only its `[edge]` table
//! (listeners, geo, overrides, TLS) and `[control] window` are used.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use rollgate_config::Config;
use rollgate_core::{EdgeContext, RoutingSpec, RoutingTable};
use rollgate_edge::ProxySettings;
use rollgate_etcd::{
    ClusterKeys, Etcd, Registration, SnapshotFile, SnapshotWatcher, TelemetryPusher,
};
use rollgate_metrics::{RecorderConfig, WindowConfig};

use crate::commands::control::stopped;
use crate::commands::edge::{bind, shutdown_signal};

/// How long the edge waits for etcd at start before using its disk copy.
const BOOT_WAIT: Duration = Duration::from_secs(2);

/// The distributed-mode options of `rollgate edge`.
#[derive(Clone, Debug, clap::Args)]
pub struct EdgeCluster {
    /// Where etcd is.
    #[command(flatten)]
    pub cluster: super::Cluster,
    /// This edge's name in the registry and in telemetry (`pop-fra-1`); required with --etcd.
    #[arg(long, value_name = "ID", requires = "etcd")]
    pub edge_id: Option<String>,
    /// Keep the last good snapshot here (default: `./rollgate-edge-<edge id>`).
    #[arg(long, value_name = "DIR", requires = "etcd")]
    pub state_dir: Option<PathBuf>,
}

/// Everything the distributed edge runs with.
pub struct Setup {
    /// The cluster client and keys.
    pub etcd: (Etcd, ClusterKeys),
    /// The configuration (`[edge]`, `[control] window`); an empty one without `--config`.
    pub config: Config,
    /// The proxy's settings (with the command line's listen addresses).
    pub settings: ProxySettings,
}

impl EdgeCluster {
    /// The edge id, required in distributed mode.
    fn edge_id(&self) -> Result<&str> {
        self.edge_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| anyhow!("--etcd needs --edge-id NAME (for example --edge-id pop-fra-1)"))
    }
}

/// Runs the edge in distributed mode until `SIGTERM`/`SIGINT`.
pub async fn serve(cluster: &EdgeCluster, setup: Setup) -> Result<()> {
    let edge_id = cluster.edge_id()?.to_owned();
    let (etcd, keys) = setup.etcd;
    let state_dir = cluster
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("rollgate-edge-{edge_id}")));
    let context = setup.config.edge.context()?;
    let watcher = SnapshotWatcher::new(
        etcd.clone(),
        keys.clone(),
        &edge_id,
        context.clone(),
        SnapshotFile::in_dir(&state_dir),
    );
    let table = match watcher.bootstrap(BOOT_WAIT).await {
        Some(t) => t,
        None => empty_table(&context)?,
    };
    let width_ms = u32::try_from(setup.config.control.window.as_millis()).unwrap_or(u32::MAX);
    let recording = RecorderConfig {
        window: WindowConfig {
            width_ms,
            ..WindowConfig::default()
        },
        ..RecorderConfig::default()
    };
    let (edge, recorder, exposition) = bind(setup.settings, table, recording).await?;
    println!(
        "  edge {edge_id} following etcd {} under {}, disk copy in {}",
        etcd.config().endpoints.join(","),
        keys.prefix(),
        state_dir.display()
    );

    let stop = shutdown_signal();
    let status = watcher.status();
    let follow = tokio::spawn(watcher.run(edge.table_handle(), stopped(stop.clone())));
    let register = tokio::spawn(
        Registration::new(etcd.clone(), keys.clone()).run(status, stopped(stop.clone())),
    );
    let ingest_key = std::env::var(&setup.config.control.ingest_key_env).ok();
    let pusher = TelemetryPusher::new(etcd, keys, &edge_id)
        .context("cannot set up the telemetry client")?
        .with_ingest_key(ingest_key);
    let push = tokio::spawn(pusher.run(recorder, Some(exposition), stopped(stop.clone())));
    edge.run(stopped(stop)).await;
    let _ = tokio::join!(follow, register, push);
    tracing::info!("edge stopped");
    Ok(())
}

/// The table of an edge that has no snapshot yet: no service, every request answered 404.
fn empty_table(context: &EdgeContext) -> Result<Arc<RoutingTable>> {
    let table =
        RoutingTable::build(&RoutingSpec::default(), context).map_err(|e| anyhow!("{e}"))?;
    Ok(Arc::new(table))
}
