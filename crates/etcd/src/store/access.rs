//! Tokens and experiments: the records changed in place with a read-check-write.
//!
//! Tokens live under their hash (what `authenticate` looks up); two small index keys map the
//! id and, while the token is active, the name to the hash, so "id, hash and active name are
//! unique" is three "absent" compares in one transaction.

use rollgate_core::model::UnixMillis;
use rollgate_store::{ExperimentRecord, ExperimentState, StoreError, TokenRecord};

use super::EtcdStore;
use super::codec::{backend, decode, encode, text};
use crate::wire::{CompareResult, RequestOp, TxnCompare};

/// Rounds of read-check-write when another writer changes the same record meanwhile.
const MAX_ROUNDS: usize = 32;

impl EtcdStore {
    pub(crate) async fn stop_experiment_record(
        &self,
        name: &str,
        at: UnixMillis,
    ) -> Result<ExperimentRecord, StoreError> {
        let key = self.layout.experiment(name);
        for _ in 0..MAX_ROUNDS {
            let kv = self
                .etcd
                .get(&key)
                .await
                .map_err(backend)?
                .ok_or_else(|| StoreError::not_found("experiment", name))?;
            let mut experiment: ExperimentRecord = decode(&kv)?;
            if experiment.state == ExperimentState::Stopped {
                return Ok(experiment);
            }
            experiment.state = ExperimentState::Stopped;
            experiment.stopped_at = Some(at);
            let unchanged =
                TxnCompare::mod_revision(key.clone(), CompareResult::Equal, kv.mod_revision);
            let op = RequestOp::put(key.clone(), encode(&experiment)?);
            if self.write(vec![unchanged], vec![op]).await? {
                return Ok(experiment);
            }
        }
        Err(contended("experiment", name))
    }

    pub(crate) async fn insert_token_record(&self, token: TokenRecord) -> Result<(), StoreError> {
        let l = &self.layout;
        let (by_hash, by_id, by_name) = (
            l.token(&token.hash),
            l.token_id(&token.id),
            l.token_name(&token.name),
        );
        let compare = vec![
            TxnCompare::absent(by_hash.clone()),
            TxnCompare::absent(by_id.clone()),
        ];
        let mut ops = vec![
            RequestOp::put(by_hash, encode(&token)?),
            RequestOp::put(by_id, token.hash.clone()),
        ];
        let mut compare = compare;
        if token.revoked_at.is_none() {
            compare.push(TxnCompare::absent(by_name.clone()));
            ops.push(RequestOp::put(by_name, token.hash.clone()));
        }
        if self.write(compare, ops).await? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists {
                kind: "token",
                name: token.name,
            })
        }
    }

    pub(crate) async fn revoke_token_record(
        &self,
        name_or_id: &str,
        at: UnixMillis,
    ) -> Result<TokenRecord, StoreError> {
        for _ in 0..MAX_ROUNDS {
            let Some((token, mod_revision)) = self.active_token(name_or_id).await? else {
                return Err(StoreError::not_found("token", name_or_id));
            };
            let key = self.layout.token(&token.hash);
            let name_key = self.layout.token_name(&token.name);
            let revoked = TokenRecord {
                revoked_at: Some(at),
                ..token
            };
            let compare = vec![
                TxnCompare::mod_revision(key.clone(), CompareResult::Equal, mod_revision),
                TxnCompare::value(
                    name_key.clone(),
                    CompareResult::Equal,
                    revoked.hash.clone().into_bytes(),
                ),
            ];
            let ops = vec![
                RequestOp::put(key, encode(&revoked)?),
                RequestOp::delete(name_key),
            ];
            if self.write(compare, ops).await? {
                return Ok(revoked);
            }
        }
        Err(contended("token", name_or_id))
    }

    /// The active token with this id, else the one with this name, and its key's mod revision.
    async fn active_token(
        &self,
        name_or_id: &str,
    ) -> Result<Option<(TokenRecord, i64)>, StoreError> {
        for index in [
            self.layout.token_id(name_or_id),
            self.layout.token_name(name_or_id),
        ] {
            let Some(hash) = self.etcd.get(&index).await.map_err(backend)? else {
                continue;
            };
            let hash = text(&hash)?;
            let Some(kv) = self
                .etcd
                .get(&self.layout.token(&hash))
                .await
                .map_err(backend)?
            else {
                continue;
            };
            let token: TokenRecord = decode(&kv)?;
            if token.revoked_at.is_none() {
                return Ok(Some((token, kv.mod_revision)));
            }
        }
        Ok(None)
    }
}

fn contended(kind: &str, name: &str) -> StoreError {
    StoreError::Invalid(format!(
        "{kind} {name:?} kept changing while it was being updated; retry"
    ))
}
