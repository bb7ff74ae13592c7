//! The routing snapshot: every service, the current rollouts and the experiments, as one
//! document the control plane publishes and every edge runs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::spec::check::check_duplicate;
use crate::spec::experiment::{ExperimentSpec, layer_ranges};
use crate::spec::rollout::RolloutRouteSpec;
use crate::spec::service::ServiceSpec;
use crate::spec_error::{field, index};
use crate::{Ppm, SpecErrors};

/// What the edge routes by: services, rollouts with their current weights, and experiments.
/// Serialised as JSON between the control plane and the edges; the `[[services]]`,
/// `[[rollouts]]` and `[[experiments]]` of `rollgate.toml` fill it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSpec {
    /// The services and their versions.
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// At most one rollout per service.
    #[serde(default)]
    pub rollouts: Vec<RolloutRouteSpec>,
    /// Experiments.
    #[serde(default)]
    pub experiments: Vec<ExperimentSpec>,
}

impl RoutingSpec {
    /// Every problem in the snapshot, each with its path and a hint; `Ok` when there are none.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut errs = SpecErrors::new();
        self.validate_into("", &mut errs);
        errs.into_result()
    }

    /// Records every problem under `path` (empty for a top-level document).
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        self.validate_services(path, errs);
        self.validate_rollouts(path, errs);
        self.validate_experiments(path, errs);
    }

    fn validate_services(&self, path: &str, errs: &mut SpecErrors) {
        let mut names = HashSet::new();
        // (host or "*", prefix without trailing "/") → first service answering it.
        let mut routes: HashMap<(String, String), &str> = HashMap::new();
        for (i, s) in self.services.iter().enumerate() {
            let p = index(&field(path, "services"), i);
            check_duplicate(&field(&p, "name"), "service", &s.name, &mut names, errs);
            s.validate_into(&p, errs);
            let prefix = s.path_prefix.trim_end_matches('/').to_string();
            let hosts: Vec<String> = if s.hosts.is_empty() {
                vec!["*".into()]
            } else {
                s.hosts.iter().map(|h| h.to_ascii_lowercase()).collect()
            };
            for host in hosts {
                let shown = if host == "*" {
                    "any host".to_string()
                } else {
                    format!("host {host:?}")
                };
                if let Some(other) = routes.insert((host, prefix.clone()), &s.name)
                    && other != s.name
                {
                    errs.push(
                        field(&p, "path_prefix"),
                        format!(
                            "services {other:?} and {:?} both answer {shown} under {:?}: give them different hosts or path prefixes",
                            s.name, s.path_prefix
                        ),
                    );
                }
            }
        }
    }

    fn validate_rollouts(&self, path: &str, errs: &mut SpecErrors) {
        let mut names = HashSet::new();
        let mut by_service: HashMap<&str, &str> = HashMap::new();
        for (i, r) in self.rollouts.iter().enumerate() {
            let p = index(&field(path, "rollouts"), i);
            check_duplicate(&field(&p, "name"), "rollout", &r.name, &mut names, errs);
            r.validate_into(&p, &self.services, errs);
            if let Some(other) = by_service.insert(&r.service, &r.name) {
                errs.push(
                    field(&p, "service"),
                    format!(
                        "service {:?} already has rollout {other:?}: a service takes one rollout at a time",
                        r.service
                    ),
                );
            }
        }
    }

    fn validate_experiments(&self, path: &str, errs: &mut SpecErrors) {
        let mut names = HashSet::new();
        for (i, e) in self.experiments.iter().enumerate() {
            let p = index(&field(path, "experiments"), i);
            check_duplicate(&field(&p, "name"), "experiment", &e.name, &mut names, errs);
            e.validate_into(&p, &self.services, errs);
        }
        self.validate_layers(path, errs);
        self.validate_version_routing(path, errs);
    }

    fn validate_layers(&self, path: &str, errs: &mut SpecErrors) {
        let ranges = layer_ranges(&self.experiments);
        let mut by_layer: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, e) in self.experiments.iter().enumerate() {
            let p = index(&field(path, "experiments"), i);
            let (start, end) = ranges[i];
            if end > u64::from(Ppm::SCALE) {
                errs.push(
                    field(&p, "allocation"),
                    format!(
                        "layer {:?} is over-allocated: this experiment's slice [{}, {}) ends past 100%",
                        e.layer(),
                        show(start),
                        show(end)
                    ),
                );
            }
            if end > start {
                by_layer.entry(e.layer()).or_default().push(i);
            }
        }
        for (layer, members) in by_layer {
            for (k, &j) in members.iter().enumerate() {
                for &i in &members[..k] {
                    let (a, b) = (ranges[i], ranges[j]);
                    if a.0 < b.1 && b.0 < a.1 {
                        errs.push(
                            field(&index(&field(path, "experiments"), j), "offset"),
                            format!(
                                "slice [{}, {}) of layer {layer:?} overlaps experiment {:?} [{}, {}): experiments in a layer must not share units",
                                show(b.0),
                                show(b.1),
                                self.experiments[i].name,
                                show(a.0),
                                show(a.1)
                            ),
                        );
                    }
                }
            }
        }
    }

    fn validate_version_routing(&self, path: &str, errs: &mut SpecErrors) {
        let mut layer_of_service: HashMap<&str, &str> = HashMap::new();
        for (i, e) in self.experiments.iter().enumerate() {
            let (Some(service), true) = (&e.service, e.routes_versions()) else {
                continue;
            };
            let p = index(&field(path, "experiments"), i);
            if let Some(r) = self.rollouts.iter().find(|r| &r.service == service) {
                errs.push(
                    field(&p, "service"),
                    format!(
                        "service {service:?} is moved by rollout {:?}: variants may route versions only on a service without a rollout (remove `version` from the variants or end the rollout)",
                        r.name
                    ),
                );
            }
            let layer = layer_of_service.entry(service).or_insert(e.layer());
            if *layer != e.layer() {
                errs.push(
                    field(&p, "layer"),
                    format!(
                        "experiments routing versions of service {service:?} must share one layer ({layer:?}) so a unit is in at most one of them"
                    ),
                );
            }
        }
    }
}

/// A ppm position shown as a percentage, also past 100%.
fn show(ppm: u64) -> String {
    match u32::try_from(ppm).ok().and_then(Ppm::new) {
        Some(p) => p.to_string(),
        None => format!("{}%", ppm as f64 / 10_000.0),
    }
}

#[cfg(test)]
pub(crate) mod tests;
