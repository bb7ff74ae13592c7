//! The routing part of a `[[rollouts]]` entry: which versions, which units, what share.

use serde::{Deserialize, Serialize};

use crate::spec::check::{check_name, check_salt};
use crate::spec::rule::RuleSpec;
use crate::spec::service::ServiceSpec;
use crate::spec_error::field;
use crate::{Ppm, SpecErrors, did_you_mean};

/// How a rollout splits a service's traffic: the canary version gets `weight` of the units in
/// the audience, picked by bucketing with `salt`; everyone else gets the stable version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRouteSpec {
    /// Unique name (`shop-v1.2`): letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// The service whose traffic moves.
    pub service: String,
    /// The version everyone outside the canary cohort gets.
    pub stable: String,
    /// The version the canary cohort gets.
    pub canary: String,
    /// The bucketing salt (default: the rollout name). Changing it reshuffles every unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The canary's share of the audience, in ppm (`"5%"`). Moved by the controller.
    #[serde(default)]
    pub weight: Ppm,
    /// Who may get the canary at all; everyone else stays on stable. Absent: everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<RuleSpec>,
}

impl RolloutRouteSpec {
    /// The salt units are bucketed with: `salt`, or the rollout name.
    pub fn salt(&self) -> &str {
        self.salt.as_deref().unwrap_or(&self.name)
    }

    /// Records every problem of this rollout under `path` (e.g. `rollouts[0]`), checking the
    /// service and versions against `services`.
    pub fn validate_into(&self, path: &str, services: &[ServiceSpec], errs: &mut SpecErrors) {
        check_name(&field(path, "name"), "rollout", &self.name, errs);
        check_salt(&field(path, "salt"), self.salt.as_deref(), "rollout", errs);
        if let Some(audience) = &self.audience {
            audience.validate_into(&field(path, "audience"), errs);
        }
        let Some(service) = services.iter().find(|s| s.name == self.service) else {
            let hint = did_you_mean(&self.service, services.iter().map(|s| s.name.as_str()));
            errs.push(
                field(path, "service"),
                format!("unknown service {:?}{hint}", self.service),
            );
            return;
        };
        for (key, version) in [("stable", &self.stable), ("canary", &self.canary)] {
            if service.version_index(version).is_none() {
                let hint = did_you_mean(version, service.versions.iter().map(|v| v.name.as_str()));
                errs.push(
                    field(path, key),
                    format!(
                        "unknown version {version:?} of service {:?}{hint}",
                        service.name
                    ),
                );
            }
        }
        if self.stable == self.canary {
            errs.push(
                field(path, "canary"),
                format!(
                    "the canary is the stable version {:?}: a rollout needs two different versions",
                    self.stable
                ),
            );
        }
    }
}
