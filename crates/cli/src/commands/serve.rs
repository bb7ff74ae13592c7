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

use anyhow::Result;
use rollgate_config::Config;
use rollgate_stack::{STORE_FILE, Stack, StackOptions};

use crate::Exit;
use crate::commands::control::{self, load, reload_loop, stopped, token_hint, write_ready_file};
use crate::commands::edge::shutdown_signal;

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
    let opts = StackOptions {
        data_dir: args.control.data_dir.clone(),
        listen: args.listen,
        admin_listen: args.admin_listen,
        api_listen: args.control.api_listen,
        workers: args.workers,
        server: None,
    };
    let stack = Stack::start(&config, opts).await?;
    println!(
        "rollgate serve: edge http://{}, API and dashboard http://{}",
        stack.edge, stack.api
    );
    println!(
        "  admin {}, store {}",
        stack
            .admin
            .map_or_else(|| "off".to_string(), |a| format!("http://{a}")),
        stack.data_dir.join(STORE_FILE).display()
    );
    token_hint(&stack.plane, &stack.data_dir).await;
    let mut ready = vec![("edge", stack.edge), ("api", stack.api)];
    ready.extend(stack.admin.map(|a| ("admin", a)));
    write_ready_file(args.control.ready_file.as_deref(), &ready)?;

    let stop = shutdown_signal();
    let stack = Arc::new(stack);
    let on_context: Arc<dyn Fn(rollgate_core::EdgeContext) + Send + Sync> = {
        let stack = Arc::clone(&stack);
        Arc::new(move |c| stack.set_edge_context(c))
    };
    let reloads = tokio::spawn(reload_loop(
        stack.plane.clone(),
        args.control.config.clone(),
        Some(on_context),
        stopped(stop.clone()),
    ));
    stopped(stop).await;
    let _ = reloads.await;
    match Arc::try_unwrap(stack) {
        Ok(stack) => stack.stop().await,
        Err(_) => tracing::error!("cannot drain: the stack is still shared"),
    }
    tracing::info!("rollgate stopped");
    Ok(())
}
