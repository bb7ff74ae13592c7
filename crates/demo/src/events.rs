//! The users' browser events on their way to the control plane: queued by the visits, sent in
//! batches to `POST /v1/events` as a browser SDK would (a batch every quarter second or every
//! 500 events), counted when the API accepts or refuses them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Most events queued before new ones are dropped (and counted as dropped).
const QUEUE: usize = 20_000;
/// Most events in one batch (the API accepts 1,000).
const BATCH: usize = 500;
/// Longest an event waits in the queue before its batch is sent.
const FLUSH: Duration = Duration::from_millis(250);

/// One browser event.
#[derive(Clone, Debug, PartialEq)]
pub struct BrowserEvent {
    /// The user.
    pub unit: String,
    /// `exposure`, `page_load_ms`, `click`, `conversion`.
    pub name: &'static str,
    /// The version the page came from (its `X-Version` header).
    pub version: String,
    /// The event's number (`page_load_ms`).
    pub value: Option<f64>,
    /// The browser's User-Agent, for the audience rules (device class).
    pub user_agent: &'static str,
    /// The user's country, for the audience rules.
    pub country: &'static str,
}

/// Where visits put their events. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventQueue {
    tx: mpsc::Sender<BrowserEvent>,
    counts: Arc<EventCounts>,
}

/// What happened to the events so far.
#[derive(Debug, Default)]
pub struct EventCounts {
    /// Recorded by the control plane.
    pub accepted: AtomicU64,
    /// Refused by the API (each refusal is logged once per batch).
    pub rejected: AtomicU64,
    /// Lost: the queue was full, or a batch could not be delivered.
    pub dropped: AtomicU64,
}

/// Sends queued events in batches until every [`EventQueue`] is dropped.
#[derive(Debug)]
pub struct EventSender {
    rx: mpsc::Receiver<BrowserEvent>,
    client: reqwest::Client,
    url: String,
    counts: Arc<EventCounts>,
}

impl EventQueue {
    /// A queue and the sender that posts its events to `url` with `client`.
    pub fn new(client: reqwest::Client, url: String) -> (EventQueue, EventSender) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counts = Arc::new(EventCounts::default());
        let queue = EventQueue {
            tx,
            counts: Arc::clone(&counts),
        };
        (
            queue,
            EventSender {
                rx,
                client,
                url,
                counts,
            },
        )
    }

    /// Queues one event; drops (and counts) it when the queue is full.
    pub fn push(&self, event: BrowserEvent) {
        if self.tx.try_send(event).is_err() {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> &EventCounts {
        &self.counts
    }
}

impl EventCounts {
    /// One line for the summary.
    pub fn describe(&self) -> String {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{} events recorded, {} refused, {} lost",
            n(&self.accepted),
            n(&self.rejected),
            n(&self.dropped)
        )
    }
}

impl EventSender {
    /// Posts batches until the queue is closed and empty.
    pub async fn run(mut self) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let deadline = tokio::time::sleep(FLUSH);
            tokio::pin!(deadline);
            let open = loop {
                tokio::select! {
                    next = self.rx.recv() => match next {
                        Some(e) => {
                            batch.push(e);
                            if batch.len() >= BATCH {
                                break true;
                            }
                        }
                        None => break false,
                    },
                    () = &mut deadline => break true,
                }
            };
            if !batch.is_empty() {
                self.post(std::mem::take(&mut batch)).await;
            }
            if !open {
                return;
            }
        }
    }

    async fn post(&self, batch: Vec<BrowserEvent>) {
        let n = batch.len() as u64;
        let body = json!({ "events": batch.iter().map(BrowserEvent::to_json).collect::<Vec<_>>() });
        let answer = match self.client.post(&self.url).json(&body).send().await {
            Ok(r) => r.json::<Value>().await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(v) => {
                let accepted = v.get("accepted").and_then(Value::as_u64).unwrap_or(0);
                let rejected = n.saturating_sub(accepted);
                self.counts.accepted.fetch_add(accepted, Ordering::Relaxed);
                self.counts.rejected.fetch_add(rejected, Ordering::Relaxed);
                if rejected > 0 {
                    let first = v.pointer("/errors/0").cloned().unwrap_or(v);
                    tracing::warn!(rejected, first = %first, "events refused by the API");
                }
            }
            Err(e) => {
                self.counts.dropped.fetch_add(n, Ordering::Relaxed);
                tracing::warn!(events = n, error = %e, "could not deliver a batch of events");
            }
        }
    }
}

impl BrowserEvent {
    /// The event as `POST /v1/events` takes it.
    pub fn to_json(&self) -> Value {
        let mut e = json!({
            "unit": self.unit,
            "name": self.name,
            "version": self.version,
            "attributes": { "userAgent": self.user_agent, "country": self.country },
        });
        if let (Some(v), Some(map)) = (self.value, e.as_object_mut()) {
            map.insert("value".into(), json!(v));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_written_as_the_ingest_api_reads_them() {
        let e = BrowserEvent {
            unit: "u-1".into(),
            name: "page_load_ms",
            version: "v2".into(),
            value: Some(42.5),
            user_agent: "Mozilla/5.0 (X11)",
            country: "DE",
        };
        assert_eq!(
            e.to_json(),
            json!({"unit": "u-1", "name": "page_load_ms", "version": "v2", "value": 42.5,
                   "attributes": {"userAgent": "Mozilla/5.0 (X11)", "country": "DE"}})
        );
        let no_value = BrowserEvent { value: None, ..e };
        assert!(no_value.to_json().get("value").is_none());
    }
}
