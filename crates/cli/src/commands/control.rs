//! `rollgate control --config FILE`: the control plane and its API alone, on its SQLite store.
//! Snapshots are published nowhere: edges elsewhere keep routing by their own configuration.
//! With `--etcd URLS` it is one replica of a distributed control plane instead: shared store,
//! leader election, snapshots published to etcd ([`super::distributed::control`]).
//!
//! The helpers here (opening the store, picking the metric provider, serving the API, the
//! ready file, the token hint, the reload loop) are shared with `rollgate serve`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use rollgate_config::Config;
use rollgate_control::{ControlOptions, ControlPlane, Disabled, MetricProvider, Notifier};
use rollgate_server::ServerOptions;
use rollgate_store::{Role, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::Exit;
use crate::commands::distributed;
use crate::commands::distributed::control::ControlCluster;
use crate::commands::edge::shutdown_signal;

pub use rollgate_stack::{STORE_FILE, app};

/// Opens the SQLite store in `data_dir`, creating it if needed.
pub fn open_store(data_dir: &Path) -> Result<Arc<dyn Store>> {
    Ok(rollgate_stack::open_store(data_dir)?)
}

/// The webhooks of `[[notifications]]`, or nobody.
pub fn notifier(config: &Config) -> Result<Arc<dyn Notifier>> {
    Ok(rollgate_stack::notifier(config)?)
}

/// The metric provider `[control] provider` names.
pub fn provider(config: &Config, opts: &ControlOptions) -> Result<Arc<dyn MetricProvider>> {
    Ok(rollgate_stack::provider(config, opts)?)
}

/// Run the control plane and its API only (edges run elsewhere).
#[derive(Debug, clap::Args)]
#[group(id = "control_options")]
pub struct Args {
    /// The configuration file (TOML).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Keep the store here instead of `[control] data_dir`.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Serve the API here instead of `[control] listen` (port 0: any free port).
    #[arg(long)]
    pub api_listen: Option<SocketAddr>,
    /// Once everything listens, write the bound addresses to this file as JSON:
    /// `{"api": ADDR}`, plus `"edge"` and `"admin"` for `serve` (port 0 works; for scripts
    /// and tests).
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
}

/// `rollgate control`: [`Args`] and the distributed-mode options.
#[derive(Debug, clap::Args)]
pub struct Command {
    /// The options `rollgate serve` shares.
    #[command(flatten)]
    pub args: Args,
    /// Distributed mode.
    #[command(flatten)]
    pub cluster: ControlCluster,
}

/// Runs `rollgate control`, stand-alone or as a replica (`--etcd`).
pub fn run_command(command: Command) -> Result<Exit> {
    let Some(etcd) = command.cluster.cluster.connect()? else {
        return run(command.args);
    };
    let args = command.args;
    let config = load(&args.config)?;
    let listen = args.api_listen.unwrap_or(config.control.listen);
    let replica = distributed::control::serve(
        &command.cluster,
        etcd,
        config,
        args.config,
        listen,
        args.ready_file,
    );
    runtime(None, "rollgate-control")?.block_on(replica)?;
    Ok(Exit::Success)
}

/// Runs the control plane until `SIGTERM`/`SIGINT`.
pub fn run(args: Args) -> Result<Exit> {
    let config = load(&args.config)?;
    runtime(None, "rollgate-control")?.block_on(serve(args, config))?;
    Ok(Exit::Success)
}

/// A multi-threaded runtime with `workers` threads (default: one per CPU core).
pub fn runtime(workers: Option<usize>, name: &str) -> Result<tokio::runtime::Runtime> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        runtime.worker_threads(n.max(1));
    }
    runtime
        .enable_all()
        .thread_name(name)
        .build()
        .context("cannot start the runtime")
}

async fn serve(args: Args, config: Config) -> Result<()> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| config.control.data_dir.clone());
    let store = open_store(&data_dir)?;
    let opts =
        ControlOptions::new(&config, config.edge.context()?).with_notifier(notifier(&config)?);
    let provider = provider(&config, &opts)?;
    let plane = ControlPlane::start(opts, store, Arc::new(Disabled), provider)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let listen = args.api_listen.unwrap_or(config.control.listen);
    let api = bind_api(listen).await?;
    let api_addr = api.local_addr()?;
    println!(
        "rollgate control: API on http://{api_addr}, store {}",
        data_dir.join(STORE_FILE).display()
    );
    println!(
        "  routing snapshots are not published (edges elsewhere keep their configuration until the etcd publisher)"
    );
    token_hint(&plane, &data_dir).await;
    write_ready_file(args.ready_file.as_deref(), &[("api", api_addr)])?;

    let stop = shutdown_signal();
    let loop_task = tokio::spawn({
        let plane = plane.clone();
        let stop = stop.clone();
        async move { plane.run(stopped(stop)).await }
    });
    let reloads = tokio::spawn(reload_loop(
        plane.clone(),
        args.config.clone(),
        None,
        stopped(stop.clone()),
    ));
    serve_api(api, plane, &config, stopped(stop)).await?;
    let _ = loop_task.await;
    let _ = reloads.await;
    tracing::info!("control plane stopped");
    Ok(())
}

/// Reads and validates the configuration, every error on its own line.
pub fn load(path: &Path) -> Result<Config> {
    rollgate_config::load(path).map_err(|e| anyhow!("{e}"))
}

/// Binds the API listener.
pub async fn bind_api(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for the API (is another process using the port?)")
    })
}

/// Serves the REST API, OFREP, event ingest and the dashboard until `shutdown` resolves.
pub async fn serve_api(
    listener: TcpListener,
    plane: ControlPlane,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let opts = ServerOptions::from_settings(&config.control).map_err(|e| anyhow!("{e}"))?;
    axum::serve(listener, app(plane, opts))
        .with_graceful_shutdown(shutdown)
        .await
        .context("the API server failed")
}

/// Prints how to create the first admin token when the store has none. Never prints a secret.
pub async fn token_hint(plane: &ControlPlane, data_dir: &Path) {
    match plane.store().list_tokens().await {
        Ok(tokens)
            if tokens
                .iter()
                .any(|t| t.role == Role::Admin && t.revoked_at.is_none()) => {}
        Ok(_) => println!(
            "  no admin token yet: create one with `rollgate token create --role admin --data-dir {}`",
            data_dir.display()
        ),
        Err(e) => tracing::warn!(error = %e, "cannot list tokens"),
    }
}

/// Writes `{"name": "addr", …}` to `path` (through a temporary file and a rename, so a reader
/// never sees half of it).
pub fn write_ready_file(path: Option<&Path>, addrs: &[(&str, SocketAddr)]) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let doc: serde_json::Map<String, serde_json::Value> = addrs
        .iter()
        .map(|(k, a)| ((*k).to_string(), serde_json::Value::String(a.to_string())))
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&doc)?)
        .with_context(|| format!("cannot write the ready file {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot write the ready file {}", path.display()))?;
    Ok(())
}

/// Resolves when the flag turns true.
pub async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Applies the configuration again on `SIGHUP` or when the file changes (checked once a
/// second), through [`ControlPlane::reload`]; `on_context` also receives the new edge-local
/// settings (the in-process edge of `rollgate serve`). A broken file is reported and changes
/// nothing.
pub async fn reload_loop(
    plane: ControlPlane,
    path: PathBuf,
    on_context: Option<Arc<dyn Fn(rollgate_core::EdgeContext) + Send + Sync>>,
    shutdown: impl Future<Output = ()>,
) {
    let files = [path.clone()];
    rollgate_edge::watch_files(&files, rollgate_edge::POLL_INTERVAL, shutdown, |why| {
        apply(&plane, &path, on_context.as_deref(), why)
    })
    .await;
}

/// Loads the file and applies it; a broken file is reported and changes nothing.
async fn apply(
    plane: &ControlPlane,
    path: &Path,
    on_context: Option<&(dyn Fn(rollgate_core::EdgeContext) + Send + Sync)>,
    why: &str,
) {
    match load(path).and_then(|c| Ok((c.edge.context()?, c))) {
        Ok((context, config)) => {
            if let Some(f) = on_context {
                f(context.clone());
            }
            match plane.reload(&config, context).await {
                Ok(report) => tracing::info!(trigger = why, ?report, "configuration applied"),
                Err(e) => {
                    tracing::error!(trigger = why, error = %e, "configuration not applied")
                }
            }
        }
        Err(e) => {
            tracing::error!(trigger = why, "new configuration rejected; nothing changed");
            for line in format!("{e:#}").lines() {
                tracing::error!("  {line}");
            }
        }
    }
}
