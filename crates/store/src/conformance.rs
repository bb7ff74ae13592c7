//! The behaviour every [`Store`] must have, as a suite any implementation can run:
//! `conformance::run_all(&store).await` on an empty store, or one check at a time.
//!
//! Checks use their own service and rollout names, so they can share one store and run in any
//! order. They return the store's errors and panic (like `assert!`) when the store misbehaves.
//! The SQLite-only properties (durability across reopen, migrations, crash safety) are tested
//! in this crate's integration tests.

mod access;
mod catalog;
mod commits;
mod expect;
mod fixtures;
mod log;

pub use access::{experiments_round_trip, meta_round_trip, tokens_authenticate_and_revoke};
pub use catalog::{services_round_trip, stable_history_and_periods, versions_are_immutable};
pub use commits::{
    commit_appends_decisions, concurrent_commits_one_wins, failed_commit_writes_nothing,
    invalid_commits_are_rejected, rollouts_create_and_list, stale_commit_conflicts,
};
pub use fixtures::{decision, rollout, seed_service, service, version};
pub use log::decisions_paginate;

use crate::{Store, StoreError};

/// Runs every check, one after the other, on the same store.
pub async fn run_all(store: &dyn Store) -> Result<(), StoreError> {
    services_round_trip(store).await?;
    versions_are_immutable(store).await?;
    stable_history_and_periods(store).await?;
    rollouts_create_and_list(store).await?;
    commit_appends_decisions(store).await?;
    stale_commit_conflicts(store).await?;
    concurrent_commits_one_wins(store).await?;
    failed_commit_writes_nothing(store).await?;
    invalid_commits_are_rejected(store).await?;
    decisions_paginate(store).await?;
    tokens_authenticate_and_revoke(store).await?;
    experiments_round_trip(store).await?;
    meta_round_trip(store).await?;
    Ok(())
}
