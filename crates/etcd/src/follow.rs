//! [`SnapshotWatcher`]: how an edge follows the routing snapshot in etcd. It reads the key,
//! then watches it from the next revision; every new snapshot is checked (newer revision,
//! checksum, a routing table that builds) before it is swapped in, and saved to local disk.
//! When etcd is unreachable the edge keeps routing by what it has — at start, by its disk copy
//! — and reconnects with back-off: losing etcd freezes weights, it never stops traffic.

mod file;

use std::sync::Arc;
use std::time::Duration;

use rollgate_control::{Snapshot, checksum};
use rollgate_core::model::UnixMillis;
use rollgate_core::{EdgeContext, RoutingTable};
use rollgate_edge::TableHandle;
use tokio::sync::watch;

use crate::status::{EdgeStatus, Rejection, SnapshotSource};
use crate::wire::{EventType, RangeRequest, WatchCreateRequest};
use crate::{ClusterKeys, Etcd, EtcdError};

pub use file::{SNAPSHOT_FILE, SnapshotFile};

/// With no message for this long, the watch is checked with a read (a silent network
/// partition does not close the connection).
const IDLE_CHECK: Duration = Duration::from_secs(5);
/// The longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Follows the routing snapshot for one edge.
#[derive(Debug)]
pub struct SnapshotWatcher {
    etcd: Etcd,
    keys: ClusterKeys,
    context: EdgeContext,
    file: SnapshotFile,
    status: watch::Sender<EdgeStatus>,
    clock: fn() -> UnixMillis,
}

/// A snapshot that passed every check, with its table.
struct Accepted {
    snapshot: Snapshot,
    table: Arc<RoutingTable>,
}

impl SnapshotWatcher {
    /// A watcher for edge `edge_id`, building tables with `context` and keeping its disk copy
    /// in `file`.
    pub fn new(
        etcd: Etcd,
        keys: ClusterKeys,
        edge_id: &str,
        context: EdgeContext,
        file: SnapshotFile,
    ) -> SnapshotWatcher {
        let now = crate::time::now();
        SnapshotWatcher {
            etcd,
            keys,
            context,
            file,
            status: watch::channel(EdgeStatus::starting(edge_id, now)).0,
            clock: crate::time::now,
        }
    }

    /// The edge's report, updated at every change.
    pub fn status(&self) -> watch::Receiver<EdgeStatus> {
        self.status.subscribe()
    }

    /// The table to start with: etcd's snapshot if etcd answers within `wait`, else the disk
    /// copy, else none (the edge then routes nothing until etcd answers).
    pub async fn bootstrap(&self, wait: Duration) -> Option<Arc<RoutingTable>> {
        let key = self.keys.snapshot();
        match tokio::time::timeout(wait, self.etcd.get(&key)).await {
            Ok(Ok(Some(kv))) => {
                if let Some(a) = self.check(&kv.value) {
                    self.adopt(&a, &kv.value, SnapshotSource::Etcd, true).await;
                    return Some(a.table);
                }
            }
            Ok(Ok(None)) => tracing::warn!("no routing snapshot in etcd yet; trying the disk copy"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "etcd is unreachable; starting from the disk copy")
            }
            Err(_) => tracing::warn!(
                ?wait,
                "etcd did not answer in time; starting from the disk copy"
            ),
        }
        let bytes = match self.file.load() {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                tracing::warn!(path = %self.file.path().display(), "no disk copy of a snapshot: routing nothing until etcd answers");
                return None;
            }
            Err(e) => {
                tracing::error!(path = %self.file.path().display(), error = %e, "cannot read the disk copy: routing nothing until etcd answers");
                return None;
            }
        };
        let accepted = self.check(&bytes)?;
        self.adopt(&accepted, &bytes, SnapshotSource::Disk, false)
            .await;
        Some(accepted.table)
    }

    /// Follows etcd until `shutdown` resolves, swapping every new good snapshot into `handle`.
    pub async fn run(self, handle: TableHandle, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        loop {
            let outcome = tokio::select! {
                () = &mut shutdown => return,
                r = self.follow(&handle) => r,
            };
            self.status
                .send_if_modified(|s| std::mem::replace(&mut s.connected, false));
            match outcome {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures == 1 {
                        tracing::warn!(error = %e, "lost etcd; routing by the current snapshot while reconnecting");
                    } else {
                        tracing::debug!(error = %e, failures, "etcd still unreachable");
                    }
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = crate::time::pause(Duration::from_millis(100), failures, MAX_BACKOFF) => {}
            }
        }
    }

    /// One connection: read the key, then watch it from the next revision. Returns when the
    /// watch ends (cleanly: `Ok`).
    async fn follow(&self, handle: &TableHandle) -> Result<(), EtcdError> {
        let key = self.keys.snapshot();
        let read = self.etcd.range(&RangeRequest::key(key.clone())).await?;
        if let Some(kv) = read.kvs.first() {
            self.offer(handle, &kv.value).await;
        }
        let mut stream = self
            .etcd
            .watch(WatchCreateRequest::key(
                key.clone(),
                read.header.revision + 1,
            ))
            .await?;
        self.status
            .send_if_modified(|s| !std::mem::replace(&mut s.connected, true));
        tracing::info!(
            endpoint = stream.endpoint(),
            "following the routing snapshot in etcd"
        );
        loop {
            let msg = match tokio::time::timeout(IDLE_CHECK, stream.next()).await {
                Ok(msg) => msg?,
                Err(_) => {
                    // Quiet for a while: make sure etcd is still there.
                    let probe = RangeRequest {
                        count_only: true,
                        ..RangeRequest::key(key.clone())
                    };
                    self.etcd.range(&probe).await?;
                    continue;
                }
            };
            let Some(msg) = msg else { return Ok(()) };
            for event in msg.events {
                match event.kind {
                    EventType::Put => self.offer(handle, &event.kv.value).await,
                    EventType::Delete => tracing::warn!(
                        "the routing snapshot was deleted from etcd; routing by the current one"
                    ),
                }
            }
        }
    }

    /// Checks a snapshot from etcd and, if it is new and good, swaps it in and saves it.
    async fn offer(&self, handle: &TableHandle, bytes: &[u8]) {
        if let Some(accepted) = self.check(bytes) {
            handle.swap(Arc::clone(&accepted.table));
            self.adopt(&accepted, bytes, SnapshotSource::Etcd, true)
                .await;
        }
    }

    /// A new, valid snapshot; `None` (recorded as the rejection) otherwise, or when it is not
    /// newer than the one served.
    fn check(&self, bytes: &[u8]) -> Option<Accepted> {
        let served = self.status.borrow().revision;
        let reject = |revision: u64, reason: String| {
            tracing::error!(revision, %reason, "routing snapshot refused; the current one keeps serving");
            self.status
                .send_modify(|s| s.rejected = Some(Rejection { revision, reason }));
            None
        };
        let snapshot: Snapshot = match serde_json::from_slice(bytes) {
            Ok(s) => s,
            Err(e) => return reject(0, format!("not a routing snapshot: {e}")),
        };
        if snapshot.revision <= served {
            return None;
        }
        let computed = checksum(&snapshot.spec);
        if computed != snapshot.checksum {
            return reject(
                snapshot.revision,
                format!(
                    "checksum mismatch: stored {}, computed {computed}",
                    snapshot.checksum
                ),
            );
        }
        match RoutingTable::build(&snapshot.spec, &self.context) {
            Ok(table) => Some(Accepted {
                snapshot,
                table: Arc::new(table),
            }),
            Err(errors) => reject(snapshot.revision, errors.to_string()),
        }
    }

    /// Records `accepted` as served (and saves it to disk when it came from etcd). The save
    /// (with its fsyncs) runs on the blocking pool, never on the workers that proxy requests;
    /// snapshots are saved one at a time, in order.
    async fn adopt(&self, accepted: &Accepted, bytes: &[u8], source: SnapshotSource, save: bool) {
        if save {
            let (file, bytes) = (self.file.clone(), bytes.to_vec());
            let saved = tokio::task::spawn_blocking(move || file.save(&bytes)).await;
            let error = match saved {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(error) = error {
                tracing::error!(path = %self.file.path().display(), %error, "cannot save the snapshot to disk; a restart without etcd would start from an older copy");
            }
        }
        let now = (self.clock)();
        self.status.send_modify(|s| {
            s.revision = accepted.snapshot.revision;
            s.checksum.clone_from(&accepted.snapshot.checksum);
            s.source = source;
            s.since = now;
        });
        tracing::info!(
            revision = accepted.snapshot.revision,
            ?source,
            "routing snapshot in service"
        );
    }
}
