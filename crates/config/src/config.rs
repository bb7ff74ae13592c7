//! The whole `rollgate.toml`: read every section, validate everything together, and build the
//! runtime values only when nothing is wrong.

use std::path::Path;

use rollgate_core::{ExperimentSpec, Ppm, RolloutRouteSpec, RoutingSpec, RuleSpec, ServiceSpec};
use rollgate_core::{SpecErrors, did_you_mean, path::index};

use crate::control::{ControlSection, ControlSettings};
use crate::edge::{EdgeSection, EdgeSettings};
use crate::error::ConfigError;
use crate::items::{item, items};
use crate::notification::NotificationSpec;
use crate::rollout::{Rollout, RolloutConfig};
use rollgate_expr::Catalog as ExprCatalog;
use rollgate_metrics::{Catalog, MetricSpec};

/// The top-level tables a file may have.
const SECTIONS: [&str; 7] = [
    "edge",
    "control",
    "services",
    "metrics",
    "rollouts",
    "experiments",
    "notifications",
];

/// A validated configuration. Built only when the whole file is valid; nothing is ever
/// half-applied.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where it was read from (a path, or `<input>`).
    pub origin: String,
    /// `[edge]`.
    pub edge: EdgeSettings,
    /// `[control]`.
    pub control: ControlSettings,
    /// Services, rollouts (at the weights the file declares) and experiments: the routing
    /// snapshot an edge serves when no control plane drives it.
    pub routing: RoutingSpec,
    /// Every metric conditions can use: the built-ins and `[[metrics]]`.
    pub catalog: Catalog,
    /// `[[metrics]]` as written.
    pub metrics: Vec<MetricSpec>,
    /// `[[rollouts]]`, each with its plan and its analysis.
    pub rollouts: Vec<Rollout>,
    /// `[[notifications]]`.
    pub notifications: Vec<NotificationSpec>,
}

/// Reads and validates a configuration file.
pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Validates configuration text; `origin` names it in messages.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let mut doc: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        origin: origin.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let mut errs = SpecErrors::new();
    for key in doc.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            let hint = did_you_mean(key, SECTIONS);
            errs.push(
                key.as_str(),
                format!(
                    "unknown section{hint}; expected one of {}",
                    SECTIONS.join(", ")
                ),
            );
        }
    }
    let edge: Option<EdgeSection> = section(doc.remove("edge"), "edge", &mut errs);
    let control: Option<ControlSection> = section(doc.remove("control"), "control", &mut errs);
    let services: Vec<ServiceSpec> = items(doc.remove("services"), "services", &mut errs);
    let metrics: Vec<MetricSpec> = items(doc.remove("metrics"), "metrics", &mut errs);
    let catalog = Catalog::from_specs(&metrics)
        .map_err(|e| errs.append(e))
        .ok();
    let conditions_catalog = expr_catalog(catalog.as_ref().unwrap_or(&Catalog::builtin()));
    let raw_rollouts = doc.remove("rollouts");
    let rollouts: Vec<RolloutConfig> = items(raw_rollouts.clone(), "rollouts", &mut errs);
    // A rollout with a broken part (a misspelled condition field, say) is not built, but its
    // routing fields are still checked, so one mistake does not hide the next.
    let broken_routes = broken_rollout_routes(raw_rollouts, &rollouts);
    let experiments: Vec<ExperimentSpec> =
        items(doc.remove("experiments"), "experiments", &mut errs);
    let notifications: Vec<NotificationSpec> =
        items(doc.remove("notifications"), "notifications", &mut errs);

    let edge = edge.and_then(|e| e.build("edge", &mut errs));
    let control = control.and_then(|c| c.build("control", &mut errs));
    let routing = RoutingSpec {
        services,
        rollouts: rollouts
            .iter()
            .map(RolloutConfig::route)
            .chain(broken_routes.iter().cloned())
            .collect(),
        experiments,
    };
    if let Err(e) = routing.validate() {
        errs.append(e);
    }
    let routing = RoutingSpec {
        rollouts: routing.rollouts.into_iter().take(rollouts.len()).collect(),
        ..routing
    };
    let built: Vec<Option<Rollout>> = rollouts
        .iter()
        .enumerate()
        .map(|(i, r)| r.build(&index("rollouts", i), &conditions_catalog, &mut errs))
        .collect();
    for (i, n) in notifications.iter().enumerate() {
        n.validate_into(&index("notifications", i), &mut errs);
    }
    let rollouts: Option<Vec<Rollout>> = built.into_iter().collect();
    match (edge, control, catalog, rollouts) {
        (Some(edge), Some(control), Some(catalog), Some(rollouts)) if errs.is_empty() => {
            Ok(Config {
                origin: origin.to_string(),
                edge,
                control,
                routing,
                catalog,
                metrics,
                rollouts,
                notifications,
            })
        }
        _ => Err(ConfigError::Invalid {
            origin: origin.to_string(),
            errors: errs,
        }),
    }
}

/// The names and units conditions are type-checked against.
pub fn expr_catalog(metrics: &Catalog) -> ExprCatalog {
    let mut c = ExprCatalog::new();
    for name in metrics.names() {
        if let Some(unit) = metrics.unit(name) {
            c.insert(name, unit);
        }
    }
    c
}

/// A single table (`[edge]`): absent means all defaults.
fn section<T: serde::de::DeserializeOwned + Default>(
    value: Option<toml::Value>,
    path: &str,
    errs: &mut SpecErrors,
) -> Option<T> {
    match value {
        None => Some(T::default()),
        Some(v) => item(v, path, errs),
    }
}

/// The routing part of every rollout that could not be read whole, read leniently (unknown
/// and broken fields ignored) so its references can still be checked. Paths of the errors
/// they produce point at the rollout's real index.
fn broken_rollout_routes(
    raw: Option<toml::Value>,
    good: &[RolloutConfig],
) -> Vec<RolloutRouteSpec> {
    let Some(toml::Value::Array(values)) = raw else {
        return Vec::new();
    };
    if values.len() == good.len() {
        return Vec::new();
    }
    values
        .into_iter()
        .filter_map(|v| serde_path_to_error::deserialize::<_, LenientRoute>(v).ok())
        .filter(|r| !good.iter().any(|g| g.name == r.name))
        .map(|r| RolloutRouteSpec {
            name: r.name,
            service: r.service,
            stable: r.stable,
            canary: r.canary,
            salt: r.salt,
            weight: r.weight.unwrap_or(Ppm::ZERO),
            audience: r.audience,
        })
        .collect()
}

/// The routing fields of a rollout, without `deny_unknown_fields`.
#[derive(serde::Deserialize)]
struct LenientRoute {
    name: String,
    service: String,
    stable: String,
    canary: String,
    #[serde(default)]
    salt: Option<String>,
    #[serde(default)]
    weight: Option<Ppm>,
    #[serde(default)]
    audience: Option<RuleSpec>,
}
