//! What the routing table decided for one request or unit, and why. Cheap to produce: indices
//! and borrowed names, formatted only when shown.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::{Cohort, OverrideTrust, OverrideVia, Ppm, RoutingTable};

/// The routing decision for one request (from [`RoutingTable::decide`]) or unit (from
/// [`RoutingTable::assign`]).
///
/// `'t` is the table's lifetime (names), `'r` the request's (the unit id it carries), so names
/// and indices can be kept after the request is gone.
#[derive(Clone)]
pub struct Decision<'t, 'r> {
    pub(crate) table: &'t RoutingTable,
    pub(crate) service: usize,
    pub(crate) route: Route,
    pub(crate) unit: Cow<'r, str>,
    pub(crate) minted: bool,
}

/// The unit-independent part of a decision: version, cohort, reason, variants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub version: usize,
    pub cohort: Cohort,
    pub rollout: Option<usize>,
    pub bucket: Option<u32>,
    pub why: Why,
    pub experiments: SmallVec<[Assigned; 2]>,
}

/// A unit's variant in an experiment, as indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Assigned {
    pub experiment: usize,
    pub variant: usize,
}

/// Why, as indices; [`Reason`] is the readable form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    Override {
        via: OverrideVia,
        trust: OverrideTrust,
    },
    OutsideAudience,
    Bucket,
    Experiment(Assigned),
    NoRollout,
}

/// Why a request got its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason<'a> {
    /// A tester forced the version with the override header or cookie.
    Override {
        /// Header or cookie.
        via: OverrideVia,
        /// Its name.
        name: &'a str,
        /// Trusted network or valid signature.
        trust: OverrideTrust,
    },
    /// The unit is outside the rollout's audience, so it gets stable.
    OutsideAudience {
        /// The rollout.
        rollout: &'a str,
    },
    /// The unit's bucket placed it in a cohort of the rollout.
    Bucket {
        /// The rollout.
        rollout: &'a str,
        /// The unit's bucket in `[0, 1_000_000)`.
        bucket: u32,
        /// The rollout's canary weight.
        weight: Ppm,
        /// The cohort the bucket falls in.
        cohort: Cohort,
    },
    /// An experiment variant that routes to a version.
    Experiment {
        /// The experiment.
        experiment: &'a str,
        /// The unit's variant.
        variant: &'a str,
    },
    /// No rollout or experiment moves this service: its stable version.
    NoRollout,
}

/// A unit's variant in one experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExperimentAssignment<'a> {
    /// The experiment's name.
    pub experiment: &'a str,
    /// The experiment's position in the spec's `experiments`.
    pub experiment_index: usize,
    /// The variant's name.
    pub variant: &'a str,
    /// The variant's position in the experiment's `variants`.
    pub variant_index: usize,
    /// The variant's value, for SDKs.
    pub value: Option<&'a serde_json::Value>,
}

/// A decision as owned, serialisable data, for the API and the CLI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionSummary {
    /// The service.
    pub service: String,
    /// The version that serves the request.
    pub version: String,
    /// The unit's cohort.
    pub cohort: Cohort,
    /// The rollout moving the service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<String>,
    /// The unit id.
    pub unit: String,
    /// True when the unit id was minted for this request.
    #[serde(default)]
    pub minted: bool,
    /// The unit's bucket in the rollout, when bucketing decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<u32>,
    /// Why, in words.
    pub reason: String,
    /// The unit's experiment variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<VariantSummary>,
}

/// One experiment variant in a [`DecisionSummary`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantSummary {
    /// The experiment.
    pub experiment: String,
    /// The variant.
    pub variant: String,
    /// The variant's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

impl<'t, 'r> Decision<'t, 'r> {
    /// The service's name.
    pub fn service(&self) -> &'t str {
        &self.table.services[self.service].name
    }

    /// The service's position in the spec's `services`: stable for the life of the table.
    pub fn service_index(&self) -> usize {
        self.service
    }

    /// The name of the version that serves the request.
    pub fn version(&self) -> &'t str {
        &self.table.services[self.service].versions[self.route.version]
    }

    /// The version's position in the service's `versions`.
    pub fn version_index(&self) -> usize {
        self.route.version
    }

    /// The unit's cohort (`Stable` when no rollout applies, outside the audience, or overridden).
    pub fn cohort(&self) -> Cohort {
        self.route.cohort
    }

    /// The rollout moving this service, if any.
    pub fn rollout(&self) -> Option<&'t str> {
        self.route.rollout.map(|r| &*self.table.rollouts[r].name)
    }

    /// The rollout's position in the spec's `rollouts`.
    pub fn rollout_index(&self) -> Option<usize> {
        self.route.rollout
    }

    /// The unit's bucket in the rollout, when bucketing decided.
    pub fn bucket(&self) -> Option<u32> {
        self.route.bucket
    }

    /// The unit id the decision was made for.
    pub fn unit(&self) -> &str {
        &self.unit
    }

    /// True when no unit id was found and one was minted: the proxy sets it in
    /// [`Decision::anonymous_cookie`].
    pub fn minted(&self) -> bool {
        self.minted
    }

    /// The cookie that keeps a minted unit id.
    pub fn anonymous_cookie(&self) -> &'t str {
        &self.table.services[self.service].anonymous_cookie
    }

    /// Takes the unit id.
    pub fn into_unit(self) -> Cow<'r, str> {
        self.unit
    }

    /// Why the request got its version.
    pub fn reason(&self) -> Reason<'t> {
        let t = self.table;
        let rollout = || self.route.rollout.map_or("", |r| &*t.rollouts[r].name);
        match self.route.why {
            Why::Override { via, trust } => Reason::Override {
                via,
                name: t.override_name(via),
                trust,
            },
            Why::OutsideAudience => Reason::OutsideAudience { rollout: rollout() },
            Why::Bucket => Reason::Bucket {
                rollout: rollout(),
                bucket: self.route.bucket.unwrap_or_default(),
                weight: self
                    .route
                    .rollout
                    .map_or(Ppm::ZERO, |r| t.rollouts[r].weight),
                cohort: self.route.cohort,
            },
            Why::Experiment(a) => Reason::Experiment {
                experiment: &t.experiments[a.experiment].name,
                variant: &t.experiments[a.experiment].variants[a.variant].name,
            },
            Why::NoRollout => Reason::NoRollout,
        }
    }

    /// The unit's variants, one per experiment it is in, in layer order.
    pub fn experiments(&self) -> impl ExactSizeIterator<Item = ExperimentAssignment<'t>> + '_ {
        let t = self.table;
        self.route.experiments.iter().map(move |a| t.assignment(*a))
    }

    /// The unit's variant in `experiment`, if it is in it.
    pub fn variant(&self, experiment: &str) -> Option<ExperimentAssignment<'t>> {
        self.experiments().find(|a| a.experiment == experiment)
    }

    /// The decision as owned, serialisable data.
    pub fn summary(&self) -> DecisionSummary {
        DecisionSummary {
            service: self.service().to_string(),
            version: self.version().to_string(),
            cohort: self.cohort(),
            rollout: self.rollout().map(str::to_string),
            unit: self.unit().to_string(),
            minted: self.minted,
            bucket: self.bucket(),
            reason: self.reason().to_string(),
            experiments: self
                .experiments()
                .map(|a| VariantSummary {
                    experiment: a.experiment.to_string(),
                    variant: a.variant.to_string(),
                    value: a.value.cloned(),
                })
                .collect(),
        }
    }
}

impl fmt::Debug for Decision<'_, '_> {
    /// The decision's fields by name (not the whole table it points into).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decision")
            .field("service", &self.service())
            .field("version", &self.version())
            .field("cohort", &self.cohort())
            .field("rollout", &self.rollout())
            .field("unit", &self.unit())
            .field("minted", &self.minted)
            .field("bucket", &self.bucket())
            .field("reason", &self.reason())
            .field("experiments", &self.experiments().collect::<Vec<_>>())
            .finish()
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Override { via, name, trust } => {
                let via = match via {
                    OverrideVia::Header => "header",
                    OverrideVia::Cookie => "cookie",
                };
                let trust = match trust {
                    OverrideTrust::TrustedNetwork => "from a trusted network",
                    OverrideTrust::Signature => "with a valid signature",
                };
                write!(f, "forced by {via} {name:?} {trust}")
            }
            Reason::OutsideAudience { rollout } => {
                write!(f, "outside the audience of rollout {rollout:?}")
            }
            Reason::Bucket {
                rollout,
                bucket,
                weight,
                cohort,
            } => write!(
                f,
                "bucket {bucket} of rollout {rollout:?} at canary weight {weight}: {cohort}"
            ),
            Reason::Experiment {
                experiment,
                variant,
            } => {
                write!(
                    f,
                    "variant {variant:?} of experiment {experiment:?} routes this version"
                )
            }
            Reason::NoRollout => f.write_str("no rollout moves this service: its stable version"),
        }
    }
}
