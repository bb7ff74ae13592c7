//! Values as stored: JSON documents, a rollout together with the decision seqs it has
//! recorded, and the mapping of etcd failures onto [`StoreError`].

use rollgate_store::{RolloutRecord, StoreError};

use crate::seqs::SeqSet;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::EtcdError;
use crate::wire::KeyValue;

/// A rollout's key: its record and the seqs of every decision recorded for it, so a commit
/// can refuse a repeated `(rollout, seq)` by reading one key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRollout {
    pub record: RolloutRecord,
    pub seqs: SeqSet,
}

/// A backend failure from etcd.
pub(crate) fn backend(e: EtcdError) -> StoreError {
    StoreError::backend(e)
}

/// The JSON of a record.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value)
        .map_err(|e| StoreError::Invalid(format!("cannot encode a record: {e}")))
}

/// A record from its key, or `Corrupt` naming the key.
pub(crate) fn decode<T: DeserializeOwned>(kv: &KeyValue) -> Result<T, StoreError> {
    serde_json::from_slice(&kv.value)
        .map_err(|e| StoreError::Corrupt(format!("etcd key {}: {e}", kv.key_lossy())))
}

/// Every record of a prefix read.
pub(crate) fn decode_all<T: DeserializeOwned>(kvs: &[KeyValue]) -> Result<Vec<T>, StoreError> {
    kvs.iter().map(decode).collect()
}

/// A text value.
pub(crate) fn text(kv: &KeyValue) -> Result<String, StoreError> {
    kv.value_str()
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Corrupt(format!("etcd key {} is not UTF-8", kv.key_lossy())))
}
