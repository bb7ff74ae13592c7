//! [`TelemetryPusher`]: an edge's closed windows, pushed to the leader. Every window width it
//! closes the recorder's finished windows (adding them to the edge's own `/metrics` totals),
//! queues them, and posts one [`WindowBatch`] to the leader found in etcd — an empty one too,
//! since its `closed_until` is what lets the leader call a window complete. A batch is resent
//! unchanged until the leader acknowledges it, so a lost answer causes a duplicate the leader
//! recognises, never a double count. The queue is bounded: during a long outage the oldest
//! windows are dropped (and counted in the log), never the edge's memory.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rollgate_core::model::UnixMillis;
use rollgate_metrics::{Exposition, Recorder, Window};

use crate::election::leader_info;
use crate::merge::{BatchReceipt, WindowBatch};
use crate::{ClusterKeys, Etcd, EtcdError};
use rollgate_server::INGEST_KEY_HEADER;

/// The path on the control plane that takes window batches.
pub const WINDOWS_PATH: &str = "/v1/windows";
/// Most windows kept while the leader cannot be reached (10 minutes of 1 s windows).
const MAX_QUEUE: usize = 600;
/// Most windows in one batch.
const MAX_BATCH: usize = 60;

/// Pushes one edge's windows to the leader.
#[derive(Debug)]
pub struct TelemetryPusher {
    etcd: Etcd,
    keys: ClusterKeys,
    edge_id: String,
    incarnation: String,
    ingest_key: Option<String>,
    http: reqwest::Client,
    queue: VecDeque<Window>,
    closed_until: UnixMillis,
    seq: u64,
    in_flight: Option<(WindowBatch, usize)>,
    leader: Option<String>,
    dropped: u64,
}

/// How a push attempt ended.
enum Sent {
    Acknowledged,
    /// The leader refused the batch for good (it is malformed); it is dropped.
    Refused(String),
    /// Try again later.
    Failed(String),
}

impl TelemetryPusher {
    /// A pusher for edge `edge_id`, finding the leader under `keys`.
    pub fn new(etcd: Etcd, keys: ClusterKeys, edge_id: &str) -> Result<TelemetryPusher, EtcdError> {
        let started = crate::time::now();
        let random = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), started);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(1))
            .no_proxy()
            .build()
            .map_err(|e| EtcdError::Client(e.to_string()))?;
        Ok(TelemetryPusher {
            etcd,
            keys,
            edge_id: edge_id.to_owned(),
            incarnation: format!("{started}-{:08x}", random as u32),
            ingest_key: None,
            http,
            queue: VecDeque::new(),
            closed_until: 0,
            seq: 0,
            in_flight: None,
            leader: None,
            dropped: 0,
        })
    }

    /// Sends `key` as the ingest key (when the control plane requires one).
    pub fn with_ingest_key(mut self, key: Option<String>) -> TelemetryPusher {
        self.ingest_key = key;
        self
    }

    /// Closes and pushes windows every window width until `shutdown` resolves; then closes
    /// everything recorded and makes one last attempt to deliver it.
    pub async fn run(
        mut self,
        recorder: Arc<Recorder>,
        exposition: Option<Exposition>,
        shutdown: impl Future<Output = ()>,
    ) {
        let width = Duration::from_millis(u64::from(recorder.config().window.width_ms.max(1)));
        let mut tick = tokio::time::interval(width);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = &mut shutdown => break,
            }
            self.close(&recorder, exposition.as_ref(), crate::time::now());
            self.flush().await;
        }
        self.close(&recorder, exposition.as_ref(), UnixMillis::MAX);
        let last = tokio::time::timeout(Duration::from_secs(2), async {
            while self.in_flight.is_some() || !self.queue.is_empty() {
                if !self.flush().await {
                    break;
                }
            }
        });
        if last.await.is_err() || !self.queue.is_empty() {
            tracing::warn!(
                windows = self.queue.len(),
                "stopping with telemetry the leader did not receive"
            );
        }
    }

    /// Closes the recorder's windows ending by `now` into the queue.
    fn close(&mut self, recorder: &Recorder, exposition: Option<&Exposition>, now: UnixMillis) {
        for window in recorder.close_until(now) {
            if let Some(e) = exposition {
                e.add_window(&window);
            }
            self.queue.push_back(window);
        }
        self.closed_until = self.closed_until.max(now);
        // Drop the oldest windows that are not part of the batch in flight.
        let waiting = self.in_flight.as_ref().map_or(0, |(_, n)| *n);
        while self.queue.len() > MAX_QUEUE.max(waiting) {
            if self.queue.remove(waiting).is_some() {
                self.dropped += 1;
            }
        }
        if self.dropped > 0 && self.dropped.is_power_of_two() {
            tracing::warn!(
                dropped = self.dropped,
                "the leader is unreachable; oldest telemetry windows dropped"
            );
        }
    }

    /// Sends the batch in flight, or the next one. Returns true when it was acknowledged.
    async fn flush(&mut self) -> bool {
        let (batch, count) = match self.in_flight.take() {
            Some(b) => b,
            None => self.next_batch(),
        };
        match self.send(&batch).await {
            Sent::Acknowledged => {}
            Sent::Refused(reason) => {
                tracing::error!(seq = batch.seq, %reason, "the leader refused a telemetry batch; it is dropped");
            }
            Sent::Failed(reason) => {
                tracing::debug!(seq = batch.seq, %reason, "telemetry batch not delivered; retrying");
                self.leader = None;
                self.in_flight = Some((batch, count));
                return false;
            }
        }
        self.queue.drain(..count.min(self.queue.len()));
        self.seq += 1;
        true
    }

    /// The oldest queued windows as a batch, with how many it holds.
    fn next_batch(&self) -> (WindowBatch, usize) {
        let count = self.queue.len().min(MAX_BATCH);
        let windows: Vec<Window> = self.queue.iter().take(count).cloned().collect();
        // Everything ending before the first window left out has been sent.
        let closed_until = self
            .queue
            .get(count)
            .map_or(self.closed_until, |next| next.start.min(self.closed_until));
        let batch = WindowBatch {
            edge_id: self.edge_id.clone(),
            incarnation: self.incarnation.clone(),
            seq: self.seq,
            closed_until,
            windows,
        };
        (batch, count)
    }

    async fn send(&mut self, batch: &WindowBatch) -> Sent {
        if self.leader.is_none() {
            match leader_info(&self.etcd, &self.keys).await {
                Ok(Some(info)) => self.leader = info.api,
                Ok(None) => return Sent::Failed("no leader elected".into()),
                Err(e) => return Sent::Failed(e.to_string()),
            }
        }
        let Some(api) = self.leader.clone() else {
            return Sent::Failed("the leader announced no API address".into());
        };
        let mut req = self
            .http
            .post(format!("{}{WINDOWS_PATH}", api.trim_end_matches('/')))
            .json(batch);
        if let Some(key) = &self.ingest_key {
            req = req.header(INGEST_KEY_HEADER, key);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Sent::Failed(format!("{api}: {e}")),
        };
        let status = resp.status();
        if status.is_success() {
            return match resp.json::<BatchReceipt>().await {
                Ok(r) if r.refused.is_empty() => Sent::Acknowledged,
                Ok(r) => Sent::Refused(r.refused.join("; ")),
                Err(e) => Sent::Failed(format!("{api}: unreadable answer: {e}")),
            };
        }
        let body = resp.text().await.unwrap_or_default();
        if status.as_u16() == 422 || status.as_u16() == 413 {
            Sent::Refused(format!("{api}: HTTP {status}: {body}"))
        } else {
            Sent::Failed(format!("{api}: HTTP {status}: {body}"))
        }
    }
}
