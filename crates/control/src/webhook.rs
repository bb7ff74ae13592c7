//! Webhook delivery for `[[notifications]]`: one background task and one bounded queue per
//! target, so a dead or slow webhook delays nobody but itself. Each attempt has the target's
//! timeout; failures are retried `retries` times with exponential back-off (0.5 s, 1 s, 2 s …,
//! at most 30 s). Logs name the URL's host only: webhook URLs often carry a secret in the path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rollgate_config::{NotificationFormat, NotificationSpec};
use rollgate_controller::Notification;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::notifier::{Notifier, wanted};

/// Notifications waiting per target before new ones are dropped (and counted).
pub const QUEUE_DEPTH: usize = 256;

/// Delivers notifications to every configured webhook that wants them.
#[derive(Debug)]
pub struct Webhooks {
    targets: Vec<Target>,
}

#[derive(Debug)]
struct Target {
    spec: Arc<NotificationSpec>,
    host: String,
    queue: mpsc::Sender<Notification>,
    dropped: AtomicU64,
}

/// A webhook that cannot be set up (bad header value, TLS backend missing).
#[derive(Debug, thiserror::Error)]
#[error("notifications[{index}] ({host}): {reason}")]
pub struct WebhookError {
    /// Position in `[[notifications]]`.
    pub index: usize,
    /// The URL's host.
    pub host: String,
    /// What is wrong.
    pub reason: String,
}

impl Webhooks {
    /// Starts one delivery task per target on the current tokio runtime.
    pub fn start(specs: &[NotificationSpec]) -> Result<Webhooks, WebhookError> {
        let mut targets = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let host = host_of(&spec.url);
            let fail = |reason: String| WebhookError {
                index,
                host: host.clone(),
                reason,
            };
            let client = reqwest::Client::builder()
                .default_headers(headers(spec).map_err(fail)?)
                .build()
                .map_err(|e| fail(e.to_string()))?;
            let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
            let spec = Arc::new(spec.clone());
            tokio::spawn(deliver_all(client, Arc::clone(&spec), host.clone(), rx));
            targets.push(Target {
                spec,
                host,
                queue,
                dropped: AtomicU64::new(0),
            });
        }
        Ok(Webhooks { targets })
    }

    /// How many targets there are.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when no webhook is configured.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

impl Notifier for Webhooks {
    fn notify(&self, notification: &Notification) {
        for t in &self.targets {
            if !wanted(&t.spec.events, notification.kind) {
                continue;
            }
            if t.queue.try_send(notification.clone()).is_err() {
                let n = t.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(host = %t.host, dropped = n, "webhook queue full or closed; notification dropped");
                }
            }
        }
    }
}

async fn deliver_all(
    client: reqwest::Client,
    spec: Arc<NotificationSpec>,
    host: String,
    mut rx: mpsc::Receiver<Notification>,
) {
    while let Some(n) = rx.recv().await {
        let body = body(spec.format, &n);
        let mut attempt = 0u32;
        loop {
            match send(&client, &spec, &body).await {
                Ok(()) => {
                    tracing::debug!(host = %host, rollout = %n.rollout, kind = n.kind.as_str(), "webhook delivered");
                    break;
                }
                Err(reason) if attempt < spec.retries => {
                    attempt += 1;
                    tracing::warn!(host = %host, rollout = %n.rollout, attempt, error = %reason, "webhook failed; retrying");
                    tokio::time::sleep(back_off(attempt)).await;
                }
                Err(reason) => {
                    tracing::error!(host = %host, rollout = %n.rollout, attempts = attempt + 1, error = %reason, "webhook failed; notification given up");
                    break;
                }
            }
        }
    }
}

async fn send(
    client: &reqwest::Client,
    spec: &NotificationSpec,
    body: &Value,
) -> Result<(), String> {
    let response = client
        .post(spec.url.trim())
        .timeout(spec.timeout.get())
        .json(body)
        .send()
        .await
        // Without the URL: reqwest errors print it, secret path and all.
        .map_err(|e| describe(&e.without_url()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.to_string()
    }
}

/// The delay before retry `attempt` (1-based): 0.5 s doubling, at most 30 s.
pub fn back_off(attempt: u32) -> Duration {
    let ms = 500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    Duration::from_millis(ms.min(30_000))
}

/// The request body for `format`.
pub fn body(format: NotificationFormat, n: &Notification) -> Value {
    match format {
        NotificationFormat::Slack => json!({ "text": n.text }),
        NotificationFormat::Json => {
            let mut doc = serde_json::Map::new();
            for (k, v) in &n.fields {
                doc.insert(k.clone(), Value::String(v.clone()));
            }
            doc.insert("event".into(), json!(n.kind.as_str()));
            doc.insert("rollout".into(), json!(n.rollout));
            doc.insert("text".into(), json!(n.text));
            Value::Object(doc)
        }
    }
}

/// The host of `url`, for logs; `<invalid url>` when it has none.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "<invalid url>".into())
}

fn headers(spec: &NotificationSpec) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in &spec.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("header {name:?} is not a valid header name"))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header {name:?} is not a valid header value"))?;
        map.insert(n, v);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rollgate_controller::NotificationKind;

    use super::*;

    fn note() -> Notification {
        Notification {
            kind: NotificationKind::Rollback,
            rollout: "shop-v1.2".into(),
            text: "rolled back".into(),
            fields: BTreeMap::from([("weight".to_string(), "0%".to_string())]),
        }
    }

    #[test]
    fn bodies_follow_the_format() {
        assert_eq!(
            body(NotificationFormat::Slack, &note()),
            json!({"text": "rolled back"})
        );
        let j = body(NotificationFormat::Json, &note());
        assert_eq!(j["event"], "rollback");
        assert_eq!(j["weight"], "0%");
        assert_eq!(j["rollout"], "shop-v1.2");
    }

    #[test]
    fn back_off_doubles_and_is_capped() {
        assert_eq!(back_off(1), Duration::from_millis(500));
        assert_eq!(back_off(3), Duration::from_secs(2));
        assert_eq!(back_off(40), Duration::from_secs(30));
    }

    #[test]
    fn logs_show_only_the_host() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T0/B0/SECRET"),
            "hooks.slack.com"
        );
        assert_eq!(host_of("not a url"), "<invalid url>");
    }
}
