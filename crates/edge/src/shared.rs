//! State shared by every connection of one edge: the current snapshot (swapped atomically,
//! read without locks), the response header name, telemetry, and the channel that starts
//! health checks for endpoints new in a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use http::HeaderName;
use rollgate_core::RoutingTable;
use rollgate_metrics::Recorder;
use tokio::sync::mpsc;

use crate::endpoint::Endpoint;
use crate::snapshot::Snapshot;

/// Shared by every connection of one edge.
#[derive(Debug)]
pub(crate) struct Shared {
    current: ArcSwap<Snapshot>,
    /// Serialises snapshot builds, so each starts from the one before it.
    swapping: Mutex<()>,
    recorder: Arc<Recorder>,
    version_header: Option<HeaderName>,
    checks: mpsc::UnboundedSender<Vec<Arc<Endpoint>>>,
    swaps: AtomicU64,
}

/// Publishes new routing tables to a running edge. Cheap to clone; usable from any thread.
#[derive(Clone, Debug)]
pub struct TableHandle {
    shared: Arc<Shared>,
}

impl Shared {
    /// Shared state serving `table`; endpoints needing health checks are sent to `checks`.
    pub(crate) fn new(
        table: Arc<RoutingTable>,
        recorder: Arc<Recorder>,
        version_header: Option<HeaderName>,
        checks: mpsc::UnboundedSender<Vec<Arc<Endpoint>>>,
    ) -> Shared {
        let (snapshot, new_checks) = Snapshot::build(table, None, Arc::clone(&recorder));
        // The receiver lives as long as the edge; a send can only fail after it stopped.
        let _ = checks.send(new_checks);
        Shared {
            current: ArcSwap::from_pointee(snapshot),
            swapping: Mutex::new(()),
            recorder,
            version_header,
            checks,
            swaps: AtomicU64::new(0),
        }
    }

    /// The current snapshot.
    #[inline]
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The response header naming the version, when turned on.
    #[inline]
    pub(crate) fn version_header(&self) -> Option<&HeaderName> {
        self.version_header.as_ref()
    }

    /// Tables published since the edge started.
    pub(crate) fn swaps(&self) -> u64 {
        self.swaps.load(Ordering::Relaxed)
    }

    fn swap(&self, table: Arc<RoutingTable>) {
        let _guard = self.swapping.lock().unwrap_or_else(PoisonError::into_inner);
        let previous = self.current.load_full();
        let (snapshot, new_checks) =
            Snapshot::build(table, Some(&previous), Arc::clone(&self.recorder));
        self.current.store(Arc::new(snapshot));
        self.swaps.fetch_add(1, Ordering::Relaxed);
        if !new_checks.is_empty() {
            let _ = self.checks.send(new_checks);
        }
    }
}

impl TableHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> TableHandle {
        TableHandle { shared }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Makes `table` the one every new request is routed by. Requests in flight finish on the
    /// table they started with; endpoints and breakers that did not change keep their health,
    /// breaker state and idle connections. The table is already valid (it was built), so this
    /// cannot fail.
    pub fn swap(&self, table: Arc<RoutingTable>) {
        self.shared.swap(table);
    }

    /// The table new requests are routed by.
    pub fn current(&self) -> Arc<RoutingTable> {
        Arc::clone(self.shared.snapshot().table_arc())
    }
}
