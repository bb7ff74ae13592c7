//! [`EtcdStore`]: the [`Store`] every control-plane replica shares in distributed mode. The
//! key layout is in [`layout`]; the one multi-key write, `commit`, in [`commit`].
//!
//! Why etcd and not PostgreSQL: operators already run etcd for the snapshots and the leader
//! election, so the store adds no system to run; a transaction with compares gives the same
//! guarantees as SQLite's `BEGIN IMMEDIATE` for this data (revision checks, unique
//! `(rollout, seq)`, gap-free decision ids); and the volumes are small (a few decisions per
//! rollout step).

mod access;
mod catalog;
mod codec;
mod commit;
mod guard;
mod io;
mod layout;
mod log;

use async_trait::async_trait;
use rollgate_core::model::{DecisionRecord, UnixMillis, VersionSnapshot};
use rollgate_store::{
    CommitOutcome, DecisionQuery, ExperimentRecord, RolloutCommit, RolloutFilter, RolloutRecord,
    ServiceRecord, StableChange, Store, StoreError, TokenRecord, VersionEntry,
};

use crate::store::layout::Layout;
use crate::{Etcd, WriteGuard};

/// A [`Store`] in etcd under a key prefix (`/rollgate` by default). Cheap to clone.
///
/// A handle made with [`EtcdStore::with_guard`] writes only while its [`WriteGuard`] holds
/// (the replica is still the leader): every write carries the guard as a compare, so a
/// deposed leader's late write fails instead of landing.
#[derive(Clone, Debug)]
pub struct EtcdStore {
    etcd: Etcd,
    layout: Layout,
    prefix: String,
    guard: Option<WriteGuard>,
}

impl EtcdStore {
    /// The store under `prefix` (`/rollgate`) of the cluster `etcd` talks to.
    pub fn new(etcd: Etcd, prefix: &str) -> EtcdStore {
        EtcdStore {
            etcd,
            layout: Layout::new(prefix),
            prefix: prefix.trim_end_matches('/').to_owned(),
            guard: None,
        }
    }

    /// A handle on the same store whose writes only land while `guard` holds.
    pub fn with_guard(&self, guard: WriteGuard) -> EtcdStore {
        EtcdStore {
            guard: Some(guard),
            ..self.clone()
        }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The client.
    pub fn etcd(&self) -> &Etcd {
        &self.etcd
    }
}

#[async_trait]
impl Store for EtcdStore {
    async fn put_service(&self, service: ServiceRecord) -> Result<(), StoreError> {
        self.put_service_record(service).await
    }

    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        self.get_record(self.layout.service(name)).await
    }

    async fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        let mut list: Vec<ServiceRecord> = self.list_records(self.layout.services()).await?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    async fn put_version(&self, version: VersionSnapshot) -> Result<bool, StoreError> {
        self.put_version_record(version).await
    }

    async fn get_version(
        &self,
        service: &str,
        name: &str,
    ) -> Result<Option<VersionSnapshot>, StoreError> {
        self.get_record(self.layout.version(service, name)).await
    }

    async fn list_versions(&self, service: &str) -> Result<Vec<VersionEntry>, StoreError> {
        self.version_entries(service).await
    }

    async fn stable_history(&self, service: &str) -> Result<Vec<StableChange>, StoreError> {
        self.list_records(self.layout.stables(service)).await
    }

    async fn record_stable(&self, change: StableChange) -> Result<(), StoreError> {
        self.append_stable(change).await
    }

    async fn get_rollout(&self, name: &str) -> Result<Option<RolloutRecord>, StoreError> {
        let stored: Option<codec::StoredRollout> =
            self.get_record(self.layout.rollout(name)).await?;
        Ok(stored.map(|s| s.record))
    }

    async fn list_rollouts(
        &self,
        filter: &RolloutFilter,
    ) -> Result<Vec<RolloutRecord>, StoreError> {
        let stored: Vec<codec::StoredRollout> = self.list_records(self.layout.rollouts()).await?;
        let mut list: Vec<RolloutRecord> = stored
            .into_iter()
            .map(|s| s.record)
            .filter(|r| filter.matches(r))
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
        Ok(list)
    }

    async fn commit(&self, commit: RolloutCommit) -> Result<CommitOutcome, StoreError> {
        self.commit_rollout(commit).await
    }

    async fn list_decisions(
        &self,
        query: &DecisionQuery,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        self.decisions(query, query.effective_limit() as usize)
            .await
    }

    async fn count_decisions(&self, query: &DecisionQuery) -> Result<u64, StoreError> {
        self.count(query).await
    }

    async fn put_experiment(&self, experiment: ExperimentRecord) -> Result<(), StoreError> {
        let key = self.layout.experiment(&experiment.name);
        self.put_json(key, &experiment).await
    }

    async fn get_experiment(&self, name: &str) -> Result<Option<ExperimentRecord>, StoreError> {
        self.get_record(self.layout.experiment(name)).await
    }

    async fn list_experiments(&self) -> Result<Vec<ExperimentRecord>, StoreError> {
        let mut list: Vec<ExperimentRecord> = self.list_records(self.layout.experiments()).await?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    async fn stop_experiment(
        &self,
        name: &str,
        at: UnixMillis,
    ) -> Result<ExperimentRecord, StoreError> {
        self.stop_experiment_record(name, at).await
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.insert_token_record(token).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.get_record(self.layout.token(hash)).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut tokens: Vec<TokenRecord> = self.list_records(self.layout.tokens()).await?;
        tokens.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(tokens)
    }

    async fn revoke_token(
        &self,
        name_or_id: &str,
        at: UnixMillis,
    ) -> Result<TokenRecord, StoreError> {
        self.revoke_token_record(name_or_id, at).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self
            .etcd
            .get(&self.layout.meta(key))
            .await
            .map_err(codec::backend)?
        {
            Some(kv) => codec::text(&kv).map(Some),
            None => Ok(None),
        }
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let op = crate::wire::RequestOp::put(self.layout.meta(key), value);
        self.write(Vec::new(), vec![op]).await.map(|_| ())
    }
}
