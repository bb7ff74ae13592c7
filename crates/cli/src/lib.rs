//! The `rollgate` command line: parses arguments, sets up logging and runs one subcommand.
//! Everything user-facing (messages, exit codes) is decided here; the work is done by the
//! library crates. Each subcommand lives in its own file under `commands/`.

mod client;
mod commands;
mod exit;
mod logging;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::Exit;

/// Rollgate: progressive delivery. Routes a growing share of users to a canary version,
/// measures both versions live, and ramps up, holds or rolls back by itself.
#[derive(Debug, Parser)]
#[command(
    name = "rollgate",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Log filter (`info`, `debug`, `rollgate_edge=trace`, …); also read from `RUST_LOG`.
    #[arg(long, global = true, env = "ROLLGATE_LOG", default_value = "info")]
    pub log: String,

    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a configuration file and list every error with its path.
    Validate(commands::validate::Args),
    /// Show which version and cohort a unit gets, and why.
    Assign(commands::assign::Args),
    /// Run the edge proxy alone: route HTTP traffic between versions by a configuration file.
    Edge(commands::edge::Args),
    /// Run the edge, the control plane and the API in one process (embedded store).
    Serve(commands::serve::Args),
    /// Run the control plane and its API only; edges run elsewhere.
    Control(commands::control::Command),
    /// List, watch and steer rollouts through the API.
    Rollout(commands::rollout::Args),
    /// List, register and restore version snapshots through the API.
    Version(commands::version::Args),
    /// Look at A/B experiments through the API.
    Experiment(commands::experiment::Args),
    /// Create, list and revoke API tokens (through the API, or offline on the store).
    Token(commands::token::Args),
    /// Judge a metrics file offline (exit 0 pass, 1 fail, 3 inconclusive).
    Analyze(commands::analyze::Args),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(commands::completions::Args),
    /// Run a whole canary rollout against demo backends, with a live view and a summary.
    Demo(commands::demo::Args),
}

/// Runs the command line with the process arguments and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo draws its own screen: the control plane's info lines would scroll through it.
    let log = match cli.command {
        Command::Demo(_) if cli.log == "info" => "warn",
        _ => cli.log.as_str(),
    };
    logging::init(log);
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Assign(args) => commands::assign::run(args),
        Command::Edge(args) => commands::edge::run(args),
        Command::Rollout(args) => commands::rollout::run(args),
        Command::Version(args) => commands::version::run(args),
        Command::Experiment(args) => commands::experiment::run(args),
        Command::Token(args) => commands::token::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        Command::Completions(args) => commands::completions::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Control(args) => commands::control::run_command(args),
        Command::Demo(args) => commands::demo::run(args),
    };
    exit::report(result)
}
