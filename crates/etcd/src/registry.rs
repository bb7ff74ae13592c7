//! Edges announce themselves under `<prefix>/edges/<edge id>` on a lease: the key holds the
//! edge's [`EdgeStatus`] (rewritten when it changes and every few seconds), and disappears when
//! the edge stops or stays unreachable past the lease — so the keys under `edges/` are the
//! live edges, and [`fleet`] shows which of them serve an older snapshot than etcd holds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cluster::Stamp;
use tokio::sync::watch;

use crate::lease::KeptLease;
use crate::status::EdgeStatus;
use crate::wire::RangeRequest;
use crate::{ClusterKeys, Etcd, EtcdError};

/// How long an edge stays listed after its last renewal.
pub const EDGE_TTL: Duration = Duration::from_secs(10);
/// How often an edge rewrites its report while nothing changes.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// The longest pause between attempts to register again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Keeps one edge's registration alive.
#[derive(Clone, Debug)]
pub struct Registration {
    etcd: Etcd,
    keys: ClusterKeys,
    ttl: Duration,
}

/// The fleet as etcd sees it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    /// The revision of the snapshot in etcd (0: none).
    pub snapshot_revision: u64,
    /// Every live edge, by id.
    pub edges: Vec<EdgeView>,
}

/// One live edge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeView {
    /// What it reported.
    #[serde(flatten)]
    pub status: EdgeStatus,
    /// True when it serves an older revision than etcd holds.
    pub stale: bool,
}

impl Registration {
    /// Registers under `keys` with the default time to live.
    pub fn new(etcd: Etcd, keys: ClusterKeys) -> Registration {
        Registration {
            etcd,
            keys,
            ttl: EDGE_TTL,
        }
    }

    /// Uses `ttl` for the lease instead.
    pub fn with_ttl(mut self, ttl: Duration) -> Registration {
        self.ttl = ttl;
        self
    }

    /// Keeps the edge registered with its latest `status` until `shutdown` resolves, then
    /// removes the registration.
    pub async fn run(
        self,
        mut status: watch::Receiver<EdgeStatus>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = crate::time::pause(Duration::from_millis(200), failures, MAX_BACKOFF) => {}
            }
            let lease = match KeptLease::grant(&self.etcd, self.ttl).await {
                Ok(lease) => lease,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::debug!(error = %e, "cannot register the edge yet");
                    continue;
                }
            };
            failures = 0;
            let done = self.keep(&lease, &mut status, &mut shutdown).await;
            if done {
                if let Err(e) = lease.revoke().await {
                    tracing::debug!(error = %e, "could not remove the edge's registration; it expires on its own");
                }
                return;
            }
        }
    }

    /// Writes the status on `lease` until the lease is lost (`false`) or shutdown (`true`).
    async fn keep(
        &self,
        lease: &KeptLease,
        status: &mut watch::Receiver<EdgeStatus>,
        shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> bool {
        let mut beat = tokio::time::interval(HEARTBEAT.min(self.ttl / 2));
        loop {
            tokio::select! {
                () = shutdown.as_mut() => return true,
                () = lease.lost() => return false,
                changed = status.changed() => if changed.is_err() { return true },
                _ = beat.tick() => {}
            }
            let mut report = status.borrow_and_update().clone();
            report.reported_at = crate::time::now();
            let key = self.keys.edge(&report.edge_id);
            match serde_json::to_vec(&report) {
                Ok(value) => {
                    if let Err(e) = self.etcd.put(&key, &value, lease.id()).await {
                        tracing::debug!(error = %e, "edge report not written; retrying at the next beat");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot encode the edge report"),
            }
        }
    }
}

/// The live edges and the snapshot revision in etcd, read at one revision.
pub async fn fleet(etcd: &Etcd, keys: &ClusterKeys) -> Result<Fleet, EtcdError> {
    let read = etcd
        .read_many(vec![
            RangeRequest::key(keys.snapshot()),
            RangeRequest::prefix(keys.edges()),
        ])
        .await?;
    let snapshot_revision = read[0]
        .kvs
        .first()
        .and_then(|kv| serde_json::from_slice::<Stamp>(&kv.value).ok())
        .map_or(0, |s| s.revision);
    let mut edges: Vec<EdgeView> = read[1]
        .kvs
        .iter()
        .filter_map(|kv| match serde_json::from_slice::<EdgeStatus>(&kv.value) {
            Ok(status) => Some(status),
            Err(e) => {
                tracing::warn!(key = %kv.key_lossy(), error = %e, "unreadable edge report skipped");
                None
            }
        })
        .map(|status| EdgeView {
            stale: status.revision < snapshot_revision,
            status,
        })
        .collect();
    edges.sort_by(|a, b| a.status.edge_id.cmp(&b.status.edge_id));
    Ok(Fleet {
        snapshot_revision,
        edges,
    })
}
