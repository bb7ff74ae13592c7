//! An in-memory store with the same semantics as the SQLite one, for tests of the controller
//! and the server. Nothing survives the process.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rollgate_core::model::{DecisionRecord, UnixMillis, VersionSnapshot};

use crate::{
    CommitOutcome, CurrentRollout, DecisionQuery, ExperimentRecord, ExperimentState, Order,
    RolloutCommit, RolloutFilter, RolloutRecord, ServiceRecord, StableChange, Store, StoreError,
    TokenRecord, VersionEntry, version_entries,
};

/// A [`Store`] kept in memory. Every method takes one short lock, so concurrent callers see
/// the same atomicity and conflicts as with SQLite.
#[derive(Debug, Default)]
pub struct MemStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    services: BTreeMap<String, ServiceRecord>,
    versions: BTreeMap<(String, String), VersionSnapshot>,
    stable: Vec<StableChange>,
    rollouts: BTreeMap<String, RolloutRecord>,
    /// The log in id order; a decision's id is its index + 1.
    decisions: Vec<DecisionRecord>,
    seqs: HashSet<(String, u64)>,
    experiments: BTreeMap<String, ExperimentRecord>,
    tokens: Vec<TokenRecord>,
    meta: BTreeMap<String, String>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every method validates before it mutates, so a panic elsewhere cannot leave the
        // state half-written: a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn require_service(&self, name: &str) -> Result<(), StoreError> {
        if self.services.contains_key(name) {
            Ok(())
        } else {
            Err(StoreError::not_found("service", name))
        }
    }

    fn require_version(&self, service: &str, version: &str) -> Result<(), StoreError> {
        if self
            .versions
            .contains_key(&(service.to_owned(), version.to_owned()))
        {
            Ok(())
        } else {
            Err(StoreError::not_found(
                "version",
                format!("{service}/{version}"),
            ))
        }
    }

    fn commit(&mut self, c: RolloutCommit) -> Result<CommitOutcome, StoreError> {
        let old = self.rollouts.get(&c.name);
        let revision = c.check(old.map(|r| CurrentRollout {
            revision: r.revision,
            next_seq: r.next_seq,
        }))?;
        let created_at = old.map_or(c.record.created_at, |r| r.created_at);
        self.require_service(&c.record.service)?;
        if let Some(change) = &c.stable_change {
            self.require_version(&change.service, &change.version)?;
        }
        let mut in_commit = HashSet::new();
        for d in &c.decisions {
            if self.seqs.contains(&(c.name.clone(), d.seq)) || !in_commit.insert(d.seq) {
                return Err(StoreError::DuplicateDecision {
                    rollout: c.name.clone(),
                    seq: d.seq,
                });
            }
        }
        let mut record = c.record;
        record.revision = revision;
        record.created_at = created_at;
        self.rollouts.insert(c.name.clone(), record);
        let mut decision_ids = Vec::with_capacity(c.decisions.len());
        for mut d in c.decisions {
            d.id = i64::try_from(self.decisions.len() + 1)
                .map_err(|_| StoreError::Invalid("the decision log is full".into()))?;
            decision_ids.push(d.id);
            self.seqs.insert((c.name.clone(), d.seq));
            self.decisions.push(d);
        }
        self.stable.extend(c.stable_change);
        Ok(CommitOutcome {
            revision,
            decision_ids,
        })
    }

    fn insert_token(&mut self, token: TokenRecord) -> Result<(), StoreError> {
        let taken = self.tokens.iter().find(|t| {
            t.id == token.id
                || t.hash == token.hash
                || (t.name == token.name && t.revoked_at.is_none())
        });
        if taken.is_some() {
            return Err(StoreError::AlreadyExists {
                kind: "token",
                name: token.name,
            });
        }
        self.tokens.push(token);
        Ok(())
    }
}

#[async_trait]
impl Store for MemStore {
    async fn put_service(&self, service: ServiceRecord) -> Result<(), StoreError> {
        self.state().services.insert(service.name.clone(), service);
        Ok(())
    }

    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        Ok(self.state().services.get(name).cloned())
    }

    async fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        Ok(self.state().services.values().cloned().collect())
    }

    async fn put_version(&self, version: VersionSnapshot) -> Result<bool, StoreError> {
        let mut st = self.state();
        st.require_service(&version.service)?;
        let key = (version.service.clone(), version.name.clone());
        match st.versions.get(&key) {
            Some(existing) if *existing == version => Ok(false),
            Some(_) => Err(StoreError::VersionExists {
                service: key.0,
                version: key.1,
            }),
            None => {
                st.versions.insert(key, version);
                Ok(true)
            }
        }
    }

    async fn get_version(
        &self,
        service: &str,
        name: &str,
    ) -> Result<Option<VersionSnapshot>, StoreError> {
        let key = (service.to_owned(), name.to_owned());
        Ok(self.state().versions.get(&key).cloned())
    }

    async fn list_versions(&self, service: &str) -> Result<Vec<VersionEntry>, StoreError> {
        let st = self.state();
        let mut snapshots: Vec<VersionSnapshot> = st
            .versions
            .values()
            .filter(|v| v.service == service)
            .cloned()
            .collect();
        snapshots.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
        let history: Vec<StableChange> = history_of(&st, service);
        Ok(version_entries(snapshots, &history))
    }

    async fn stable_history(&self, service: &str) -> Result<Vec<StableChange>, StoreError> {
        Ok(history_of(&self.state(), service))
    }

    async fn record_stable(&self, change: StableChange) -> Result<(), StoreError> {
        let mut st = self.state();
        st.require_version(&change.service, &change.version)?;
        st.stable.push(change);
        Ok(())
    }

    async fn get_rollout(&self, name: &str) -> Result<Option<RolloutRecord>, StoreError> {
        Ok(self.state().rollouts.get(name).cloned())
    }

    async fn list_rollouts(
        &self,
        filter: &RolloutFilter,
    ) -> Result<Vec<RolloutRecord>, StoreError> {
        let mut list: Vec<RolloutRecord> = self
            .state()
            .rollouts
            .values()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
        Ok(list)
    }

    async fn commit(&self, commit: RolloutCommit) -> Result<CommitOutcome, StoreError> {
        self.state().commit(commit)
    }

    async fn list_decisions(
        &self,
        query: &DecisionQuery,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let st = self.state();
        let matching = st.decisions.iter().filter(|d| query.matches(d));
        let limit = query.effective_limit() as usize;
        Ok(match query.order {
            Order::OldestFirst => matching.take(limit).cloned().collect(),
            Order::NewestFirst => matching.rev().take(limit).cloned().collect(),
        })
    }

    async fn count_decisions(&self, query: &DecisionQuery) -> Result<u64, StoreError> {
        let st = self.state();
        Ok(st.decisions.iter().filter(|d| query.matches(d)).count() as u64)
    }

    async fn put_experiment(&self, experiment: ExperimentRecord) -> Result<(), StoreError> {
        self.state()
            .experiments
            .insert(experiment.name.clone(), experiment);
        Ok(())
    }

    async fn get_experiment(&self, name: &str) -> Result<Option<ExperimentRecord>, StoreError> {
        Ok(self.state().experiments.get(name).cloned())
    }

    async fn list_experiments(&self) -> Result<Vec<ExperimentRecord>, StoreError> {
        Ok(self.state().experiments.values().cloned().collect())
    }

    async fn stop_experiment(
        &self,
        name: &str,
        at: UnixMillis,
    ) -> Result<ExperimentRecord, StoreError> {
        let mut st = self.state();
        let experiment = st
            .experiments
            .get_mut(name)
            .ok_or_else(|| StoreError::not_found("experiment", name))?;
        if experiment.state == ExperimentState::Running {
            experiment.state = ExperimentState::Stopped;
            experiment.stopped_at = Some(at);
        }
        Ok(experiment.clone())
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.state().insert_token(token)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.state().tokens.iter().find(|t| t.hash == hash).cloned())
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut tokens = self.state().tokens.clone();
        tokens.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(tokens)
    }

    async fn revoke_token(
        &self,
        name_or_id: &str,
        at: UnixMillis,
    ) -> Result<TokenRecord, StoreError> {
        let mut st = self.state();
        let find = |matches: &dyn Fn(&TokenRecord) -> bool| {
            st.tokens
                .iter()
                .position(|t| t.revoked_at.is_none() && matches(t))
        };
        let index = find(&|t| t.id == name_or_id)
            .or_else(|| find(&|t| t.name == name_or_id))
            .ok_or_else(|| StoreError::not_found("token", name_or_id))?;
        st.tokens[index].revoked_at = Some(at);
        Ok(st.tokens[index].clone())
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state().meta.get(key).cloned())
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.state().meta.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

fn history_of(st: &State, service: &str) -> Vec<StableChange> {
    st.stable
        .iter()
        .filter(|c| c.service == service)
        .cloned()
        .collect()
}
