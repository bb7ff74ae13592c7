//! Reads and writes every record kind shares: one JSON record by key, every record under a
//! prefix, and guarded writes.

use rollgate_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::EtcdStore;
use super::codec::{backend, decode, decode_all, encode};
use crate::wire::{RequestOp, TxnCompare, TxnRequest};

impl EtcdStore {
    /// The record at `key`.
    pub(crate) async fn get_record<T: DeserializeOwned>(
        &self,
        key: Vec<u8>,
    ) -> Result<Option<T>, StoreError> {
        match self.etcd.get(&key).await.map_err(backend)? {
            Some(kv) => decode(&kv).map(Some),
            None => Ok(None),
        }
    }

    /// Every record under `prefix`, in key order.
    pub(crate) async fn list_records<T: DeserializeOwned>(
        &self,
        prefix: Vec<u8>,
    ) -> Result<Vec<T>, StoreError> {
        let kvs = self.etcd.get_prefix(&prefix).await.map_err(backend)?;
        decode_all(&kvs)
    }

    /// Writes `value` as JSON at `key` (guarded).
    pub(crate) async fn put_json<T: Serialize>(
        &self,
        key: Vec<u8>,
        value: &T,
    ) -> Result<(), StoreError> {
        self.write(Vec::new(), vec![RequestOp::put(key, encode(value)?)])
            .await
            .map(|_| ())
    }

    /// Runs `ops` if `compare` (and the guard) hold. `Ok(false)`: a compare of `compare`
    /// failed; `GuardLost`: the guard did.
    pub(crate) async fn write(
        &self,
        compare: Vec<TxnCompare>,
        ops: Vec<RequestOp>,
    ) -> Result<bool, StoreError> {
        let txn = self.guarded(TxnRequest {
            compare,
            success: ops,
            failure: Vec::new(),
        });
        let resp = self.etcd.txn(&txn).await.map_err(backend)?;
        if !resp.succeeded {
            self.check_guard().await?;
        }
        Ok(resp.succeeded)
    }
}
