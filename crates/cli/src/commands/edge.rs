//! `rollgate edge --config FILE`: run the edge proxy alone, routing by the file's services,
//! rollouts (at the weights it declares) and experiments. `SIGHUP` or a change of the file
//! reloads the routing; `SIGTERM` or `SIGINT` stops accepting, drains and exits 0.
//!
//! With `--etcd URLS --edge-id ID` the edge runs in distributed mode instead: it routes by the
//! snapshot the leader publishes in etcd ([`super::distributed::edge`]).
//!
//! The helpers here (`proxy_settings`, `loader`, `shutdown_signal`) are also what
//! `rollgate serve` embeds the edge with.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use rollgate_config::EdgeSettings;
use rollgate_core::RoutingTable;
use rollgate_edge::{BoundEdge, Edge, Loader, ProxySettings, Reloader, Telemetry, close_windows};
use rollgate_metrics::{Exposition, Recorder, RecorderConfig};
use tokio::sync::watch;

use crate::Exit;
use crate::commands::distributed;
use crate::commands::distributed::edge::EdgeCluster;

/// Most telemetry series `/metrics` exposes.
const MAX_EXPOSED_SERIES: usize = 10_000;

/// Run the edge proxy: route HTTP traffic between versions by the configuration file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (TOML). Optional with `--etcd`, where only its `[edge]` table
    /// and `[control] window` are used.
    #[arg(long, short, required_unless_present = "etcd")]
    pub config: Option<PathBuf>,
    /// Listen here instead of `[edge] listen`.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve the admin endpoints here instead of `[edge] admin_listen`.
    #[arg(long)]
    pub admin_listen: Option<SocketAddr>,
    /// Worker threads serving clients instead of `[edge] workers` (default: one per CPU core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Distributed mode: follow the routing snapshot in etcd.
    #[command(flatten)]
    pub cluster: EdgeCluster,
}

/// Runs the edge until `SIGTERM`/`SIGINT`; exit 0 after the drain.
pub fn run(args: Args) -> Result<Exit> {
    let config = match &args.config {
        Some(path) => rollgate_config::load(path),
        None => rollgate_config::parse("", "(no --config)"),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Clients are served on the edge's own worker threads (one per core by default, see
    // `proxy_settings`); this runtime only runs the admin endpoints, health checks, reloads
    // and telemetry windows.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(serve(args, config))?;
    Ok(Exit::Success)
}

async fn serve(args: Args, config: rollgate_config::Config) -> Result<()> {
    let mut settings = proxy_settings(&config.edge)?;
    settings.listen = args.listen.unwrap_or(settings.listen);
    settings.admin_listen = args.admin_listen.or(settings.admin_listen);
    settings.workers = args.workers.map(|n| n.max(1)).or(settings.workers);
    if let Some(etcd) = args.cluster.cluster.connect()? {
        let setup = distributed::edge::Setup {
            etcd,
            config,
            settings,
        };
        return distributed::edge::serve(&args.cluster, setup).await;
    }
    let Some(path) = args.config else {
        anyhow::bail!("--config is required without --etcd");
    };
    let table = build_table(&config)?;
    let (edge, recorder, exposition) = bind(settings, table, RecorderConfig::default()).await?;

    let stop = shutdown_signal();
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let reloader = Reloader::new(edge.table_handle(), loader(&path), vec![path.clone()]);
    let reloads = tokio::spawn(reloader.run(stopped(stop.clone())));
    let windows = tokio::spawn(close_windows(
        recorder,
        exposition,
        |_| {},
        stopped(stop.clone()),
    ));
    edge.run(stopped(stop)).await;
    let _ = reloads.await;
    let _ = windows.await;
    tracing::info!("edge stopped");
    Ok(())
}

/// Binds an edge serving `table` that records into a fresh recorder (cut into windows by
/// `recording`) with its `/metrics` totals, and prints where it listens — the first line of
/// output, which scripts and the end-to-end tests read.
pub async fn bind(
    settings: ProxySettings,
    table: Arc<RoutingTable>,
    recording: RecorderConfig,
) -> Result<(BoundEdge, Arc<Recorder>, Exposition)> {
    let recorder = Arc::new(Recorder::new(recording, []));
    let exposition = Exposition::new(MAX_EXPOSED_SERIES);
    let telemetry = Telemetry {
        recorder: Arc::clone(&recorder),
        exposition: Some(exposition.clone()),
    };
    let edge = Edge::new(settings, table, telemetry).bind().await?;
    let admin = edge
        .admin_addr()
        .map_or_else(|| "off".to_string(), |a| format!("http://{a}"));
    println!(
        "rollgate edge: listening on {} (admin {admin})",
        edge.local_addr()
    );
    Ok((edge, recorder, exposition))
}

/// The proxy's settings from `[edge]` (one place for `edge`, `serve` and the demo).
pub fn proxy_settings(edge: &EdgeSettings) -> Result<ProxySettings> {
    Ok(rollgate_stack::proxy_settings(edge)?)
}

fn build_table(config: &rollgate_config::Config) -> Result<Arc<RoutingTable>> {
    let ctx = config.edge.context()?;
    let table = RoutingTable::build(&config.routing, &ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Arc::new(table))
}

/// Loads `path` again and builds its routing table, listing every problem on failure. Changes
/// to `[edge]` other than `geo` and `overrides` need a restart.
pub fn loader(path: &Path) -> Arc<Loader> {
    let path = path.to_path_buf();
    Arc::new(move || {
        let config = rollgate_config::load(&path).map_err(|e| lines(&e.to_string()))?;
        build_table(&config).map_err(|e| lines(&format!("{e:#}")))
    })
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// A flag that turns true on the first `SIGTERM` or `SIGINT`.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (term, int) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = int.recv() => tracing::info!("SIGINT received"),
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM/SIGINT; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        let _ = tx.send(true);
    });
    rx
}
