//! `rollgate analyze FILE`: the verdict on a metrics document (`RolloutMetrics` JSON, what
//! `GET /api/v1/rollouts/{rollout}/metrics` returns), offline, judged by the conditions of a
//! rollout in a configuration file or by conditions given on the command line.
//!
//! Exit codes: 0 pass, 1 fail, 3 inconclusive, 2 when the command could not run.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use rollgate_analysis::{
    Analysis, AnalysisSpec, ConditionSpec, Outcome, RolloutMetrics, RolloutVerdict, analyze,
};

use crate::Exit;
use crate::output::OutputFormat;

/// Judge a metrics file offline.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The metrics document (JSON), e.g. `examples/metrics-sample.json`.
    pub file: PathBuf,
    /// Judge with the conditions and settings of a rollout in this configuration file.
    #[arg(long, short, conflicts_with = "conditions")]
    pub config: Option<PathBuf>,
    /// The rollout in `--config` (default: the only one, or the one named in FILE).
    #[arg(long, short, requires = "config")]
    pub rollout: Option<String>,
    /// A failure condition (`error_rate > 5%`), repeatable; named by its text.
    #[arg(long = "condition", value_name = "EXPR")]
    pub conditions: Vec<String>,
    /// Observations needed in each cohort before a verdict, with `--condition`.
    #[arg(long, requires = "conditions")]
    pub min_samples: Option<u64>,
    /// False-alarm rate of the sequential tests, with `--condition`.
    #[arg(long, requires = "conditions")]
    pub alpha: Option<f64>,
    /// `text` for people, `json` for scripts.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Prints the verdict; exit 0 pass, 1 fail, 3 inconclusive.
pub fn run(args: Args) -> Result<Exit> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let doc: RolloutMetrics = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a metrics document", args.file.display()))?;
    let analysis = analysis_for(&args, &doc)?;
    let verdict = analyze(&doc, &analysis);
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&verdict)?),
        OutputFormat::Text => println!("{verdict}"),
    }
    Ok(exit_of(&verdict))
}

/// The exit code scripts read: 0 pass, 1 fail, 3 inconclusive.
pub fn exit_of(verdict: &RolloutVerdict) -> Exit {
    match verdict.outcome {
        Outcome::Pass => Exit::Success,
        Outcome::Fail => Exit::Failure,
        Outcome::Inconclusive => Exit::Inconclusive,
    }
}

fn analysis_for(args: &Args, doc: &RolloutMetrics) -> Result<Analysis> {
    if let Some(path) = &args.config {
        let config = rollgate_config::load(path).map_err(|e| anyhow!("{e}"))?;
        let name = args.rollout.as_deref();
        let rollout = match name {
            Some(n) => config.rollouts.iter().find(|r| r.config.name == n),
            None => match config.rollouts.as_slice() {
                [only] => Some(only),
                _ => config
                    .rollouts
                    .iter()
                    .find(|r| r.config.name == doc.rollout),
            },
        };
        let Some(rollout) = rollout else {
            let known: Vec<&str> = config
                .rollouts
                .iter()
                .map(|r| r.config.name.as_str())
                .collect();
            bail!(
                "{} has no rollout {:?} (it has: {}); pick one with --rollout",
                config.origin,
                name.unwrap_or(&doc.rollout),
                known.join(", ")
            );
        };
        return Ok(rollout.analysis.clone());
    }
    if args.conditions.is_empty() {
        bail!(
            "give the conditions: --config FILE [--rollout NAME], or --condition EXPR (repeatable)"
        );
    }
    let mut spec = AnalysisSpec {
        conditions: args
            .conditions
            .iter()
            .map(|c| ConditionSpec::new(c.trim(), c.trim()))
            .collect(),
        ..AnalysisSpec::default()
    };
    if let Some(n) = args.min_samples {
        spec.min_samples = n;
    }
    if let Some(a) = args.alpha {
        spec.alpha = a;
    }
    spec.build(&doc.catalog()).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| {
                // Paths are `conditions[i].fail_when`: name the flag instead.
                let which = e
                    .path
                    .strip_prefix("conditions[")
                    .and_then(|rest| rest.split(']').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| args.conditions.get(i));
                match which {
                    Some(c) => format!("--condition {c:?}: {}", e.message),
                    None => e.to_string(),
                }
            })
            .collect();
        anyhow!("{}", lines.join("\n"))
    })
}
