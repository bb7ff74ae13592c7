//! Rollgate's pure core: traffic shares, bucketing, cohorts, audience rules, overrides, the
//! routing spec and the routing decision the edge makes for every request, plus the domain
//! records the rest of the system stores. This crate does no IO, reads no clock, reads no
//! environment and spawns nothing: time, randomness and anything loaded from disk (a GeoIP
//! database, an HMAC key) are passed in.
//!
//! Flow: a [`RoutingSpec`] (serde) is validated whole ([`RoutingSpec::validate`], every
//! problem with its path) and built into an immutable [`RoutingTable`] together with the
//! edge-local [`EdgeContext`]; [`RoutingTable::decide`] then answers, for any [`RequestView`],
//! which service, version, cohort and experiment variants the request gets, and why.

mod audience;
mod bucket;
mod cohort;
mod decision;
mod device;
mod duration;
mod geo;
pub mod model;
mod overrides;
mod request;
mod spec;
mod spec_error;
mod suggest;
mod table;
mod weight;

pub use audience::Audience;
pub use bucket::{BUCKETS, BucketingVersion, SEPARATOR, bucket};
pub use cohort::{BASELINE_START, Cohort};
pub use decision::{Decision, DecisionSummary, ExperimentAssignment, Reason, VariantSummary};
pub use device::DeviceClass;
pub use duration::{DurationError, DurationSpec};
pub use geo::{GeoSource, is_country_code};
pub use overrides::{OverrideSettings, OverrideTrust, OverrideVia, sign_override};
pub use request::{AttributesView, RequestView};
pub use spec::check::parse_endpoint;
pub use spec::edge::{GeoSpec, MIN_HMAC_KEY_BYTES, OverrideSpec};
pub use spec::experiment::{ExperimentSpec, VariantSpec};
pub use spec::rollout::RolloutRouteSpec;
pub use spec::routing::RoutingSpec;
pub use spec::rule::{AppVersionSpec, FieldMatchSpec, RuleSpec};
pub use spec::service::{
    BreakerSpec, HealthCheckSpec, LoadBalancing, ServiceSpec, TimeoutsSpec, UnitSpec, VersionSpec,
};
pub use spec_error::{SpecError, SpecErrors};
pub use suggest::{did_you_mean, suggest};
pub use table::{EdgeContext, RoutingTable, UnknownName};
pub use weight::{Ppm, PpmError};

/// Building paths for [`SpecError`]s, for crates that validate documents embedding these specs.
pub mod path {
    pub use crate::spec_error::{field, index, join};
}
