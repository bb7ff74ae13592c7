//! Fencing: writes that land only while this replica is the leader. The guard is "the leader
//! key still has the create revision it had when we won the election"; it rides along as a
//! compare in every guarded write, so etcd checks it at the moment of the write — no clock on
//! this side is trusted.

use crate::wire::{CompareResult, TxnCompare};
use crate::{Etcd, EtcdError};

/// The condition guarded writes need: `key` exists with this create revision.
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
    /// The compare to add to a write.
    pub(crate) fn compare(&self) -> TxnCompare {
        TxnCompare::create_revision(self.key.clone(), CompareResult::Equal, self.create_revision)
    }

    /// True while the guard holds (read from etcd now).
    pub async fn holds(&self, etcd: &Etcd) -> Result<bool, EtcdError> {
        let kv = etcd.get(&self.key).await?;
        Ok(kv.is_some_and(|kv| kv.create_revision == self.create_revision))
    }

    /// The error for a write this guard refused.
    pub fn lost(&self) -> GuardLost {
        GuardLost {
            key: String::from_utf8_lossy(&self.key).into_owned(),
        }
    }
}
