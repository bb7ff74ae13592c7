//! `[[notifications]]`: webhooks told about phase changes and rollbacks.

use std::collections::BTreeMap;

use rollgate_core::{DurationSpec, SpecErrors, path::field};
use serde::{Deserialize, Serialize};

/// One webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSpec {
    /// Where to `POST` (`http://` or `https://`).
    pub url: String,
    /// The body: a generic JSON document, or a Slack-compatible message (`{"text": …}`).
    #[serde(default)]
    pub format: NotificationFormat,
    /// Which events are sent (default: phase changes and rollbacks).
    #[serde(default = "default_events")]
    pub events: Vec<NotificationEvent>,
    /// How long one attempt may take (default `5s`).
    #[serde(default = "default_timeout")]
    pub timeout: DurationSpec,
    /// Attempts after the first failure, with exponential back-off (default 3).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Extra request headers (an `Authorization` token, say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// The shape of a webhook body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationFormat {
    /// `{"event": …, "rollout": …, "phase": …, "weight": …, "reason": …, …}`.
    #[default]
    Json,
    /// `{"text": "…"}`, accepted by Slack, Mattermost and Rocket.Chat incoming webhooks.
    Slack,
}

/// What a webhook is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// A rollout changed phase (started, paused, resumed, promoted, aborted).
    Phase,
    /// A rollout was rolled back.
    Rollback,
    /// Every decision, including each weight change.
    Decision,
}

fn default_events() -> Vec<NotificationEvent> {
    vec![NotificationEvent::Phase, NotificationEvent::Rollback]
}

fn default_timeout() -> DurationSpec {
    DurationSpec::from_secs(5)
}

fn default_retries() -> u32 {
    3
}

impl NotificationSpec {
    /// Checks every field; `path` is where this entry sits (`notifications[0]`).
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        let url = self.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.len() < "http://x".len()
        {
            errs.push(
                field(path, "url"),
                format!("{:?} is not an http:// or https:// URL", self.url),
            );
        }
        if self.events.is_empty() {
            errs.push(
                field(path, "events"),
                "is empty: list at least one of \"phase\", \"rollback\", \"decision\"",
            );
        }
        if self.timeout.is_zero() {
            errs.push(field(path, "timeout"), "must be longer than 0s");
        }
        if self.retries > 10 {
            errs.push(field(path, "retries"), "at most 10 retries");
        }
        for name in self.headers.keys() {
            let ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                errs.push(
                    format!("{}.{name}", field(path, "headers")),
                    "is not a valid header name",
                );
            }
        }
    }
}
