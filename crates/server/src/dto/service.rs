//! Services and their version snapshots as the API shows them.

use std::collections::BTreeMap;

use rollgate_control::{RestoreOutcome, ServiceView};
use rollgate_core::model::{Actor, UnixMillis};
use rollgate_store::{StableChange, StablePeriod, VersionEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::rollout::RolloutDto;
use super::schema::ActorSchema;

/// A service, its current stable version and its active rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Service)]
pub struct ServiceDto {
    /// The name.
    pub name: String,
    /// The version stable now, and how it became stable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<StableDto>,
    /// The active rollout, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<String>,
    /// The routing spec (hosts, path prefix, unit, timeouts…).
    #[schema(value_type = Object)]
    pub spec: Value,
    /// When the spec was last written (Unix ms).
    pub updated_at: UnixMillis,
}

/// A version that became stable: which, when, by whom, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = StableChange)]
pub struct StableDto {
    /// The version.
    pub version: String,
    /// Since when (Unix ms).
    pub since: UnixMillis,
    /// Who made it stable.
    #[schema(value_type = ActorSchema)]
    pub actor: Actor,
    /// Why.
    pub reason: String,
}

/// Every service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceList {
    /// The services, by name.
    pub services: Vec<ServiceDto>,
}

/// An immutable version snapshot and the periods it was stable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Version)]
pub struct VersionDto {
    /// The service.
    pub service: String,
    /// The version name (`v1.2`).
    pub name: String,
    /// Upstream endpoints (`host:port`).
    pub endpoints: Vec<String>,
    /// Labels: image digest, commit, build URL.
    pub labels: BTreeMap<String, String>,
    /// When it was registered (Unix ms).
    pub created_at: UnixMillis,
    /// Who registered it (`config` or a token name).
    pub created_by: String,
    /// True when it is the service's stable version now.
    pub stable: bool,
    /// Every period it was stable, oldest first.
    pub stable_periods: Vec<StablePeriodDto>,
}

/// A span of time a version was stable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = StablePeriod)]
pub struct StablePeriodDto {
    /// Since when (Unix ms).
    pub since: UnixMillis,
    /// Until when (Unix ms); absent while it is stable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<UnixMillis>,
    /// Who made it stable.
    #[schema(value_type = ActorSchema)]
    pub actor: Actor,
    /// Why.
    pub reason: String,
}

/// Every version of a service, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionList {
    /// The versions.
    pub versions: Vec<VersionDto>,
}

/// `POST /api/v1/services/{service}/versions`: register a version snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    /// The version name, unique within the service (`v1.3`).
    pub name: String,
    /// Upstream endpoints (`host:port`), at least one.
    pub endpoints: Vec<String>,
    /// Labels: image digest, commit, build URL.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// What a version restore did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = RestoreOutcome)]
pub struct RestoreDto {
    /// The service.
    pub service: String,
    /// The version stable now.
    pub stable: String,
    /// The version stable before.
    pub previous: String,
    /// The rollout that was aborted because it ran on the service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<RolloutDto>,
    /// The restore record with its one decision.
    pub record: RolloutDto,
}

impl From<ServiceView> for ServiceDto {
    fn from(s: ServiceView) -> ServiceDto {
        ServiceDto {
            name: s.name,
            stable: s.stable.map(StableDto::from),
            rollout: s.rollout,
            spec: s.spec,
            updated_at: s.updated_at,
        }
    }
}

impl From<StableChange> for StableDto {
    fn from(c: StableChange) -> StableDto {
        StableDto {
            version: c.version,
            since: c.since,
            actor: c.actor,
            reason: c.reason,
        }
    }
}

impl From<VersionEntry> for VersionDto {
    fn from(e: VersionEntry) -> VersionDto {
        let stable = e.is_stable();
        let s = e.snapshot;
        VersionDto {
            service: s.service,
            name: s.name,
            endpoints: s.endpoints,
            labels: s.labels,
            created_at: s.created_at,
            created_by: s.created_by,
            stable,
            stable_periods: e
                .stable_periods
                .into_iter()
                .map(StablePeriodDto::from)
                .collect(),
        }
    }
}

impl From<StablePeriod> for StablePeriodDto {
    fn from(p: StablePeriod) -> StablePeriodDto {
        StablePeriodDto {
            since: p.since,
            until: p.until,
            actor: p.actor,
            reason: p.reason,
        }
    }
}

impl From<RestoreOutcome> for RestoreDto {
    fn from(r: RestoreOutcome) -> RestoreDto {
        RestoreDto {
            service: r.service,
            stable: r.stable,
            previous: r.previous,
            aborted: r.aborted.map(RolloutDto::from),
            record: RolloutDto::from(r.record),
        }
    }
}
