//! What only the SQLite store has: a file that outlives the process, migrations, and other
//! processes (connections) writing the same file.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rollgate_core::Ppm;
use rollgate_core::model::Action;
use rollgate_store::conformance::{decision, rollout, seed_service};
use rollgate_store::{
    DecisionQuery, RolloutCommit, RolloutFilter, SqliteStore, Store, StoreError, conformance,
};

/// Everything a store holds, read through the trait, for before/after comparisons.
async fn dump(store: &dyn Store) -> String {
    let mut out = Vec::new();
    for service in store.list_services().await.unwrap() {
        out.push(format!("{service:?}"));
        out.push(format!(
            "{:?}",
            store.list_versions(&service.name).await.unwrap()
        ));
    }
    out.push(format!(
        "{:?}",
        store
            .list_rollouts(&RolloutFilter::default())
            .await
            .unwrap()
    ));
    let mut query = DecisionQuery {
        limit: Some(DecisionQuery::MAX_LIMIT),
        ..DecisionQuery::default()
    };
    loop {
        let page = store.list_decisions(&query).await.unwrap();
        let Some(last) = page.last() else { break };
        query.after_id = Some(last.id);
        out.push(format!("{page:?}"));
    }
    out.push(format!("{:?}", store.list_tokens().await.unwrap()));
    out.push(format!("{:?}", store.list_experiments().await.unwrap()));
    out.push(format!(
        "{:?}",
        store.get_meta("meta-snapshot-revision").await.unwrap()
    ));
    out.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("rollgate.db");
    let store = SqliteStore::open(&path).unwrap();
    conformance::run_all(&store).await.unwrap();
    let (_, secret) = store
        .create_token("reopen", rollgate_store::Role::Admin, 1)
        .await
        .unwrap();
    let before = dump(&store).await;
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(dump(&reopened).await, before);
    assert!(
        before.contains("page-bulk") && before.contains("tok-ci"),
        "the dump is not empty"
    );
    let token = reopened.authenticate(secret.expose()).await.unwrap();
    assert_eq!(token.map(|t| t.name), Some("reopen".to_owned()));
    reopened.integrity_check().await.unwrap();
}

#[tokio::test]
async fn an_empty_file_is_migrated() {
    let file = tempfile::NamedTempFile::new().unwrap();
    assert_eq!(std::fs::metadata(file.path()).unwrap().len(), 0);
    let store = SqliteStore::open(file.path()).unwrap();
    seed_service(&store, "shop").await.unwrap();
    let versions = store.list_versions("shop").await.unwrap();
    assert_eq!(versions.len(), 2);

    let conn = rusqlite::Connection::open(file.path()).unwrap();
    let applied: u32 = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(applied, SqliteStore::schema_version());
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.db");
    drop(SqliteStore::open(&path).unwrap());
    let newer = SqliteStore::schema_version() + 1;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations VALUES (?1, 'from the future', 0)",
        [newer],
    )
    .unwrap();
    drop(conn);

    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, .. } if found == newer),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("rollgate.db") && message.contains("upgrade"),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the tables you are looking for\n".repeat(200),
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
}

#[tokio::test]
async fn decisions_and_versions_cannot_be_edited_behind_the_stores_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.db");
    let store = SqliteStore::open(&path).unwrap();
    seed_service(&store, "shop").await.unwrap();
    let current = store.create_rollout(rollout("r", "shop")).await.unwrap();
    let commit = RolloutCommit::update(
        &current,
        current.clone(),
        vec![decision(Action::Hold, 0, 0, 1)],
    );
    store.commit(commit).await.unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE decisions SET reason = 'rewritten'",
        "DELETE FROM decisions",
        "UPDATE versions SET endpoints = '[]'",
        "DELETE FROM versions",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("never")
                || err.to_string().contains("only")
                || err.to_string().contains("immutable"),
            "{sql}: {err}"
        );
    }
}

/// Two processes on one file (two connections here): commits based on the same revision never
/// both succeed, because the revision is read under the write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_never_both_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    seed_service(&a, "shop").await.unwrap();
    a.create_rollout(rollout("r", "shop")).await.unwrap();

    for round in 0..25u64 {
        let current = a.get_rollout("r").await.unwrap().unwrap();
        let attempt = |store: SqliteStore, weight: u32| {
            let mut next = current.clone();
            next.weight = Ppm::percent(weight);
            let commit = RolloutCommit::update(
                &current,
                next,
                vec![decision(Action::SetWeight, 0, weight, 1)],
            );
            tokio::spawn(async move { store.commit(commit).await })
        };
        let (x, y) = (attempt(a.clone(), 10), attempt(b.clone(), 20));
        let results = [x.await.unwrap(), y.await.unwrap()];
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { .. })))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "round {round}: {results:?}");
    }
    let end = b.get_rollout("r").await.unwrap().unwrap();
    assert_eq!((end.revision, end.next_seq), (26, 25));
    assert_eq!(
        a.count_decisions(&DecisionQuery::for_rollout("r"))
            .await
            .unwrap(),
        25
    );
}

#[tokio::test]
async fn usable_as_a_shared_trait_object() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("rollgate.db")).unwrap());
    let handle = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { seed_service(store.as_ref(), "shop").await })
    };
    handle.await.unwrap().unwrap();
    assert_eq!(store.list_versions("shop").await.unwrap().len(), 2);
}
