//! `rollgate experiment list|status`: A/B experiments through the API. Exit codes as for
//! `rollout`: 0 done, 1 refused, 2 unreachable or failed.

use anyhow::Result;
use rollgate_server::{ExperimentDto, ExperimentList};

use crate::Exit;
use crate::client::{
    Client, Palette, ServerArgs, Style, block_on, print_json, segment, table, time,
};
use crate::output::OutputFormat;

/// Look at experiments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: ExperimentCommand,
    /// The server, token and output format.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The experiment subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ExperimentCommand {
    /// Every experiment.
    List,
    /// One experiment: its state and variants.
    Status {
        /// The experiment.
        name: String,
    },
}

/// Runs the subcommand against the server.
pub fn run(args: Args) -> Result<Exit> {
    let client = Client::new(&args.server)?;
    let output = args.server.output;
    block_on(async move {
        match args.command {
            ExperimentCommand::List => {
                let list = match client
                    .get::<ExperimentList>("/api/v1/experiments")
                    .await?
                    .or_refused(output)
                {
                    Ok(l) => l,
                    Err(exit) => return Ok(exit),
                };
                if output == OutputFormat::Json {
                    print_json(&list)?;
                } else {
                    let p = Palette::detect();
                    let mut t = table(
                        &[
                            "NAME",
                            "STATE",
                            "SERVICE",
                            "LAYER",
                            "ALLOCATION",
                            "VARIANTS",
                        ],
                        p,
                    );
                    for e in &list.experiments {
                        let field = |k: &str| {
                            e.spec
                                .get(k)
                                .and_then(|v| v.as_str())
                                .unwrap_or("-")
                                .to_owned()
                        };
                        t.add_row(vec![
                            p.cell(&e.name, Style::Bold),
                            p.cell(&e.state, state_style(&e.state)),
                            p.cell(field("service"), Style::Plain),
                            p.cell(
                                e.spec
                                    .get("layer")
                                    .and_then(|v| v.as_str())
                                    .unwrap_or(&e.name),
                                Style::Plain,
                            ),
                            p.cell(field("allocation"), Style::Plain),
                            p.cell(variants(e).join(", "), Style::Plain),
                        ]);
                    }
                    println!("{t}");
                }
                Ok(Exit::Success)
            }
            ExperimentCommand::Status { name } => {
                let path = format!("/api/v1/experiments/{}", segment(&name));
                let e = match client.get::<ExperimentDto>(&path).await?.or_refused(output) {
                    Ok(e) => e,
                    Err(exit) => return Ok(exit),
                };
                if output == OutputFormat::Json {
                    print_json(&e)?;
                } else {
                    let p = Palette::detect();
                    println!(
                        "{}  {}",
                        p.paint(&format!("experiment {}", e.name), Style::Bold),
                        p.paint(&e.state, state_style(&e.state))
                    );
                    println!("created  {}", time(e.created_at));
                    if let Some(at) = e.stopped_at {
                        println!("stopped  {}", time(at));
                    }
                    println!("variants {}", variants(&e).join(", "));
                    println!("spec     {}", serde_json::to_string(&e.spec)?);
                }
                Ok(Exit::Success)
            }
        }
    })?
}

fn state_style(state: &str) -> Style {
    if state == "running" {
        Style::Good
    } else {
        Style::Dim
    }
}

/// `name (weight)` of each variant.
fn variants(e: &ExperimentDto) -> Vec<String> {
    e.spec
        .get("variants")
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .map(|v| {
                    let name = v.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    let weight = v.get("weight").and_then(|w| w.as_str()).unwrap_or("?");
                    format!("{name} ({weight})")
                })
                .collect()
        })
        .unwrap_or_default()
}
