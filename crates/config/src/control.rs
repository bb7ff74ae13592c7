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
        })
    }
}
