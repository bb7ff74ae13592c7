//! `[edge]`: where the proxy listens, how it tags responses, where countries come from and who
//! may force a version. These settings are local to one edge and never part of the routing
//! snapshot the control plane publishes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rollgate_core::{DurationSpec, SpecErrors, path::field};
use rollgate_core::{EdgeContext, GeoSource, GeoSpec, OverrideSpec};
use serde::{Deserialize, Serialize};

use crate::net::parse_listen;

/// The `[edge]` table as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeSection {
    /// Where clients connect (default `127.0.0.1:8080`); HTTP/1.1 and h2c, or TLS with `tls`.
    pub listen: String,
    /// `/metrics`, `/healthz`, `/readyz` (default `127.0.0.1:9091`; `""` turns it off).
    pub admin_listen: String,
    /// Response header naming the version that served it (default `X-Version`; `""` turns it off).
    pub version_header: String,
    /// Terminate TLS with this certificate and key (PEM files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSection>,
    /// Where a request's country comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoSpec>,
    /// A header or cookie that lets testers force a version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OverrideSpec>,
    /// On shutdown, how long in-flight requests may take to finish (default `30s`).
    pub drain_timeout: DurationSpec,
    /// Worker threads (default: one per CPU core).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
}

/// `[edge.tls]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

impl Default for EdgeSection {
    fn default() -> EdgeSection {
        EdgeSection {
            listen: "127.0.0.1:8080".into(),
            admin_listen: "127.0.0.1:9091".into(),
            version_header: "X-Version".into(),
            tls: None,
            geo: None,
            overrides: None,
            drain_timeout: DurationSpec::from_secs(30),
            workers: None,
        }
    }
}

/// The validated `[edge]` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeSettings {
    /// Client listener.
    pub listen: SocketAddr,
    /// Admin listener, if any.
    pub admin_listen: Option<SocketAddr>,
    /// Response header naming the serving version, if any.
    pub version_header: Option<String>,
    /// TLS certificate and key, if TLS is on.
    pub tls: Option<TlsSettings>,
    /// Where countries come from, if anywhere.
    pub geo: Option<GeoSpec>,
    /// Forced-version overrides, if enabled.
    pub overrides: Option<OverrideSpec>,
    /// Drain limit on shutdown.
    pub drain_timeout: DurationSpec,
    /// Worker threads (`None`: one per core).
    pub workers: Option<usize>,
}

/// TLS files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

impl EdgeSection {
    /// Checks every field; `path` is where the table sits (`edge`).
    pub fn build(&self, path: &str, errs: &mut SpecErrors) -> Option<EdgeSettings> {
        let listen = parse_listen(&self.listen, &field(path, "listen"), errs);
        let admin_listen = if self.admin_listen.trim().is_empty() {
            Some(None)
        } else {
            parse_listen(&self.admin_listen, &field(path, "admin_listen"), errs).map(Some)
        };
        let version_header = self.version_header.trim();
        if !version_header.is_empty() && http_token(version_header).is_err() {
            errs.push(
                field(path, "version_header"),
                format!("{version_header:?} is not a valid header name"),
            );
        }
        if let Some(geo) = &self.geo {
            geo.validate_into(&field(path, "geo"), errs);
        }
        if let Some(o) = &self.overrides {
            o.validate_into(&field(path, "overrides"), errs);
        }
        if let Some(tls) = &self.tls {
            for (name, p) in [("cert", &tls.cert), ("key", &tls.key)] {
                if p.as_os_str().is_empty() {
                    errs.push(field(&field(path, "tls"), name), "the file path is empty");
                }
            }
        }
        if self.workers == Some(0) {
            errs.push(
                field(path, "workers"),
                "must be at least 1 (leave it out for one per core)",
            );
        }
        Some(EdgeSettings {
            listen: listen?,
            admin_listen: admin_listen?,
            version_header: (!version_header.is_empty()).then(|| version_header.to_string()),
            tls: self.tls.as_ref().map(|t| TlsSettings {
                cert: t.cert.clone(),
                key: t.key.clone(),
            }),
            geo: self.geo.clone(),
            overrides: self.overrides.clone(),
            drain_timeout: self.drain_timeout,
            workers: self.workers,
        })
    }
}

impl EdgeSettings {
    /// The edge-local routing context: loads the GeoIP database and reads the override HMAC
    /// key from the environment. Call it at start and on every reload.
    pub fn context(&self) -> Result<EdgeContext, ContextError> {
        let geo = match &self.geo {
            None => GeoSource::None,
            Some(GeoSpec::Header(h)) => GeoSource::Header(h.clone()),
            Some(GeoSpec::Mmdb(path)) => {
                let bytes = std::fs::read(path).map_err(|e| ContextError::Geo {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                let reader =
                    maxminddb::Reader::from_source(bytes).map_err(|e| ContextError::Geo {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                GeoSource::Db(Arc::new(reader))
            }
        };
        let overrides = match &self.overrides {
            None => None,
            Some(spec) => {
                let key = match &spec.hmac_key_env {
                    None => None,
                    Some(var) => match std::env::var(var) {
                        Ok(v) if !v.is_empty() => Some(v.into_bytes()),
                        _ => None,
                    },
                };
                Some(
                    spec.to_settings(key)
                        .map_err(|e| ContextError::Overrides(e.to_string()))?,
                )
            }
        };
        Ok(EdgeContext { geo, overrides })
    }
}

/// Why the edge-local context could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The GeoIP database could not be loaded.
    #[error(
        "edge.geo.mmdb: cannot load {path:?}: {reason} (point it at a MaxMind-format .mmdb file, or use geo = {{ header = \"CF-IPCountry\" }})"
    )]
    Geo {
        /// The configured path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The override settings are unusable (a short HMAC key, say).
    #[error("edge.overrides: {0}")]
    Overrides(String),
}

/// An HTTP header name: RFC 9110 token characters.
fn http_token(s: &str) -> Result<(), ()> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok { Ok(()) } else { Err(()) }
}
