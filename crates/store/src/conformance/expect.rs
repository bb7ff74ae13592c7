//! Assertions and reads the checks share.

use std::fmt::Debug;

use crate::{DecisionQuery, RolloutRecord, Store, StoreError};

/// Panics unless `result` is a `NotFound` for a record of `kind`.
pub(super) fn not_found<T: Debug>(result: Result<T, StoreError>, kind: &str) {
    assert!(
        matches!(&result, Err(StoreError::NotFound { kind: k, .. }) if *k == kind),
        "expected: {kind} does not exist; got {result:?}"
    );
}

/// The stored rollout, which must exist.
pub(super) async fn stored_rollout(
    store: &dyn Store,
    name: &str,
) -> Result<RolloutRecord, StoreError> {
    store
        .get_rollout(name)
        .await?
        .ok_or_else(|| StoreError::not_found("rollout", name))
}

/// How many decisions the rollout has.
pub(super) async fn decision_count(store: &dyn Store, rollout: &str) -> Result<u64, StoreError> {
    store
        .count_decisions(&DecisionQuery::for_rollout(rollout))
        .await
}
