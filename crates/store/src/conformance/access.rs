//! Tokens, experiments and small named values.

use serde_json::json;

use super::expect::not_found;
use crate::{ExperimentRecord, ExperimentState, Role, SECRET_PREFIX, Store, StoreError};

/// Tokens authenticate by secret until revoked; only the hash is stored; an active name is
/// unique, and a revoked token's name can be reused.
pub async fn tokens_authenticate_and_revoke(store: &dyn Store) -> Result<(), StoreError> {
    let (ci, ci_secret) = store.create_token("tok-ci", Role::Operator, 100).await?;
    let (admin, admin_secret) = store.create_token("tok-admin", Role::Admin, 200).await?;
    assert!(ci_secret.expose().starts_with(SECRET_PREFIX));
    assert_eq!(ci.hash, ci_secret.hash());
    assert_ne!(ci.hash, ci_secret.expose());

    assert_eq!(
        store.authenticate(ci_secret.expose()).await?,
        Some(ci.clone())
    );
    assert_eq!(
        store
            .authenticate(admin_secret.expose())
            .await?
            .map(|t| t.role),
        Some(Role::Admin)
    );
    assert_eq!(store.authenticate("rg_not-a-token").await?, None);
    assert_eq!(store.authenticate("").await?, None);

    let taken = store.create_token("tok-ci", Role::Viewer, 300).await;
    assert!(
        matches!(taken, Err(StoreError::AlreadyExists { kind: "token", .. })),
        "{taken:?}"
    );

    let revoked = store.revoke_token("tok-ci", 400).await?;
    assert_eq!(
        (revoked.id.as_str(), revoked.revoked_at),
        (ci.id.as_str(), Some(400))
    );
    assert_eq!(store.authenticate(ci_secret.expose()).await?, None);
    let again = store.revoke_token("tok-ci", 500).await;
    not_found(again, "token");

    let (ci2, ci2_secret) = store.create_token("tok-ci", Role::Viewer, 600).await?;
    assert_eq!(
        store.authenticate(ci2_secret.expose()).await?,
        Some(ci2.clone())
    );
    store.revoke_token(&admin.id, 700).await?;
    assert_eq!(store.authenticate(admin_secret.expose()).await?, None);

    let mine: Vec<(String, Option<i64>)> = store
        .list_tokens()
        .await?
        .into_iter()
        .filter(|t| t.name.starts_with("tok-"))
        .map(|t| (t.id, t.revoked_at))
        .collect();
    assert_eq!(
        mine,
        [
            (ci.id, Some(400)),
            (admin.id, Some(700)),
            (ci2.id.clone(), None)
        ]
    );
    assert_eq!(store.token_by_hash(&ci2.hash).await?, Some(ci2));
    Ok(())
}

/// Experiments are stored, replaced, listed by name and stopped once.
pub async fn experiments_round_trip(store: &dyn Store) -> Result<(), StoreError> {
    let running = |name: &str| ExperimentRecord {
        name: name.into(),
        spec: json!({ "layer": "checkout", "variants": ["control", "green"] }),
        state: ExperimentState::Running,
        created_at: 1_000,
        stopped_at: None,
    };
    store.put_experiment(running("exp-b")).await?;
    store.put_experiment(running("exp-a")).await?;
    let mut changed = running("exp-a");
    changed.spec = json!({ "layer": "checkout", "allocation": "40%" });
    store.put_experiment(changed.clone()).await?;
    assert_eq!(store.get_experiment("exp-a").await?, Some(changed));
    assert_eq!(store.get_experiment("exp-none").await?, None);

    let stopped = store.stop_experiment("exp-b", 2_000).await?;
    assert_eq!(
        (stopped.state, stopped.stopped_at),
        (ExperimentState::Stopped, Some(2_000))
    );
    let again = store.stop_experiment("exp-b", 3_000).await?;
    assert_eq!(
        again.stopped_at,
        Some(2_000),
        "stopping twice keeps the first stop time"
    );
    assert_eq!(store.get_experiment("exp-b").await?, Some(again));
    let missing = store.stop_experiment("exp-none", 1).await;
    not_found(missing, "experiment");

    let names: Vec<String> = store
        .list_experiments()
        .await?
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n.starts_with("exp-"))
        .collect();
    assert_eq!(names, ["exp-a", "exp-b"]);
    Ok(())
}

/// Small named values are set, replaced and read back.
pub async fn meta_round_trip(store: &dyn Store) -> Result<(), StoreError> {
    assert_eq!(store.get_meta("meta-snapshot-revision").await?, None);
    store.put_meta("meta-snapshot-revision", "41").await?;
    store.put_meta("meta-snapshot-revision", "42").await?;
    assert_eq!(
        store.get_meta("meta-snapshot-revision").await?.as_deref(),
        Some("42")
    );
    Ok(())
}
