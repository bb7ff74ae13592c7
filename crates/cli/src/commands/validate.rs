//! `rollgate validate FILE`: check a configuration and list every problem with its path.

use std::path::PathBuf;

use anyhow::Result;
use rollgate_config::{Config, ConfigError};

use crate::Exit;
use crate::output::OutputFormat;

/// Check a configuration file without running anything.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (TOML).
    pub file: PathBuf,
    /// `text` for people, `json` for scripts.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Prints "ok" with a summary (exit 0), or every problem (exit 1).
pub fn run(args: Args) -> Result<Exit> {
    match rollgate_config::load(&args.file) {
        Ok(config) => {
            match args.output {
                OutputFormat::Text => println!("ok: {}", summary(&config)),
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::json!({ "ok": true, "summary": summary(&config) })
                ),
            }
            Ok(Exit::Success)
        }
        Err(ConfigError::Read { path, source }) => {
            Err(anyhow::anyhow!("cannot read {}: {source}", path.display()))
        }
        Err(err) => {
            match args.output {
                OutputFormat::Text => eprint!("{}", with_newline(err.to_string())),
                OutputFormat::Json => println!("{}", problems_json(&err)),
            }
            Ok(Exit::Failure)
        }
    }
}

/// One line describing what a valid file declares.
fn summary(c: &Config) -> String {
    let versions: usize = c.routing.services.iter().map(|s| s.versions.len()).sum();
    let conditions: usize = c
        .rollouts
        .iter()
        .map(|r| r.config.analysis.conditions.len())
        .sum();
    format!(
        "{} — {}, {}, {}, {}, {}",
        c.origin,
        plural(c.routing.services.len(), "service"),
        plural(versions, "version"),
        plural(c.rollouts.len(), "rollout"),
        plural(conditions, "condition"),
        plural(c.routing.experiments.len(), "experiment"),
    )
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn problems_json(err: &ConfigError) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = match err {
        ConfigError::Invalid { errors, .. } => errors
            .iter()
            .map(|e| serde_json::json!({ "path": e.path, "message": e.message }))
            .collect(),
        other => vec![serde_json::json!({ "path": "", "message": other.to_string() })],
    };
    serde_json::json!({ "ok": false, "problems": problems })
}
