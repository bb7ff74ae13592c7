//! `[[experiments]]`: A/B tests with variants, mutually exclusive within a layer.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::spec::check::{check_duplicate, check_name, check_salt};
use crate::spec::rule::RuleSpec;
use crate::spec::service::ServiceSpec;
use crate::spec_error::{field, index};
use crate::{Ppm, SpecErrors, did_you_mean};

/// An experiment: a share (`allocation`) of a layer's units is split among variants.
/// Experiments in the same layer never share a unit; experiments in different layers are
/// independent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Unique name (`checkout-button`): letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// The service whose requests report this experiment's variant. Absent: every service and
    /// SDK lookups (OFREP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The layer (default: the experiment's own name, i.e. exclusive of nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The share of the layer's units in this experiment.
    pub allocation: Ppm,
    /// Where this experiment's slice of the layer starts. Default: right after the previous
    /// experiment declared in the same layer. Set it explicitly before removing an experiment
    /// from a layer, or the later ones shift and reshuffle their units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<Ppm>,
    /// The salt that splits units among variants (default: the experiment name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Who may enter the experiment at all. Absent: everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<RuleSpec>,
    /// The variants; their weights add up to exactly 100%.
    pub variants: Vec<VariantSpec>,
    /// Metrics to report for this experiment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

/// One variant of an experiment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Unique within the experiment (`control`).
    pub name: String,
    /// The variant's share of the experiment's units.
    pub weight: Ppm,
    /// The value an SDK receives for this variant (any JSON/TOML value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// A version of the experiment's service that serves this variant's requests. Only on a
    /// service that no rollout is moving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl ExperimentSpec {
    /// The layer this experiment is in: `layer`, or its own name.
    pub fn layer(&self) -> &str {
        self.layer.as_deref().unwrap_or(&self.name)
    }

    /// The salt that picks variants: `salt`, or the experiment name.
    pub fn salt(&self) -> &str {
        self.salt.as_deref().unwrap_or(&self.name)
    }

    /// True when a variant routes requests to a version.
    pub fn routes_versions(&self) -> bool {
        self.variants.iter().any(|v| v.version.is_some())
    }

    /// Records the problems of this experiment alone under `path` (e.g. `experiments[0]`):
    /// names, variants and weights, and references to `services`. Layer overlaps and conflicts
    /// with rollouts are checked by [`crate::RoutingSpec::validate`].
    pub fn validate_into(&self, path: &str, services: &[ServiceSpec], errs: &mut SpecErrors) {
        check_name(&field(path, "name"), "experiment", &self.name, errs);
        if let Some(layer) = &self.layer {
            check_name(&field(path, "layer"), "layer", layer, errs);
        }
        check_salt(
            &field(path, "salt"),
            self.salt.as_deref(),
            "experiment",
            errs,
        );
        if let Some(audience) = &self.audience {
            audience.validate_into(&field(path, "audience"), errs);
        }
        for (i, m) in self.metrics.iter().enumerate() {
            check_name(&index(&field(path, "metrics"), i), "metric", m, errs);
        }
        let service = self.validate_service(path, services, errs);
        self.validate_variants(path, service, errs);
    }

    fn validate_service<'s>(
        &self,
        path: &str,
        services: &'s [ServiceSpec],
        errs: &mut SpecErrors,
    ) -> Option<&'s ServiceSpec> {
        let name = self.service.as_ref()?;
        let found = services.iter().find(|s| &s.name == name);
        if found.is_none() {
            let hint = did_you_mean(name, services.iter().map(|s| s.name.as_str()));
            errs.push(
                field(path, "service"),
                format!("unknown service {name:?}{hint}"),
            );
        }
        found
    }

    fn validate_variants(&self, path: &str, service: Option<&ServiceSpec>, errs: &mut SpecErrors) {
        let vpath = field(path, "variants");
        if self.variants.is_empty() {
            errs.push(vpath.clone(), "an experiment needs at least one variant");
            return;
        }
        let mut names = HashSet::new();
        let mut total: u64 = 0;
        for (i, v) in self.variants.iter().enumerate() {
            let p = index(&vpath, i);
            check_duplicate(&field(&p, "name"), "variant", &v.name, &mut names, errs);
            total += u64::from(v.weight.get());
            let Some(version) = &v.version else { continue };
            match (&self.service, service) {
                (None, _) => errs.push(
                    field(&p, "version"),
                    "a variant can only route to a version when the experiment names its `service`",
                ),
                (Some(_), Some(s)) if s.version_index(version).is_none() => {
                    let hint = did_you_mean(version, s.versions.iter().map(|v| v.name.as_str()));
                    errs.push(
                        field(&p, "version"),
                        format!("unknown version {version:?} of service {:?}{hint}", s.name),
                    );
                }
                _ => {}
            }
        }
        if total != u64::from(Ppm::SCALE) {
            let sum = Ppm::saturating(total);
            let shown = if total > u64::from(Ppm::SCALE) {
                format!("more than {sum}")
            } else {
                sum.to_string()
            };
            errs.push(
                vpath,
                format!("variant weights add up to {shown}; they must add up to exactly 100%"),
            );
        }
    }
}

/// Where each experiment's slice of its layer lies, `[start, end)` in ppm, in declaration
/// order. An experiment without `offset` starts where the previous one in its layer ended.
/// Ends may exceed 100% (validation reports it).
pub(crate) fn layer_ranges(experiments: &[ExperimentSpec]) -> Vec<(u64, u64)> {
    let mut cursor: BTreeMap<&str, u64> = BTreeMap::new();
    experiments
        .iter()
        .map(|e| {
            let next = cursor.entry(e.layer()).or_insert(0);
            let start = e.offset.map_or(*next, |o| u64::from(o.get()));
            let end = start + u64::from(e.allocation.get());
            *next = end;
            (start, end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(
        name: &str,
        layer: Option<&str>,
        allocation: u32,
        offset: Option<u32>,
    ) -> ExperimentSpec {
        ExperimentSpec {
            name: name.into(),
            service: None,
            layer: layer.map(Into::into),
            allocation: Ppm::percent(allocation),
            offset: offset.map(Ppm::percent),
            salt: None,
            audience: None,
            variants: vec![VariantSpec {
                name: "on".into(),
                weight: Ppm::FULL,
                value: None,
                version: None,
            }],
            metrics: vec![],
        }
    }

    #[test]
    fn ranges_are_consecutive_per_layer_unless_offset() {
        let exps = [
            experiment("a", Some("l"), 40, None),
            experiment("b", Some("l"), 30, None),
            experiment("c", None, 50, None),
            experiment("d", Some("l"), 10, Some(90)),
            experiment("e", Some("l"), 10, None),
        ];
        let r = layer_ranges(&exps);
        assert_eq!(
            r,
            [
                (0, 400_000),
                (400_000, 700_000),
                (0, 500_000),
                (900_000, 1_000_000),
                (1_000_000, 1_100_000)
            ]
        );
        assert_eq!(exps[2].layer(), "c");
        assert_eq!(exps[2].salt(), "c");
    }

    #[test]
    fn variant_problems_are_reported() {
        let mut e = experiment("x", None, 10, None);
        e.variants.push(VariantSpec {
            name: "on".into(),
            weight: Ppm::percent(10),
            value: None,
            version: Some("v2".into()),
        });
        let mut errs = SpecErrors::new();
        e.validate_into("experiments[0]", &[], &mut errs);
        let text = errs.to_string();
        assert!(
            text.contains("experiments[0].variants[1].name: variant \"on\" is defined twice"),
            "{text}"
        );
        assert!(
            text.contains("experiments[0].variants[1].version: a variant can only route"),
            "{text}"
        );
        assert!(
            text.contains("experiments[0].variants: variant weights add up to more than 100%"),
            "{text}"
        );
    }
}
