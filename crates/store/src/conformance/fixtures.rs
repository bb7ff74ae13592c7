//! Small records for tests of stores and of the code that uses them.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, DecisionRecord, Phase, UnixMillis, VersionSnapshot};
use serde_json::json;

use crate::{RolloutRecord, ServiceRecord, Store, StoreError};

/// A service with a small spec.
pub fn service(name: &str) -> ServiceRecord {
    ServiceRecord {
        name: name.to_owned(),
        spec: json!({ "hosts": [format!("{name}.example.com")], "path_prefix": "/" }),
        updated_at: 1_000,
    }
}

/// A version snapshot with one endpoint and a commit label.
pub fn version(service: &str, name: &str, created_at: UnixMillis) -> VersionSnapshot {
    VersionSnapshot {
        service: service.to_owned(),
        name: name.to_owned(),
        endpoints: vec![format!("127.0.0.1:{}", 8000 + created_at % 1000)],
        labels: [("commit".to_owned(), format!("c-{name}"))].into(),
        created_at,
        created_by: "config".to_owned(),
    }
}

/// A pending rollout of `service` from `v1` to `v2` at weight 0, not stored yet.
pub fn rollout(name: &str, service: &str) -> RolloutRecord {
    RolloutRecord {
        name: name.to_owned(),
        service: service.to_owned(),
        spec: json!({ "stable": "v1", "canary": "v2", "strategy": { "steps": ["5%", "50%"] } }),
        state: json!({ "step": 0 }),
        phase: Phase::Pending,
        weight: Ppm::ZERO,
        stable: "v1".to_owned(),
        canary: "v2".to_owned(),
        revision: 0,
        created_at: 2_000,
        updated_at: 2_000,
        next_seq: 0,
    }
}

/// A controller decision moving the weight from `before` to `after` (in percent) at `at`.
/// Its rollout and seq are filled in by `RolloutCommit::update`.
pub fn decision(action: Action, before: u32, after: u32, at: UnixMillis) -> DecisionRecord {
    DecisionRecord {
        id: 0,
        rollout: String::new(),
        seq: 0,
        at,
        actor: Actor::Controller,
        action,
        phase_before: Phase::Progressing,
        phase_after: Phase::Progressing,
        weight_before: Ppm::percent(before),
        weight_after: Ppm::percent(after),
        reason: format!("{action} {before}% -> {after}%"),
        details: json!({ "error_rate": { "canary": 0.01, "baseline": 0.012, "n": 1200 } }),
    }
}

/// Stores `service` with versions `v1` (created at 100) and `v2` (created at 200).
pub async fn seed_service(store: &dyn Store, name: &str) -> Result<(), StoreError> {
    store.put_service(service(name)).await?;
    store.put_version(version(name, "v1", 100)).await?;
    store.put_version(version(name, "v2", 200)).await?;
    Ok(())
}
