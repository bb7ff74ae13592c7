//! Fencing: a store handle that writes only while this replica is the leader. The guard is
//! "the leader key still has the create revision it had when we won the election"; it rides
//! along as a compare in every write, so it is checked by etcd at the moment of the write, not
//! by a clock here.

use rollgate_store::StoreError;

use super::EtcdStore;
use crate::wire::{CompareResult, TxnCompare, TxnRequest};

/// The condition a guarded store's writes need: `key` exists with this create revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteGuard {
    /// The key (the leader key).
    pub key: Vec<u8>,
    /// Its create revision when it was ours.
    pub create_revision: i64,
}

/// A guarded write was refused: the guard no longer holds (another replica leads now).
#[derive(Debug, thiserror::Error)]
#[error(
    "this control-plane replica is no longer the leader (etcd key {key} changed); \
     the write was refused and nothing was written"
)]
pub struct GuardLost {
    /// The guard key.
    pub key: String,
}

impl WriteGuard {
    fn compare(&self) -> TxnCompare {
        TxnCompare::create_revision(self.key.clone(), CompareResult::Equal, self.create_revision)
    }
}

impl EtcdStore {
    /// `txn` with the guard's compare added.
    pub(crate) fn guarded(&self, mut txn: TxnRequest) -> TxnRequest {
        if let Some(g) = &self.guard {
            txn.compare.push(g.compare());
        }
        txn
    }

    /// After a failed transaction: `GuardLost` if the guard no longer holds.
    pub(crate) async fn check_guard(&self) -> Result<(), StoreError> {
        let Some(g) = &self.guard else {
            return Ok(());
        };
        let current = self.etcd.get(&g.key).await.map_err(super::codec::backend)?;
        if current.is_some_and(|kv| kv.create_revision == g.create_revision) {
            Ok(())
        } else {
            Err(StoreError::backend(GuardLost {
                key: String::from_utf8_lossy(&g.key).into_owned(),
            }))
        }
    }
}
