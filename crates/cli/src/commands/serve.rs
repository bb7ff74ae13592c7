//! `rollgate serve --config FILE`: the edge proxy, the control plane and its API in one process,
//! with the embedded SQLite store at `<data_dir>/rollgate.db`.
//!
//! The edge records every request into a recorder whose windows a pump closes once per window
//! into the edge's `/metrics` and the control plane; the control plane decides and publishes
//! each new routing snapshot straight into the edge. `SIGHUP` or a change of the file applies
//! the configuration again (see `rollgate_control::ControlPlane::reload`); `SIGTERM`/`SIGINT`
//! stop accepting, drain requests in flight and exit 0.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use rollgate_config::Config;
use rollgate_control::{ControlOptions, ControlPlane, InProcess, recorder};
use rollgate_core::RoutingTable;
use rollgate_edge::{Edge, Telemetry, close_windows};
use rollgate_metrics::Exposition;

use crate::Exit;
use crate::commands::control::{
    self, STORE_FILE, bind_api, load, notifier, open_store, provider, reload_loop, serve_api,
    stopped, token_hint, write_ready_file,
};
use crate::commands::edge::{proxy_settings, shutdown_signal};

/// Most telemetry series the edge's `/metrics` exposes.
const MAX_EXPOSED_SERIES: usize = 10_000;

/// Run the edge, the control plane and the API in one process.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration, store, API and ready-file options `rollgate control` takes.
    #[command(flatten)]
    pub control: control::Args,
    /// Proxy clients here instead of `[edge] listen` (port 0: any free port).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve the edge's admin endpoints here instead of `[edge] admin_listen`.
    #[arg(long)]
    pub admin_listen: Option<SocketAddr>,
    /// Worker threads instead of `[edge] workers` (default: one per CPU core).
    #[arg(long)]
    pub workers: Option<usize>,
}

/// Runs everything until `SIGTERM`/`SIGINT`; exit 0 after the drain.
pub fn run(args: Args) -> Result<Exit> {
    let config = load(&args.control.config)?;
    let workers = args.workers.or(config.edge.workers);
    control::runtime(workers, "rollgate")?.block_on(serve(args, config))?;
    Ok(Exit::Success)
}

async fn serve(args: Args, config: Config) -> Result<()> {
    let data_dir = args
        .control
        .data_dir
        .clone()
        .unwrap_or_else(|| config.control.data_dir.clone());
    let store = open_store(&data_dir)?;
    let context = config.edge.context()?;

    // The edge starts with the file's table; the control plane replaces it with the one built
    // from the store before the first request is accepted.
    let mut settings = proxy_settings(&config.edge)?;
    settings.listen = args.listen.unwrap_or(settings.listen);
    settings.admin_listen = args.admin_listen.or(settings.admin_listen);
    let table = RoutingTable::build(&config.routing, &context).map_err(|e| anyhow!("{e}"))?;
    let opts = ControlOptions::new(&config, context.clone()).with_notifier(notifier(&config)?);
    let edge_recorder = Arc::new(recorder(opts.window_ms, &opts.catalog));
    let exposition = Exposition::new(MAX_EXPOSED_SERIES);
    let telemetry = Telemetry {
        recorder: Arc::clone(&edge_recorder),
        exposition: Some(exposition.clone()),
    };
    let edge = Edge::new(settings, Arc::new(table), telemetry);
    let handle = edge.table_handle();
    let publisher = Arc::new(InProcess::new(handle.clone(), context));
    let opts = opts.with_breakers(Arc::new(handle));
    let provider = provider(&config, &opts)?;
    let plane = ControlPlane::start(opts, store, publisher.clone(), provider)
        .await
        .map_err(|e| anyhow!("{e}"))?;

    let edge = edge.bind().await?;
    let api = bind_api(args.control.api_listen.unwrap_or(config.control.listen)).await?;
    let (edge_addr, api_addr) = (edge.local_addr(), api.local_addr()?);
    let admin = edge.admin_addr();
    println!("rollgate serve: edge http://{edge_addr}, API and dashboard http://{api_addr}");
    println!(
        "  admin {}, store {}",
        admin.map_or_else(|| "off".to_string(), |a| format!("http://{a}")),
        data_dir.join(STORE_FILE).display()
    );
    token_hint(&plane, &data_dir).await;
    let mut ready = vec![("edge", edge_addr), ("api", api_addr)];
    ready.extend(admin.map(|a| ("admin", a)));
    write_ready_file(args.control.ready_file.as_deref(), &ready)?;

    let stop = shutdown_signal();
    let pump = tokio::spawn({
        let plane = plane.clone();
        close_windows(
            edge_recorder,
            exposition,
            move |w| {
                plane.ingest_windows(vec![w.clone()]);
            },
            stopped(stop.clone()),
        )
    });
    let decide = tokio::spawn({
        let plane = plane.clone();
        let stop = stop.clone();
        async move { plane.run(stopped(stop)).await }
    });
    let on_context: Arc<dyn Fn(rollgate_core::EdgeContext) + Send + Sync> =
        Arc::new(move |c| publisher.set_context(c));
    let reloads = tokio::spawn(reload_loop(
        plane.clone(),
        args.control.config.clone(),
        Some(on_context),
        stopped(stop.clone()),
    ));
    let api_task = tokio::spawn({
        let (plane, config, stop) = (plane.clone(), config.clone(), stop.clone());
        async move { serve_api(api, plane, &config, stopped(stop)).await }
    });
    edge.run(stopped(stop)).await;
    for task in [pump, decide, reloads] {
        let _ = task.await;
    }
    match api_task.await {
        Ok(result) => result?,
        Err(e) => tracing::error!(error = %e, "the API task failed"),
    }
    tracing::info!("rollgate stopped");
    Ok(())
}
