//! The conformance suite, run against every implementation in this crate.

#![allow(clippy::unwrap_used)]

use rollgate_store::{MemStore, SqliteStore, conformance};

/// One test per check and implementation, each on a fresh store, so a failure names both.
macro_rules! conformance_tests {
    ($($check:ident),* $(,)?) => {
        mod mem {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    conformance::$check(&MemStore::new()).await.unwrap();
                }
            )*
        }
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = SqliteStore::open(dir.path().join("rollgate.db")).unwrap();
                    conformance::$check(&store).await.unwrap();
                }
            )*
        }
    };
}

conformance_tests!(
    services_round_trip,
    versions_are_immutable,
    stable_history_and_periods,
    rollouts_create_and_list,
    commit_appends_decisions,
    stale_commit_conflicts,
    concurrent_commits_one_wins,
    failed_commit_writes_nothing,
    invalid_commits_are_rejected,
    decisions_paginate,
    tokens_authenticate_and_revoke,
    experiments_round_trip,
    meta_round_trip,
);

#[tokio::test]
async fn every_check_on_one_mem_store() {
    conformance::run_all(&MemStore::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_on_one_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("rollgate.db")).unwrap();
    conformance::run_all(&store).await.unwrap();
    store.integrity_check().await.unwrap();
}
