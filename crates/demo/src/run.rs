//! One demo run from start to summary: the backends, the generated configuration, Rollgate in
//! this process, the users; then the live view until the control plane has promoted or rolled
//! back the canary (or the time is up, or Ctrl-C); then the summary, and with `keep_running`
//! everything stays up until Ctrl-C.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use rollgate_core::model::DecisionRecord;
use tokio::sync::watch;

use crate::backend::Backend;
use crate::behaviour::Behaviour;
use crate::error::DemoError;
use crate::events::EventQueue;
use crate::options::DemoOptions;
use crate::plan::{self, CANARY, PlanInput, ROLLOUT, SERVICE, STABLE, UNIT_HEADER, WEIGHTS};
use crate::stack::Stack;
use crate::status::Reader;
use crate::summary::Summary;
use crate::traffic::{self, Traffic};
use crate::users::{POOL_SIZE, Users};
use crate::view::View;

/// Seconds between two status lines in plain output.
const PLAIN_EVERY_S: u64 = 5;
/// Name of the generated configuration in the run's directory.
pub const CONFIG_FILE: &str = "rollgate.toml";

/// Runs the demo, printing to standard output, and returns how the rollout ended.
pub async fn run(opts: DemoOptions) -> Result<Summary, DemoError> {
    opts.validate()?;
    let dir = tempfile::Builder::new()
        .prefix("rollgate-demo-")
        .tempdir()
        .map_err(DemoError::io("cannot create a temporary directory"))?;
    let stable = Backend::start(Behaviour::healthy(STABLE), opts.seed)
        .await
        .map_err(DemoError::io("cannot start the stable backend"))?;
    let canary = Backend::start(Behaviour::canary(CANARY, &opts), opts.seed.wrapping_add(1))
        .await
        .map_err(DemoError::io("cannot start the canary backend"))?;
    let input = PlanInput {
        stable: stable.addr(),
        canary: canary.addr(),
        edge_port: opts.edge_port,
        api_port: opts.api_port,
        data_dir: dir.path(),
        step_duration: opts.step_duration,
    };
    let (text, config) = plan::config(&input)?;
    let config_path = dir.path().join(CONFIG_FILE);
    std::fs::write(&config_path, text).map_err(DemoError::io("cannot write the configuration"))?;
    let stack = Stack::start(&config, dir.path()).await?;

    let client = traffic::client(opts.rps)?;
    let events_url = format!("http://{}/v1/events", stack.api);
    let (queue, sender) = EventQueue::new(client.clone(), events_url);
    let events = tokio::spawn(sender.run());
    let (stop, stopped) = watch::channel(false);
    let users = Users::new(POOL_SIZE, opts.seed);
    let traffic = Traffic::start(
        stack.edge,
        client,
        users,
        opts.rps,
        queue.clone(),
        opts.seed,
        stopped,
    );

    let header = header(&opts, &stack, &canary, &config_path);
    let result = follow(&opts, &stack, &traffic, &queue, header).await;
    if let Ok(summary) = &result {
        println!("\n{summary}");
        if opts.keep_running {
            keep_running(&stack).await;
        }
    }
    let _ = stop.send(true);
    traffic.join().await;
    drop(queue);
    let _ = events.await;
    stack.stop().await;
    drop((stable, canary));
    result
}

/// Shows the rollout until it ends, the time is up or Ctrl-C.
async fn follow(
    opts: &DemoOptions,
    stack: &Stack,
    traffic: &Traffic,
    queue: &EventQueue,
    header: Vec<String>,
) -> Result<Summary, DemoError> {
    let tty = std::io::stdout().is_terminal();
    let width = terminal_width();
    let started = stack.plane.now();
    let mut view = View::new(tty, width, started, header.clone());
    if !tty {
        print_lines(&header);
    }
    let mut reader = Reader::new();
    let mut log: Vec<DecisionRecord> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let begun = std::time::Instant::now();
    let mut second: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut ctrl_c => return Err(DemoError::Interrupted),
        }
        let new = reader.new_decisions(&stack.plane).await?;
        let status = reader.status(&stack.plane).await?;
        let lines: Vec<String> = new.iter().map(|d| view.decision(d)).collect();
        log.extend(new);
        if tty {
            print!("{}", view.frame(&status));
        } else {
            print_lines(&lines);
            if second.is_multiple_of(PLAIN_EVERY_S) || status.phase.is_terminal() {
                print_lines(&[view.line(&status)]);
            }
        }
        let _ = std::io::stdout().flush();
        let counts = traffic.counts();
        let described = format!("{}; {}", counts.describe(), queue.counts().describe());
        if let Some(summary) = Summary::of(&log, counts.first_canary(), described) {
            return Ok(summary);
        }
        if begun.elapsed() >= opts.timeout {
            return Err(DemoError::Timeout {
                timeout_s: opts.timeout.as_secs(),
                phase: status.phase.to_string(),
                weight: status.weight.to_string(),
            });
        }
        second += 1;
    }
}

/// The lines at the top: what runs where, and how to look at it.
fn header(opts: &DemoOptions, stack: &Stack, canary: &Backend, config: &Path) -> Vec<String> {
    let b = canary.behaviour();
    let stable = Behaviour::healthy(STABLE);
    let steps: Vec<String> = WEIGHTS.iter().map(|w| format!("{w}%")).collect();
    let describe = |b: &Behaviour| {
        format!(
            "{:.1}% errors, +{}ms, {:.1}% conversion",
            b.error_rate * 100.0,
            b.extra_latency.as_millis(),
            b.conversion_rate() * 100.0
        )
    };
    let health = if opts.healthy() { "healthy" } else { "faulty" };
    let mut lines = vec![
        format!(
            "rollgate demo: rollout {ROLLOUT} moves {SERVICE} from {STABLE} to {CANARY}; {POOL_SIZE} users, {} requests/s",
            opts.rps
        ),
        format!("  canary     {CANARY} ({health}): {}", describe(b)),
        format!("  stable     {STABLE}: {}", describe(&stable)),
        format!(
            "  steps      {}, at least {}s each",
            steps.join(" → "),
            opts.step_duration.as_secs_f64()
        ),
        format!(
            "  edge       http://{}/   (try: curl -i -H '{UNIT_HEADER}: u-1' http://{}/)",
            stack.edge, stack.edge
        ),
        format!(
            "  dashboard  http://{}/   API http://{}/api/v1/rollouts/{ROLLOUT}",
            stack.api, stack.api
        ),
        format!("  token      {}   (operator)", stack.token),
        format!(
            "  cli        ROLLGATE_SERVER=http://{} ROLLGATE_TOKEN=<token> rollgate rollout status {ROLLOUT}",
            stack.api
        ),
    ];
    if let Some(admin) = stack.admin {
        lines.push(format!("  metrics    http://{admin}/metrics"));
    }
    lines.push(format!("  config     {}", config.display()));
    lines
}

async fn keep_running(stack: &Stack) {
    println!(
        "\n--keep-running: the edge (http://{}/), the API and dashboard (http://{}/) and the users \
         keep running; Ctrl-C to stop.",
        stack.edge, stack.api
    );
    let _ = tokio::signal::ctrl_c().await;
}

fn print_lines(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
}

/// The terminal's width in columns (100 when it cannot be told).
fn terminal_width() -> usize {
    crossterm::terminal::size().map_or(100, |(w, _)| usize::from(w))
}
