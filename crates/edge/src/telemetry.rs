//! Telemetry: the recorder every request is recorded into (per-thread shards, no shared lock
//! on the request path), and the loop that closes its windows into the Prometheus totals when
//! the edge runs on its own.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rollgate_core::model::UnixMillis;
use rollgate_metrics::{Exposition, Recorder, Window};

/// Where the edge records requests and what its `/metrics` serves.
#[derive(Clone, Debug)]
pub struct Telemetry {
    /// Every request is recorded here, labelled (service, rollout, version, cohort).
    pub recorder: Arc<Recorder>,
    /// The cumulative totals `/metrics` renders; fed by whoever closes the recorder's windows
    /// ([`close_windows`] for a stand-alone edge, the control plane inside `rollgate serve`).
    pub exposition: Option<Exposition>,
}

/// Closes the recorder's windows as they end, adds each to `exposition` and hands it to
/// `sink`, until `shutdown` resolves; then closes everything recorded so far.
pub async fn close_windows(
    recorder: Arc<Recorder>,
    exposition: Exposition,
    mut sink: impl FnMut(&Window) + Send,
    shutdown: impl Future<Output = ()>,
) {
    let width = Duration::from_millis(u64::from(recorder.config().window.width_ms.max(1)));
    let mut tick = tokio::time::interval(width);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut close = |now: UnixMillis| {
        for window in recorder.close_until(now) {
            exposition.add_window(&window);
            sink(&window);
        }
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = tick.tick() => close(unix_now()),
            () = &mut shutdown => break,
        }
    }
    close(UnixMillis::MAX);
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_now() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
