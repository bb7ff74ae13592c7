//! The routing table: a validated, compiled [`RoutingSpec`] that answers, for any request, which
//! service, version, cohort and experiment variants it gets. Immutable once built; the edge
//! swaps whole tables.

mod compiled;
mod decide;
mod routes;

use std::collections::HashMap;

use crate::decision::{Assigned, ExperimentAssignment};
use crate::spec::experiment::ExperimentSpec;
use crate::spec::rollout::RolloutRouteSpec;
use crate::spec::service::ServiceSpec;
use crate::{GeoSource, OverrideSettings, OverrideVia, RoutingSpec, SpecErrors, did_you_mean};
use compiled::{Compiled, Experiment, Layer, Rollout, Service};
use routes::Routes;

/// Edge-local settings that are not part of the published snapshot: where countries come from
/// and who may force a version. The edge loads files and keys; this crate only uses them.
#[derive(Clone, Debug, Default)]
pub struct EdgeContext {
    /// The source of `country` rules.
    pub geo: GeoSource,
    /// Tester overrides; `None` ignores override headers and cookies.
    pub overrides: Option<OverrideSettings>,
}

/// A compiled routing snapshot. Build it once per snapshot, share it as `Arc<RoutingTable>`,
/// and call [`RoutingTable::decide`] from any number of threads.
#[derive(Clone, Debug)]
pub struct RoutingTable {
    spec: RoutingSpec,
    pub(crate) services: Vec<Service>,
    pub(crate) rollouts: Vec<Rollout>,
    layers: Vec<Layer>,
    pub(crate) experiments: Vec<Experiment>,
    routes: Routes,
    names: Names,
    ctx: EdgeContext,
}

/// Name → index maps for lookups by name.
#[derive(Clone, Debug, Default)]
struct Names {
    services: HashMap<Box<str>, usize, ahash::RandomState>,
    rollouts: HashMap<Box<str>, usize, ahash::RandomState>,
    experiments: HashMap<Box<str>, usize, ahash::RandomState>,
}

/// A lookup named a service, rollout or experiment the table does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}{hint}")]
pub struct UnknownName {
    /// `service`, `rollout` or `experiment`.
    pub kind: &'static str,
    /// The name asked for.
    pub name: String,
    /// ` (did you mean "…"?)` or empty.
    pub hint: String,
}

impl RoutingTable {
    /// Validates `spec` whole (every problem, with paths) and compiles it with the edge's
    /// settings. The spec is kept and available as [`RoutingTable::spec`].
    pub fn build(spec: &RoutingSpec, ctx: &EdgeContext) -> Result<RoutingTable, SpecErrors> {
        spec.validate()?;
        let Compiled {
            services,
            rollouts,
            layers,
            experiments,
        } = Compiled::new(spec)?;
        let names = Names {
            services: index_names(spec.services.iter().map(|s| s.name.as_str())),
            rollouts: index_names(spec.rollouts.iter().map(|r| r.name.as_str())),
            experiments: index_names(spec.experiments.iter().map(|e| e.name.as_str())),
        };
        Ok(RoutingTable {
            routes: Routes::new(&spec.services),
            spec: spec.clone(),
            services,
            rollouts,
            layers,
            experiments,
            names,
            ctx: ctx.clone(),
        })
    }

    /// The spec this table was built from.
    pub fn spec(&self) -> &RoutingSpec {
        &self.spec
    }

    /// The edge-local settings this table was built with.
    pub fn context(&self) -> &EdgeContext {
        &self.ctx
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.service_index(name).map(|i| &self.spec.services[i])
    }

    /// The position of service `name` in `spec().services`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.names.services.get(name).copied()
    }

    /// The rollout named `name`.
    pub fn rollout(&self, name: &str) -> Option<&RolloutRouteSpec> {
        self.rollout_index(name).map(|i| &self.spec.rollouts[i])
    }

    /// The position of rollout `name` in `spec().rollouts`.
    pub fn rollout_index(&self, name: &str) -> Option<usize> {
        self.names.rollouts.get(name).copied()
    }

    /// The experiment named `name`.
    pub fn experiment(&self, name: &str) -> Option<&ExperimentSpec> {
        self.experiment_index(name)
            .map(|i| &self.spec.experiments[i])
    }

    /// The position of experiment `name` in `spec().experiments`.
    pub fn experiment_index(&self, name: &str) -> Option<usize> {
        self.names.experiments.get(name).copied()
    }

    /// The error for an unknown name, with a suggestion.
    fn unknown<'n>(
        &self,
        kind: &'static str,
        name: &str,
        known: impl Iterator<Item = &'n str>,
    ) -> UnknownName {
        UnknownName {
            kind,
            name: name.to_string(),
            hint: did_you_mean(name, known),
        }
    }

    fn unknown_service(&self, name: &str) -> UnknownName {
        self.unknown(
            "service",
            name,
            self.spec.services.iter().map(|s| s.name.as_str()),
        )
    }

    fn unknown_experiment(&self, name: &str) -> UnknownName {
        self.unknown(
            "experiment",
            name,
            self.spec.experiments.iter().map(|e| e.name.as_str()),
        )
    }

    /// The name of the override header or cookie.
    pub(crate) fn override_name(&self, via: OverrideVia) -> &str {
        let o = self.ctx.overrides.as_ref();
        match via {
            OverrideVia::Header => o.and_then(|o| o.header.as_deref()),
            OverrideVia::Cookie => o.and_then(|o| o.cookie.as_deref()),
        }
        .unwrap_or("")
    }

    /// The readable form of an assignment.
    pub(crate) fn assignment(&self, a: Assigned) -> ExperimentAssignment<'_> {
        let e = &self.experiments[a.experiment];
        let v = &e.variants[a.variant];
        ExperimentAssignment {
            experiment: &e.name,
            experiment_index: a.experiment,
            variant: &v.name,
            variant_index: a.variant,
            value: v.value.as_ref(),
        }
    }
}

fn index_names<'n>(
    names: impl Iterator<Item = &'n str>,
) -> HashMap<Box<str>, usize, ahash::RandomState> {
    // Fixed keys: the map is only read after build, and the crate reads no randomness.
    let mut map = HashMap::with_hasher(ahash::RandomState::with_seeds(9, 10, 11, 12));
    for (i, n) in names.enumerate() {
        map.insert(n.into(), i);
    }
    map
}
