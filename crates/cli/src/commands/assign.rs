//! `rollgate assign`: which version, cohort and experiment variants a unit gets, and why —
//! computed with exactly the routing table the edge would build from the same file.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rollgate_core::{AttributesView, DecisionSummary, DeviceClass, RoutingTable};

use crate::Exit;
use crate::output::OutputFormat;

/// Show which group a unit lands in.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (TOML).
    #[arg(long, short)]
    pub config: PathBuf,
    /// The unit id (user id, device id, …).
    #[arg(long, short)]
    pub unit: String,
    /// The service (default: the only service in the file).
    #[arg(long, short)]
    pub service: Option<String>,
    /// A request header, `NAME=VALUE` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// A cookie, `NAME=VALUE` (repeatable).
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    pub cookies: Vec<String>,
    /// A query parameter, `NAME=VALUE` (repeatable).
    #[arg(long = "query", value_name = "NAME=VALUE")]
    pub query: Vec<String>,
    /// The request path (for `path_prefix` rules).
    #[arg(long)]
    pub path: Option<String>,
    /// The client address (for `ip` rules and GeoIP).
    #[arg(long)]
    pub ip: Option<IpAddr>,
    /// The client country (ISO code), instead of the geo source.
    #[arg(long)]
    pub country: Option<String>,
    /// The device class (`mobile`, `tablet`, `desktop`, `bot`), instead of parsing a
    /// `User-Agent` header. Without either, the request counts as a bot, as at the edge.
    #[arg(long, value_parser = parse_device)]
    pub device: Option<DeviceClass>,
    /// `text` for people, `json` for scripts.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Prints the decision; exit 0.
pub fn run(args: Args) -> Result<Exit> {
    let config = rollgate_config::load(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ctx = config.edge.context()?;
    let table = RoutingTable::build(&config.routing, &ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let service = match &args.service {
        Some(s) => s.clone(),
        None => match config.routing.services.as_slice() {
            [only] => only.name.clone(),
            [] => bail!("{} declares no service", config.origin),
            _ => bail!(
                "{} declares several services: pick one with --service",
                config.origin
            ),
        },
    };
    let view = attributes(&args)?;
    let decision = table.assign(&service, &args.unit, &view)?;
    let summary = decision.summary();
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        OutputFormat::Text => print!("{}", render(&summary)),
    }
    Ok(Exit::Success)
}

fn attributes(args: &Args) -> Result<AttributesView> {
    let mut view = AttributesView::new();
    for (flag, pairs) in [
        ("--header", &args.headers),
        ("--cookie", &args.cookies),
        ("--query", &args.query),
    ] {
        for pair in pairs {
            let (k, v) = AttributesView::split_pair(pair)
                .with_context(|| format!("{flag} {pair:?}: write NAME=VALUE"))?;
            view = match flag {
                "--header" => view.with_header(k, v),
                "--cookie" => view.with_cookie(k, v),
                _ => view.with_query(k, v),
            };
        }
    }
    if let Some(p) = &args.path {
        view = view.with_path(p.clone());
    }
    if let Some(ip) = args.ip {
        view = view.with_ip(ip);
    }
    if let Some(c) = &args.country {
        view = view.with_country(c.clone());
    }
    if let Some(d) = args.device {
        view = view.with_device(d);
    }
    Ok(view)
}

fn parse_device(s: &str) -> Result<DeviceClass, String> {
    DeviceClass::parse(s)
        .ok_or_else(|| format!("{s:?} is not a device class: use mobile, tablet, desktop or bot"))
}

fn render(s: &DecisionSummary) -> String {
    let mut out = format!(
        "service  {}\nunit     {}\nversion  {}\ncohort   {}\n",
        s.service,
        s.unit,
        s.version,
        s.cohort.as_str()
    );
    if let Some(r) = &s.rollout {
        out += &format!("rollout  {r}\n");
    }
    if let Some(b) = s.bucket {
        out += &format!("bucket   {b} / 1000000\n");
    }
    out += &format!("reason   {}\n", s.reason);
    for v in &s.experiments {
        out += &format!("variant  {} = {}", v.experiment, v.variant);
        if let Some(value) = &v.value {
            out += &format!(" ({value})");
        }
        out.push('\n');
    }
    out
}
