//! `[control]`: where the control plane listens, keeps its data, and how often it decides.

use std::net::SocketAddr;
use std::path::PathBuf;

use rollgate_core::{DurationSpec, SpecErrors, path::field};
use serde::{Deserialize, Serialize};

use crate::net::parse_listen;

/// The `[control]` table as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlSection {
    /// Address of the REST API, dashboard, `/v1/events` and `/ofrep/v1` (default `127.0.0.1:9000`).
    pub listen: String,
    /// Directory of the embedded store (default `./rollgate-data`, created if missing).
    pub data_dir: PathBuf,
    /// Length of a metric window, and the reconcile interval (default `1s`).
    pub window: DurationSpec,
    /// How long closed windows are kept for charts and analysis (default `15m`).
    pub retention: DurationSpec,
    /// Largest accepted `/v1/events` body (default 1 MiB).
    pub max_event_batch_bytes: usize,
    /// Most events accepted in one batch (default 1000).
    pub max_event_batch_events: usize,
    /// Environment variable holding the write-only key for `/v1/events` (default
    /// `ROLLGATE_INGEST_KEY`; when unset, event ingest needs no key).
    pub ingest_key_env: String,
    /// Where the analysis reads metrics: `"builtin"` (default: the edges' own windows) or
    /// `{ prometheus = { url = "http://127.0.0.1:9090" } }`.
    pub provider: ProviderSpec,
}

/// Where the analysis reads metric values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderSpec {
    /// The windows the edges and the event ingest fill (seconds-level, exact).
    #[default]
    Builtin,
    /// PromQL over a Prometheus server that scrapes every edge's `/metrics`.
    Prometheus(PrometheusSpec),
}

/// `provider = { prometheus = { … } }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSpec {
    /// The server's base URL (`http://prometheus:9090`).
    pub url: String,
    /// How long one query may take (default `5s`).
    #[serde(default = "default_query_timeout")]
    pub timeout: DurationSpec,
    /// Extra label matchers added to every query (`job = "rollgate-edge"`), to pick the edges'
    /// series when the server scrapes several jobs.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub matchers: std::collections::BTreeMap<String, String>,
}

fn default_query_timeout() -> DurationSpec {
    DurationSpec::from_secs(5)
}

impl Default for ControlSection {
    fn default() -> ControlSection {
        ControlSection {
            listen: "127.0.0.1:9000".into(),
            data_dir: PathBuf::from("./rollgate-data"),
            window: DurationSpec::from_secs(1),
            retention: DurationSpec::from_secs(15 * 60),
            max_event_batch_bytes: 1 << 20,
            max_event_batch_events: 1000,
            ingest_key_env: "ROLLGATE_INGEST_KEY".into(),
            provider: ProviderSpec::Builtin,
        }
    }
}

/// The validated `[control]` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ControlSettings {
    /// Address of the API and dashboard.
    pub listen: SocketAddr,
    /// Directory of the embedded store.
    pub data_dir: PathBuf,
    /// Metric window and reconcile interval.
    pub window: DurationSpec,
    /// How long closed windows are kept.
    pub retention: DurationSpec,
    /// Largest accepted `/v1/events` body.
    pub max_event_batch_bytes: usize,
    /// Most events in one batch.
    pub max_event_batch_events: usize,
    /// Environment variable holding the ingest key.
    pub ingest_key_env: String,
    /// Where the analysis reads metrics.
    pub provider: ProviderSpec,
}

impl ControlSection {
    /// Checks every field; `path` is where the table sits in the document (`control`).
    pub fn build(&self, path: &str, errs: &mut SpecErrors) -> Option<ControlSettings> {
        let listen = parse_listen(&self.listen, &field(path, "listen"), errs);
        if self.window.is_zero() || self.window.as_millis() < 100 {
            errs.push(field(path, "window"), "must be at least 100ms");
        } else if !self.window.as_millis().is_multiple_of(100) {
            errs.push(
                field(path, "window"),
                "must be a whole number of 100ms (windows align across edges)",
            );
        }
        if self.retention.get() < self.window.get() * 10 {
            errs.push(field(path, "retention"), "must hold at least 10 windows");
        }
        if self.max_event_batch_bytes < 1024 {
            errs.push(
                field(path, "max_event_batch_bytes"),
                "must be at least 1024 bytes",
            );
        }
        if self.max_event_batch_events == 0 {
            errs.push(field(path, "max_event_batch_events"), "must be at least 1");
        }
        if let ProviderSpec::Prometheus(p) = &self.provider {
            let url = p.url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                errs.push(
                    field(&field(&field(path, "provider"), "prometheus"), "url"),
                    format!("{url:?} is not an http:// or https:// URL"),
                );
            }
            if p.timeout.is_zero() {
                errs.push(
                    field(&field(&field(path, "provider"), "prometheus"), "timeout"),
                    "must be longer than 0s",
                );
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            errs.push(field(path, "data_dir"), "must not be empty");
        }
        Some(ControlSettings {
            listen: listen?,
            data_dir: self.data_dir.clone(),
            window: self.window,
            retention: self.retention,
            max_event_batch_bytes: self.max_event_batch_bytes,
            max_event_batch_events: self.max_event_batch_events,
            ingest_key_env: self.ingest_key_env.clone(),
            provider: self.provider.clone(),
        })
    }
}
