//! The `Store` trait: everything the control plane persists, behind one narrow interface that
//! says nothing about SQL, so SQLite, memory and (later) etcd or PostgreSQL can implement it.

use async_trait::async_trait;
use rollgate_core::model::{DecisionRecord, UnixMillis, VersionSnapshot};

use crate::{
    CommitOutcome, DecisionQuery, ExperimentRecord, Role, RolloutCommit, RolloutFilter,
    RolloutRecord, Secret, ServiceRecord, StableChange, StoreError, TokenRecord, VersionEntry,
    new_token,
};

/// Everything the control plane persists. Held as `Arc<dyn Store>`.
///
/// Guarantees every implementation keeps (checked by [`crate::conformance`]):
/// - a successful write is durable before the call returns;
/// - [`Store::commit`] is all or nothing, and two commits based on the same revision cannot
///   both succeed;
/// - versions are immutable and the decision log is append-only, with `(rollout, seq)` unique.
///
/// Lists come back in a stable order, documented on each method.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates or replaces a service's spec.
    async fn put_service(&self, service: ServiceRecord) -> Result<(), StoreError>;

    /// A service by name.
    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError>;

    /// Every service, by name.
    async fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError>;

    /// Records a version snapshot of an existing service. Returns `true` when it was new and
    /// `false` when the identical snapshot was already recorded; a different snapshot under
    /// the same name fails with `VersionExists`.
    async fn put_version(&self, version: VersionSnapshot) -> Result<bool, StoreError>;

    /// One version snapshot.
    async fn get_version(
        &self,
        service: &str,
        name: &str,
    ) -> Result<Option<VersionSnapshot>, StoreError>;

    /// Every version of a service with the periods it was stable, oldest snapshot first
    /// (by `created_at`, then name). Empty for an unknown service.
    async fn list_versions(&self, service: &str) -> Result<Vec<VersionEntry>, StoreError>;

    /// Every change of the service's stable version, in the order they were recorded; the last
    /// one names the current stable version.
    async fn stable_history(&self, service: &str) -> Result<Vec<StableChange>, StoreError>;

    /// Records a stable version that is not the result of a rollout decision (the first stable
    /// version of a service, from config). Promotions and restores go through
    /// [`Store::commit`] so their decision is written with them. The version must exist.
    async fn record_stable(&self, change: StableChange) -> Result<(), StoreError>;

    /// The service's current stable version, if one was ever recorded.
    async fn current_stable(&self, service: &str) -> Result<Option<StableChange>, StoreError> {
        Ok(self.stable_history(service).await?.pop())
    }

    /// Creates a rollout of an existing service, with no decisions yet. Fails with
    /// `AlreadyExists` when the name is taken. Returns the stored record (revision 1).
    async fn create_rollout(&self, record: RolloutRecord) -> Result<RolloutRecord, StoreError> {
        let name = record.name.clone();
        let mut stored = record.clone();
        match self.commit(RolloutCommit::create(record, Vec::new())).await {
            Ok(outcome) => {
                stored.revision = outcome.revision;
                Ok(stored)
            }
            Err(StoreError::Conflict { .. }) => Err(StoreError::AlreadyExists {
                kind: "rollout",
                name,
            }),
            Err(e) => Err(e),
        }
    }

    /// A rollout by name.
    async fn get_rollout(&self, name: &str) -> Result<Option<RolloutRecord>, StoreError>;

    /// The rollouts that pass `filter`, oldest first (by `created_at`, then name).
    async fn list_rollouts(&self, filter: &RolloutFilter)
    -> Result<Vec<RolloutRecord>, StoreError>;

    /// Writes a rollout's new state, its decisions and an optional stable change in one
    /// transaction: either all of it is durable when this returns `Ok`, or none of it is.
    ///
    /// Fails with `Conflict` when the rollout's revision is not `expected_revision` (re-read and
    /// decide again), `NotFound` when it, its service or the new stable version does not
    /// exist, `DuplicateDecision` when a decision's `(rollout, seq)` is already recorded, and
    /// `Invalid` when the commit contradicts itself (see [`RolloutCommit::check`]).
    async fn commit(&self, commit: RolloutCommit) -> Result<CommitOutcome, StoreError>;

    /// A page of the decision log; see [`DecisionQuery`] for filters, cursors and order.
    async fn list_decisions(
        &self,
        query: &DecisionQuery,
    ) -> Result<Vec<DecisionRecord>, StoreError>;

    /// How many decisions pass the query's filters and cursors (limit and order ignored).
    async fn count_decisions(&self, query: &DecisionQuery) -> Result<u64, StoreError>;

    /// Creates or replaces an experiment.
    async fn put_experiment(&self, experiment: ExperimentRecord) -> Result<(), StoreError>;

    /// An experiment by name.
    async fn get_experiment(&self, name: &str) -> Result<Option<ExperimentRecord>, StoreError>;

    /// Every experiment, by name.
    async fn list_experiments(&self) -> Result<Vec<ExperimentRecord>, StoreError>;

    /// Stops a running experiment at `at` and returns it. Stopping a stopped experiment
    /// changes nothing (it keeps its first stop time).
    async fn stop_experiment(
        &self,
        name: &str,
        at: UnixMillis,
    ) -> Result<ExperimentRecord, StoreError>;

    /// Stores a token record (its secret must already be hashed). Fails with `AlreadyExists`
    /// when a token that is not revoked has the same name, or the id or hash is taken.
    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError>;

    /// Creates a token with a fresh random secret. The secret is returned once and never
    /// stored; only its hash is.
    async fn create_token(
        &self,
        name: &str,
        role: Role,
        created_at: UnixMillis,
    ) -> Result<(TokenRecord, Secret), StoreError> {
        let (record, secret) = new_token(name, role, created_at)?;
        self.insert_token(record.clone()).await?;
        Ok((record, secret))
    }

    /// The token whose secret hashes to `hash` (revoked or not).
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// The token a client presented, if it exists and is not revoked.
    async fn authenticate(&self, secret: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = Secret::new(secret).hash();
        Ok(self
            .token_by_hash(&hash)
            .await?
            .filter(|t| t.revoked_at.is_none()))
    }

    /// Every token, revoked ones included, oldest first (by `created_at`, then id).
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes the token that is not revoked yet and has this id or name; returns it.
    async fn revoke_token(
        &self,
        name_or_id: &str,
        at: UnixMillis,
    ) -> Result<TokenRecord, StoreError>;

    /// A small named value (the last published snapshot revision, the ingest key hash…).
    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets a small named value.
    async fn put_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;
}
