//! A store that lets a test slip a concurrent write in front of the next commit, so the
//! commit meets a newer revision (`Conflict`) exactly as it would with two writers.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use rollgate_core::model::{DecisionRecord, UnixMillis, VersionSnapshot};
use rollgate_store::{
    CommitOutcome, DecisionQuery, ExperimentRecord, MemStore, RolloutCommit, RolloutFilter,
    RolloutRecord, ServiceRecord, StableChange, Store, StoreError, TokenRecord, VersionEntry,
};

pub struct RacingStore {
    pub inner: Arc<MemStore>,
    /// How many of the next commits get a concurrent write in front of them.
    races: AtomicU32,
    /// Commits that met a conflict.
    pub conflicts: AtomicU32,
}

impl RacingStore {
    pub fn new(inner: Arc<MemStore>) -> RacingStore {
        RacingStore {
            inner,
            races: AtomicU32::new(0),
            conflicts: AtomicU32::new(0),
        }
    }

    pub fn race_next(&self, n: u32) {
        self.races.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for RacingStore {
    async fn put_service(&self, s: ServiceRecord) -> Result<(), StoreError> {
        self.inner.put_service(s).await
    }
    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        self.inner.get_service(name).await
    }
    async fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        self.inner.list_services().await
    }
    async fn put_version(&self, v: VersionSnapshot) -> Result<bool, StoreError> {
        self.inner.put_version(v).await
    }
    async fn get_version(&self, s: &str, n: &str) -> Result<Option<VersionSnapshot>, StoreError> {
        self.inner.get_version(s, n).await
    }
    async fn list_versions(&self, s: &str) -> Result<Vec<VersionEntry>, StoreError> {
        self.inner.list_versions(s).await
    }
    async fn stable_history(&self, s: &str) -> Result<Vec<StableChange>, StoreError> {
        self.inner.stable_history(s).await
    }
    async fn record_stable(&self, c: StableChange) -> Result<(), StoreError> {
        self.inner.record_stable(c).await
    }
    async fn get_rollout(&self, name: &str) -> Result<Option<RolloutRecord>, StoreError> {
        self.inner.get_rollout(name).await
    }
    async fn list_rollouts(&self, f: &RolloutFilter) -> Result<Vec<RolloutRecord>, StoreError> {
        self.inner.list_rollouts(f).await
    }
    async fn commit(&self, commit: RolloutCommit) -> Result<CommitOutcome, StoreError> {
        let race = self
            .races
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if race && commit.expected_revision > 0 {
            // Someone else writes the same rollout first: same state, one revision later.
            if let Some(current) = self.inner.get_rollout(&commit.name).await? {
                let bump = RolloutCommit::update(&current, current.clone(), Vec::new());
                self.inner.commit(bump).await?;
            }
        }
        let result = self.inner.commit(commit).await;
        if matches!(result, Err(StoreError::Conflict { .. })) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    async fn list_decisions(&self, q: &DecisionQuery) -> Result<Vec<DecisionRecord>, StoreError> {
        self.inner.list_decisions(q).await
    }
    async fn count_decisions(&self, q: &DecisionQuery) -> Result<u64, StoreError> {
        self.inner.count_decisions(q).await
    }
    async fn put_experiment(&self, e: ExperimentRecord) -> Result<(), StoreError> {
        self.inner.put_experiment(e).await
    }
    async fn get_experiment(&self, n: &str) -> Result<Option<ExperimentRecord>, StoreError> {
        self.inner.get_experiment(n).await
    }
    async fn list_experiments(&self) -> Result<Vec<ExperimentRecord>, StoreError> {
        self.inner.list_experiments().await
    }
    async fn stop_experiment(
        &self,
        n: &str,
        at: UnixMillis,
    ) -> Result<ExperimentRecord, StoreError> {
        self.inner.stop_experiment(n, at).await
    }
    async fn insert_token(&self, t: TokenRecord) -> Result<(), StoreError> {
        self.inner.insert_token(t).await
    }
    async fn token_by_hash(&self, h: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.token_by_hash(h).await
    }
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list_tokens().await
    }
    async fn revoke_token(&self, n: &str, at: UnixMillis) -> Result<TokenRecord, StoreError> {
        self.inner.revoke_token(n, at).await
    }
    async fn get_meta(&self, k: &str) -> Result<Option<String>, StoreError> {
        self.inner.get_meta(k).await
    }
    async fn put_meta(&self, k: &str, v: &str) -> Result<(), StoreError> {
        self.inner.put_meta(k, v).await
    }
}
