//! [`EtcdPublisher`]: the leader writes each routing snapshot to `<prefix>/snapshot`. A write
//! lands only if it is newer than what etcd holds (checked in the same transaction), and, for
//! a guarded publisher, only while this replica still leads — so neither a retry nor a deposed
//! leader can move edges back to an older snapshot.

use async_trait::async_trait;
use rollgate_control::{PublishError, Snapshot, SnapshotPublisher};

use crate::cluster::Stamp;
use crate::wire::{CompareResult, RequestOp, TxnCompare, TxnRequest};
use crate::{ClusterKeys, Etcd, WriteGuard};

/// Rounds of read-compare-write when the key changes between the read and the write.
const MAX_ROUNDS: usize = 8;

/// Publishes routing snapshots to etcd for every edge to watch.
#[derive(Clone, Debug)]
pub struct EtcdPublisher {
    etcd: Etcd,
    keys: ClusterKeys,
    guard: Option<WriteGuard>,
}

impl EtcdPublisher {
    /// A publisher writing under `keys`.
    pub fn new(etcd: Etcd, keys: ClusterKeys) -> EtcdPublisher {
        EtcdPublisher {
            etcd,
            keys,
            guard: None,
        }
    }

    /// The same publisher, writing only while `guard` holds.
    pub fn with_guard(mut self, guard: WriteGuard) -> EtcdPublisher {
        self.guard = Some(guard);
        self
    }

    /// The snapshot etcd holds now, if any.
    pub async fn current(&self) -> Result<Option<Snapshot>, crate::EtcdError> {
        let Some(kv) = self.etcd.get(&self.keys.snapshot()).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&kv.value)
            .map(Some)
            .map_err(|e| crate::EtcdError::Decode {
                endpoint: self.etcd.preferred_endpoint(),
                call: "/v3/kv/range",
                reason: format!("the stored snapshot is not readable: {e}"),
            })
    }

    async fn try_publish(&self, snapshot: &Snapshot, value: &[u8]) -> Result<bool, String> {
        let key = self.keys.snapshot();
        let stored = self.etcd.get(&key).await.map_err(|e| e.to_string())?;
        if let Some(kv) = &stored
            && let Ok(stamp) = serde_json::from_slice::<Stamp>(&kv.value)
        {
            if stamp.revision > snapshot.revision
                || (stamp.revision == snapshot.revision && stamp.checksum != snapshot.checksum)
            {
                return Err(format!(
                    "etcd already holds snapshot {} ({}); refusing to replace it with {} ({}): \
                     another control plane is publishing",
                    stamp.revision, stamp.checksum, snapshot.revision, snapshot.checksum
                ));
            }
            if stamp.revision == snapshot.revision {
                return Ok(true);
            }
        }
        let mut compare = vec![TxnCompare::mod_revision(
            key.clone(),
            CompareResult::Equal,
            stored.map_or(0, |kv| kv.mod_revision),
        )];
        compare.extend(self.guard.as_ref().map(WriteGuard::compare));
        let txn = TxnRequest {
            compare,
            success: vec![RequestOp::put(key, value.to_vec())],
            failure: Vec::new(),
        };
        let resp = self.etcd.txn(&txn).await.map_err(|e| e.to_string())?;
        if !resp.succeeded
            && let Some(g) = &self.guard
            && !g.holds(&self.etcd).await.map_err(|e| e.to_string())?
        {
            return Err(g.lost().to_string());
        }
        Ok(resp.succeeded)
    }
}

#[async_trait]
impl SnapshotPublisher for EtcdPublisher {
    async fn publish(&self, snapshot: &Snapshot) -> Result<(), PublishError> {
        let fail = |reason: String| PublishError {
            revision: snapshot.revision,
            reason,
        };
        let value = serde_json::to_vec(snapshot).map_err(|e| fail(e.to_string()))?;
        for _ in 0..MAX_ROUNDS {
            if self.try_publish(snapshot, &value).await.map_err(fail)? {
                return Ok(());
            }
        }
        Err(fail(
            "the snapshot key kept changing during the write".into(),
        ))
    }
}
