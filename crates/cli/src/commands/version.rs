//! `rollgate version list|create|restore`: a service's immutable version snapshots through the
//! API. Exit codes as for `rollout`: 0 done, 1 refused, 2 unreachable or failed.

use anyhow::{Result, anyhow};
use rollgate_core::AttributesView;
use rollgate_server::{CreateVersion, RestoreDto, ServiceList, VersionDto, VersionList};

use crate::Exit;
use crate::client::{
    Client, Palette, Reply, ServerArgs, Style, block_on, print_json, segment, table, time,
};
use crate::output::OutputFormat;

/// List, register and restore versions.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: VersionCommand,
    /// The server, token and output format.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The version subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum VersionCommand {
    /// Every version of a service, oldest first, with the periods it was stable.
    List {
        /// The service (default: the only one).
        service: Option<String>,
    },
    /// Register a version snapshot (immutable once registered).
    Create {
        /// The service.
        service: String,
        /// The version name (`v1.3`).
        name: String,
        /// An upstream endpoint `host:port` (repeatable, at least one).
        #[arg(long = "endpoint", short, required = true, value_name = "HOST:PORT")]
        endpoints: Vec<String>,
        /// A label `KEY=VALUE`: image digest, commit, build URL (repeatable).
        #[arg(long = "label", short, value_name = "KEY=VALUE")]
        labels: Vec<String>,
    },
    /// Make an earlier version the stable version again (a running rollout is aborted).
    Restore {
        /// The service.
        service: String,
        /// The version to make stable.
        #[arg(value_name = "VERSION")]
        target: String,
    },
}

/// Runs the subcommand against the server.
pub fn run(args: Args) -> Result<Exit> {
    let client = Client::new(&args.server)?;
    let output = args.server.output;
    block_on(async move {
        match args.command {
            VersionCommand::List { service } => list(&client, output, service).await,
            VersionCommand::Create {
                service,
                name,
                endpoints,
                labels,
            } => {
                let mut map = std::collections::BTreeMap::new();
                for pair in &labels {
                    let (k, v) = AttributesView::split_pair(pair)
                        .ok_or_else(|| anyhow!("--label {pair:?}: write KEY=VALUE"))?;
                    map.insert(k.to_owned(), v.to_owned());
                }
                let body = CreateVersion {
                    name,
                    endpoints,
                    labels: map,
                };
                let path = format!("/api/v1/services/{}/versions", segment(&service));
                match client
                    .post::<_, VersionDto>(&path, &body)
                    .await?
                    .or_refused(output)
                {
                    Ok(v) if output == OutputFormat::Json => print_json(&v).map(|()| Exit::Success),
                    Ok(v) => {
                        println!(
                            "registered {} {} ({})",
                            v.service,
                            v.name,
                            v.endpoints.join(", ")
                        );
                        Ok(Exit::Success)
                    }
                    Err(exit) => Ok(exit),
                }
            }
            VersionCommand::Restore { service, target } => {
                let path = format!(
                    "/api/v1/services/{}/versions/{}/restore",
                    segment(&service),
                    segment(&target)
                );
                match client
                    .post::<_, RestoreDto>(&path, &serde_json::Value::Null)
                    .await?
                    .or_refused(output)
                {
                    Ok(r) if output == OutputFormat::Json => print_json(&r).map(|()| Exit::Success),
                    Ok(r) => {
                        println!(
                            "{}: {} is stable again (was {})",
                            r.service, r.stable, r.previous
                        );
                        if let Some(a) = &r.aborted {
                            println!("aborted rollout {} ({} → {})", a.name, a.stable, a.canary);
                        }
                        Ok(Exit::Success)
                    }
                    Err(exit) => Ok(exit),
                }
            }
        }
    })?
}

async fn list(client: &Client, output: OutputFormat, service: Option<String>) -> Result<Exit> {
    let service = match service {
        Some(s) => s,
        None => match client
            .get::<ServiceList>("/api/v1/services")
            .await?
            .or_refused(output)
        {
            Ok(list) => match list.services.as_slice() {
                [only] => only.name.clone(),
                _ => {
                    let names: Vec<&str> = list.services.iter().map(|s| s.name.as_str()).collect();
                    return Err(anyhow!("name the service: {}", names.join(", ")));
                }
            },
            Err(exit) => return Ok(exit),
        },
    };
    let path = format!("/api/v1/services/{}/versions", segment(&service));
    let list = match client.get::<VersionList>(&path).await? {
        Reply::Ok(l) => l,
        Reply::Refused(p) => {
            crate::client::print_refusal(&p, output);
            return Ok(Exit::Failure);
        }
    };
    if output == OutputFormat::Json {
        print_json(&list)?;
        return Ok(Exit::Success);
    }
    let p = Palette::detect();
    let mut t = table(
        &["VERSION", "STABLE", "ENDPOINTS", "LABELS", "CREATED", "BY"],
        p,
    );
    for v in &list.versions {
        let labels: Vec<String> = v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        t.add_row(vec![
            p.cell(&v.name, Style::Bold),
            if v.stable {
                p.cell("stable", Style::Good)
            } else {
                p.cell(format!("{}×", v.stable_periods.len()), Style::Dim)
            },
            p.cell(v.endpoints.join(" "), Style::Plain),
            p.cell(labels.join(" "), Style::Dim),
            p.cell(time(v.created_at), Style::Dim),
            p.cell(&v.created_by, Style::Plain),
        ]);
    }
    println!("{service}\n{t}");
    Ok(Exit::Success)
}
