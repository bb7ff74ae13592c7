//! `rollgate demo`: the whole canary cycle in one process — two demo backends, the edge, the
//! control plane and its API on an embedded store in a temporary directory, and a load
//! generator of realistic users — with a live view, ending in a summary. Exit 0 when the
//! rollout finished (promoted or rolled back), 2 when it could not run or did not finish in
//! `--timeout`.

use std::time::Duration;

use anyhow::{Context, Result};
use rollgate_core::{DurationSpec, Ppm};
use rollgate_demo::{Delta, DemoOptions, parse_share};

use crate::Exit;

/// Run a complete canary rollout against demo backends, with a live view and a summary.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Share of the canary's requests that fail with a 500, e.g. `10%` (default: as often as
    /// stable, 0.1%).
    #[arg(long, value_parser = parse_share)]
    pub canary_error_rate: Option<Ppm>,
    /// Latency the canary adds to every answer, e.g. `150ms`.
    #[arg(long, default_value = "0ms")]
    pub canary_latency: DurationSpec,
    /// Change of the canary's conversion rate in percentage points, e.g. `-3%` (stable
    /// converts 4% of page views).
    #[arg(long, default_value = "0%", allow_hyphen_values = true)]
    pub canary_conversion: Delta,
    /// Requests per second the users send through the edge, both versions together.
    #[arg(long, default_value_t = 300)]
    pub rps: u32,
    /// Minimum time the rollout holds each step (a step also waits for enough data).
    #[arg(long, default_value = "15s")]
    pub step_duration: DurationSpec,
    /// Keep everything (backends, edge, API, users) running after the summary, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// Seed of every random choice: the same seed plays the same users.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Give up (exit 2) when the rollout has not finished after this long.
    #[arg(long, default_value = "10m")]
    pub timeout: DurationSpec,
    /// Port of the edge proxy on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub edge_port: u16,
    /// Port of the API and dashboard on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
}

/// Runs the demo; exit 0 once the rollout is promoted or rolled back.
pub fn run(args: Args) -> Result<Exit> {
    let opts = options(args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rollgate-demo")
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(rollgate_demo::run(opts))?;
    // The runtime may hold idle keep-alive connections; do not wait for them.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(Exit::Success)
}

fn options(args: Args) -> DemoOptions {
    DemoOptions {
        canary_error_rate: args.canary_error_rate,
        canary_latency: args.canary_latency.get(),
        canary_conversion: args.canary_conversion,
        rps: args.rps,
        step_duration: args.step_duration.get(),
        keep_running: args.keep_running,
        seed: args.seed,
        timeout: args.timeout.get(),
        edge_port: args.edge_port,
        api_port: args.api_port,
    }
}
