//! Routing snapshots leave the control plane through a [`SnapshotPublisher`]: the in-process
//! edge of `rollgate serve` ([`InProcess`]), a recording fake for tests, and (issue #10) etcd.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use rollgate_core::{EdgeContext, RoutingSpec, RoutingTable};
use rollgate_edge::TableHandle;
use serde::{Deserialize, Serialize};

/// One routing snapshot: the document every edge runs, numbered and checksummed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Grows by one with every snapshot the control plane builds; kept in the store (meta key
    /// [`Snapshot::REVISION_KEY`]), so it keeps growing across restarts.
    pub revision: u64,
    /// The services (with their current stable version), the active rollouts at their current
    /// weights, and the running experiments.
    pub spec: RoutingSpec,
    /// `xxh3-128:<hex>` of the spec's JSON: equal specs have equal checksums.
    pub checksum: String,
}

/// Why a snapshot could not be published. The control plane logs it and tries again at the
/// next tick; a decision already committed is never undone.
#[derive(Debug, thiserror::Error)]
#[error("publishing snapshot {revision} failed: {reason}")]
pub struct PublishError {
    /// The snapshot's revision.
    pub revision: u64,
    /// What went wrong.
    pub reason: String,
}

/// Where routing snapshots go. Implementations must be idempotent (the same revision may be
/// published again after a failure or a restart) and must never half-apply a snapshot.
#[async_trait]
pub trait SnapshotPublisher: Send + Sync {
    /// Makes `snapshot` the one edges route by.
    async fn publish(&self, snapshot: &Snapshot) -> Result<(), PublishError>;
}

/// Publishes to the edge running in the same process: builds the routing table with the edge's
/// local settings (geo, overrides) and swaps it in.
#[derive(Debug)]
pub struct InProcess {
    handle: TableHandle,
    context: ArcSwap<EdgeContext>,
}

/// Publishes nowhere: `rollgate control` before etcd (issue #10) — edges elsewhere keep their
/// own configuration. Every publish succeeds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Disabled;

/// A fake that remembers every snapshot and can be told to fail, for tests.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    inner: Mutex<Recorded>,
}

#[derive(Debug, Default)]
struct Recorded {
    published: Vec<Snapshot>,
    failures_left: u32,
    attempts: u64,
}

impl Snapshot {
    /// The store meta key holding the last revision built.
    pub const REVISION_KEY: &'static str = "snapshot_revision";

    /// A snapshot of `spec` with `revision`, its checksum computed.
    pub fn new(revision: u64, spec: RoutingSpec) -> Snapshot {
        let checksum = checksum(&spec);
        Snapshot {
            revision,
            spec,
            checksum,
        }
    }

    /// The canary weight of `rollout` in this snapshot, if it routes it.
    pub fn weight(&self, rollout: &str) -> Option<rollgate_core::Ppm> {
        self.spec
            .rollouts
            .iter()
            .find(|r| r.name == rollout)
            .map(|r| r.weight)
    }
}

/// `xxh3-128:<hex>` of the spec's JSON.
pub fn checksum(spec: &RoutingSpec) -> String {
    // Serialising a plain data document cannot fail; an empty string would only make two
    // checksums compare unequal.
    let json = serde_json::to_vec(spec).unwrap_or_default();
    format!(
        "xxh3-128:{:032x}",
        xxhash_rust::xxh3::xxh3_128(json.as_slice())
    )
}

impl InProcess {
    /// Publishes to the edge behind `handle`, building tables with `context`.
    pub fn new(handle: TableHandle, context: EdgeContext) -> InProcess {
        InProcess {
            handle,
            context: ArcSwap::from_pointee(context),
        }
    }

    /// Uses `context` for the next tables (after a reload changed `[edge] geo` or `overrides`).
    pub fn set_context(&self, context: EdgeContext) {
        self.context.store(Arc::new(context));
    }

    /// The edge's table handle.
    pub fn handle(&self) -> &TableHandle {
        &self.handle
    }
}

#[async_trait]
impl SnapshotPublisher for InProcess {
    async fn publish(&self, snapshot: &Snapshot) -> Result<(), PublishError> {
        let context = self.context.load();
        let table = RoutingTable::build(&snapshot.spec, &context).map_err(|e| PublishError {
            revision: snapshot.revision,
            reason: format!("the edge refused the snapshot: {e}"),
        })?;
        self.handle.swap(Arc::new(table));
        Ok(())
    }
}

#[async_trait]
impl SnapshotPublisher for Disabled {
    async fn publish(&self, _snapshot: &Snapshot) -> Result<(), PublishError> {
        Ok(())
    }
}

impl RecordingPublisher {
    /// A publisher that accepts everything.
    pub fn new() -> RecordingPublisher {
        RecordingPublisher::default()
    }

    /// Makes the next `n` publishes fail.
    pub fn fail_next(&self, n: u32) {
        self.lock().failures_left = n;
    }

    /// Every snapshot published successfully, oldest first.
    pub fn published(&self) -> Vec<Snapshot> {
        self.lock().published.clone()
    }

    /// The last snapshot published successfully.
    pub fn last(&self) -> Option<Snapshot> {
        self.lock().published.last().cloned()
    }

    /// Publish calls so far, failed ones included.
    pub fn attempts(&self) -> u64 {
        self.lock().attempts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl SnapshotPublisher for RecordingPublisher {
    async fn publish(&self, snapshot: &Snapshot) -> Result<(), PublishError> {
        let mut inner = self.lock();
        inner.attempts += 1;
        if inner.failures_left > 0 {
            inner.failures_left -= 1;
            return Err(PublishError {
                revision: snapshot.revision,
                reason: "the test publisher was told to fail".into(),
            });
        }
        inner.published.push(snapshot.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn equal_specs_have_equal_checksums() {
        let a = Snapshot::new(1, RoutingSpec::default());
        let b = Snapshot::new(2, RoutingSpec::default());
        assert_eq!(a.checksum, b.checksum);
        assert!(a.checksum.starts_with("xxh3-128:"));
    }

    #[tokio::test]
    async fn the_recording_fake_fails_when_told() {
        let p = RecordingPublisher::new();
        p.fail_next(1);
        let s = Snapshot::new(1, RoutingSpec::default());
        assert!(p.publish(&s).await.is_err());
        p.publish(&s).await.unwrap();
        assert_eq!(p.attempts(), 2);
        assert_eq!(p.published().len(), 1);
    }
}
