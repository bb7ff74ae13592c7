//! Services, versions and stable history.

use rollgate_core::model::{Action, Actor};
use serde_json::json;

use super::expect::not_found;
use super::fixtures::{decision, rollout, seed_service, service, version};
use crate::{RolloutCommit, StableChange, Store, StoreError};

/// Services are created, replaced and listed by name.
pub async fn services_round_trip(store: &dyn Store) -> Result<(), StoreError> {
    store.put_service(service("svc-zeta")).await?;
    store.put_service(service("svc-alpha")).await?;
    let mut changed = service("svc-zeta");
    changed.spec = json!({ "hosts": ["new.example.com"] });
    changed.updated_at = 5_000;
    store.put_service(changed.clone()).await?;

    assert_eq!(store.get_service("svc-zeta").await?, Some(changed));
    assert_eq!(store.get_service("svc-missing").await?, None);
    let names: Vec<String> = store
        .list_services()
        .await?
        .into_iter()
        .map(|s| s.name)
        .filter(|n| n.starts_with("svc-"))
        .collect();
    assert_eq!(names, ["svc-alpha", "svc-zeta"]);
    Ok(())
}

/// A version is recorded once: the identical snapshot again is a no-op, a different one under
/// the same name is refused, and a version needs its service.
pub async fn versions_are_immutable(store: &dyn Store) -> Result<(), StoreError> {
    store.put_service(service("imm")).await?;
    let v = version("imm", "v1.0", 300);
    assert!(
        store.put_version(v.clone()).await?,
        "a new version is created"
    );
    assert!(
        !store.put_version(v.clone()).await?,
        "an identical re-put is a no-op"
    );

    let mut different = v.clone();
    different.endpoints.push("10.0.0.9:80".into());
    let err = store.put_version(different).await;
    assert!(
        matches!(&err, Err(StoreError::VersionExists { service, version })
            if service == "imm" && version == "v1.0"),
        "{err:?}"
    );
    assert_eq!(store.get_version("imm", "v1.0").await?, Some(v.clone()));

    let orphan = store.put_version(version("no-such-service", "v1", 1)).await;
    not_found(orphan, "service");

    store.put_version(version("imm", "v0.9", 100)).await?;
    let listed: Vec<String> = store
        .list_versions("imm")
        .await?
        .into_iter()
        .map(|e| e.snapshot.name)
        .collect();
    assert_eq!(listed, ["v0.9", "v1.0"], "versions are listed oldest first");
    assert!(store.list_versions("no-such-service").await?.is_empty());
    Ok(())
}

/// Stable changes from config and from commits build each version's stable periods.
pub async fn stable_history_and_periods(store: &dyn Store) -> Result<(), StoreError> {
    seed_service(store, "hist").await?;
    assert_eq!(store.current_stable("hist").await?, None);
    store
        .record_stable(change("v1", 10, Actor::User("config".into())))
        .await?;

    let created = store.create_rollout(rollout("hist-v2", "hist")).await?;
    let mut promoted = created.clone();
    promoted.phase = rollgate_core::model::Phase::Promoted;
    let commit = RolloutCommit::update(
        &created,
        promoted,
        vec![decision(Action::Promote, 50, 100, 20)],
    )
    .with_stable_change(change("v2", 20, Actor::Controller));
    store.commit(commit).await?;
    store
        .record_stable(change("v1", 30, Actor::User("alice".into())))
        .await?;

    let history = store.stable_history("hist").await?;
    let versions: Vec<(&str, i64)> = history
        .iter()
        .map(|c| (c.version.as_str(), c.since))
        .collect();
    assert_eq!(versions, [("v1", 10), ("v2", 20), ("v1", 30)]);
    assert_eq!(
        store.current_stable("hist").await?.map(|c| c.version),
        Some("v1".into())
    );

    let entries = store.list_versions("hist").await?;
    let periods: Vec<Vec<(i64, Option<i64>)>> = entries
        .iter()
        .map(|e| {
            e.stable_periods
                .iter()
                .map(|p| (p.since, p.until))
                .collect()
        })
        .collect();
    assert_eq!(
        periods,
        [vec![(10, Some(20)), (30, None)], vec![(20, Some(30))]]
    );
    assert!(entries[0].is_stable() && !entries[1].is_stable());
    assert_eq!(entries[1].stable_periods[0].actor, Actor::Controller);

    let unknown = store
        .record_stable(change("v9", 40, Actor::Controller))
        .await;
    not_found(unknown, "version");
    assert_eq!(store.stable_history("hist").await?.len(), 3);
    Ok(())
}

fn change(version: &str, since: i64, actor: Actor) -> StableChange {
    StableChange {
        service: "hist".into(),
        version: version.into(),
        since,
        actor,
        reason: format!("{version} is stable"),
    }
}
