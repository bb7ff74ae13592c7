//! `rollgate rollout list|status|create|pause|resume|promote|abort|retry|set-weight|history`:
//! rollouts through the API.
//!
//! Exit codes: 0 done; 1 the server refused (bad token, role, name, phase; the reason is
//! printed); 2 the server could not be reached or failed. `status --watch` exits 0 when the
//! rollout ends promoted (or the watch stops by `--watch-count` or Ctrl-C), 1 when it ends
//! rolled back or aborted.

mod status;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use rollgate_core::Ppm;
use rollgate_server::{DecisionPage, RolloutDto, RolloutList, SetWeight};
use serde_json::Value;

use crate::Exit;
use crate::client::{
    Client, Palette, ServerArgs, Style, block_on, duration, print_json, segment, table,
};
use crate::output::OutputFormat;

/// Create, watch and steer rollouts.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: RolloutCommand,
    /// The server, token and output format.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The rollout subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    /// List rollouts, oldest first.
    List {
        /// Only rollouts that are not over.
        #[arg(long)]
        active: bool,
        /// Only rollouts of this service.
        #[arg(long)]
        service: Option<String>,
    },
    /// Show a rollout: phase, weight, per-version error rate, p99 and conversion, the verdict
    /// and the last decisions.
    Status(status::StatusArgs),
    /// Create a rollout from a file holding one `[[rollouts]]` table (TOML or JSON).
    Create {
        /// The spec file: TOML (`[[rollouts]]` or the table's keys at the top) or JSON.
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Hold the weight until resumed.
    Pause {
        /// The rollout.
        name: String,
    },
    /// Resume a paused rollout.
    Resume {
        /// The rollout.
        name: String,
    },
    /// Make the canary the stable version now.
    Promote {
        /// The rollout.
        name: String,
    },
    /// Send all traffic back to stable now.
    Abort {
        /// The rollout.
        name: String,
    },
    /// Start a rolled-back or aborted rollout again from its first step.
    Retry {
        /// The rollout.
        name: String,
    },
    /// Set the canary weight by hand (the rollout pauses at it until resumed).
    SetWeight {
        /// The rollout.
        name: String,
        /// The weight: `25%`, `0.5%`, `2500ppm`.
        weight: Ppm,
    },
    /// The decision log of a rollout, oldest first.
    History {
        /// The rollout.
        name: String,
        /// Show the last N decisions.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: u32,
    },
}

/// Runs the subcommand against the server.
pub fn run(args: Args) -> Result<Exit> {
    let client = Client::new(&args.server)?;
    let output = args.server.output;
    block_on(async move {
        match args.command {
            RolloutCommand::List { active, service } => {
                list(&client, output, active, service).await
            }
            RolloutCommand::Status(s) => status::run(&client, output, s).await,
            RolloutCommand::Create { file } => create(&client, output, &file).await,
            RolloutCommand::Pause { name } => {
                command(&client, output, &name, "pause", Value::Null).await
            }
            RolloutCommand::Resume { name } => {
                command(&client, output, &name, "resume", Value::Null).await
            }
            RolloutCommand::Promote { name } => {
                command(&client, output, &name, "promote", Value::Null).await
            }
            RolloutCommand::Abort { name } => {
                command(&client, output, &name, "abort", Value::Null).await
            }
            RolloutCommand::Retry { name } => {
                command(&client, output, &name, "retry", Value::Null).await
            }
            RolloutCommand::SetWeight { name, weight } => {
                let body = serde_json::to_value(SetWeight { weight })?;
                command(&client, output, &name, "weight", body).await
            }
            RolloutCommand::History { name, limit } => history(&client, output, &name, limit).await,
        }
    })?
}

async fn list(
    client: &Client,
    output: OutputFormat,
    active: bool,
    service: Option<String>,
) -> Result<Exit> {
    let mut path = format!("/api/v1/rollouts?active={active}");
    if let Some(s) = service {
        path += &format!("&service={}", segment(&s));
    }
    let list = match client.get::<RolloutList>(&path).await?.or_refused(output) {
        Ok(l) => l,
        Err(exit) => return Ok(exit),
    };
    if output == OutputFormat::Json {
        print_json(&list)?;
        return Ok(Exit::Success);
    }
    let palette = Palette::detect();
    let mut t = table(
        &[
            "NAME",
            "SERVICE",
            "STABLE → CANARY",
            "PHASE",
            "WEIGHT",
            "STEP",
            "IN PHASE",
        ],
        palette,
    );
    for r in &list.rollouts {
        t.add_row(vec![
            palette.cell(&r.name, Style::Bold),
            palette.cell(&r.service, Style::Plain),
            palette.cell(format!("{} → {}", r.stable, r.canary), Style::Plain),
            palette.cell(r.phase, Palette::phase_style(r.phase.as_str())),
            palette.cell(r.weight, Style::Plain),
            palette.cell(r.step.as_deref().unwrap_or("-"), Style::Dim),
            palette.cell(duration(r.time_in_phase_ms), Style::Dim),
        ]);
    }
    if list.rollouts.is_empty() {
        println!("no rollouts");
    } else {
        println!("{t}");
    }
    Ok(Exit::Success)
}

async fn create(client: &Client, output: OutputFormat, file: &std::path::Path) -> Result<Exit> {
    let spec = read_spec(file)?;
    match client
        .post::<_, RolloutDto>("/api/v1/rollouts", &spec)
        .await?
        .or_refused(output)
    {
        Ok(r) => {
            print_rollout(&r, output, "created")?;
            Ok(Exit::Success)
        }
        Err(exit) => Ok(exit),
    }
}

async fn command(
    client: &Client,
    output: OutputFormat,
    name: &str,
    verb: &str,
    body: Value,
) -> Result<Exit> {
    let path = format!("/api/v1/rollouts/{}/{verb}", segment(name));
    match client
        .post::<_, RolloutDto>(&path, &body)
        .await?
        .or_refused(output)
    {
        Ok(r) => {
            let done = match verb {
                "pause" => "paused",
                "resume" => "resumed",
                "promote" => "promoted",
                "abort" => "aborted",
                "retry" => "restarted",
                _ => "set the weight of",
            };
            print_rollout(&r, output, done)?;
            Ok(Exit::Success)
        }
        Err(exit) => Ok(exit),
    }
}

async fn history(client: &Client, output: OutputFormat, name: &str, limit: u32) -> Result<Exit> {
    let path = format!(
        "/api/v1/decisions?rollout={}&order=desc&limit={}",
        segment(name),
        limit.clamp(1, 1000)
    );
    let mut page = match client.get::<DecisionPage>(&path).await?.or_refused(output) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    page.decisions.reverse();
    if output == OutputFormat::Json {
        print_json(&page)?;
    } else {
        println!(
            "{}",
            status::decisions_table(&page.decisions, Palette::detect())
        );
        if page.total > page.decisions.len() as u64 {
            println!(
                "({} of {} decisions; --limit shows more)",
                page.decisions.len(),
                page.total
            );
        }
    }
    Ok(Exit::Success)
}

fn print_rollout(r: &RolloutDto, output: OutputFormat, done: &str) -> Result<()> {
    match output {
        OutputFormat::Json => print_json(r),
        OutputFormat::Text => {
            let p = Palette::detect();
            println!(
                "{done} {}: {} at {} ({} → {})",
                p.paint(&r.name, Style::Bold),
                p.paint(r.phase.as_str(), Palette::phase_style(r.phase.as_str())),
                r.weight,
                r.stable,
                r.canary
            );
            Ok(())
        }
    }
}

/// A rollout spec from a TOML or JSON file: one `[[rollouts]]` table, or its keys at the top.
fn read_spec(file: &std::path::Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let is_json =
        file.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
    let value: Value = if is_json {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", file.display()))?
    } else {
        let doc: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", file.display()))?;
        serde_json::to_value(doc)?
    };
    match value.get("rollouts") {
        None => Ok(value),
        Some(Value::Array(list)) if list.len() == 1 => Ok(list[0].clone()),
        Some(_) => Err(anyhow!(
            "{} must hold exactly one [[rollouts]] table (create them one at a time)",
            file.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn specs_from_toml_or_json() {
        let dir = tempfile::tempdir().unwrap();
        let toml_file = dir.path().join("r.toml");
        std::fs::write(&toml_file, "[[rollouts]]\nname = \"a\"\nservice = \"s\"\n[rollouts.strategy]\nsteps = [{ weight = \"5%\" }]\n").unwrap();
        let spec = read_spec(&toml_file).unwrap();
        assert_eq!(spec["name"], "a");
        assert_eq!(spec["strategy"]["steps"][0]["weight"], "5%");
        let flat = dir.path().join("f.toml");
        std::fs::write(&flat, "name = \"b\"\n").unwrap();
        assert_eq!(read_spec(&flat).unwrap()["name"], "b");
        let json_file = dir.path().join("r.json");
        std::fs::write(&json_file, r#"{"name": "c"}"#).unwrap();
        assert_eq!(read_spec(&json_file).unwrap()["name"], "c");
        let two = dir.path().join("two.toml");
        std::fs::write(
            &two,
            "[[rollouts]]\nname = \"a\"\n[[rollouts]]\nname = \"b\"\n",
        )
        .unwrap();
        assert!(read_spec(&two).is_err());
    }
}
