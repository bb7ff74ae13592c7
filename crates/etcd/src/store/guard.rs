//! Guarded writes of the store: the guard's compare goes into every write transaction, and a
//! failed transaction is checked against it so the caller learns it is no longer the leader.

use rollgate_store::StoreError;

use super::EtcdStore;
use super::codec::backend;
use crate::wire::TxnRequest;

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
        match &self.guard {
            Some(g) if !g.holds(&self.etcd).await.map_err(backend)? => {
                Err(StoreError::backend(g.lost()))
            }
            _ => Ok(()),
        }
    }
}
