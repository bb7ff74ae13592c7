//! How one edge runs: where it listens, how it tags responses, TLS and draining. The
//! `rollgate.toml` `[edge]` table is turned into this by the command line.

use std::net::SocketAddr;
use std::time::Duration;

use http::HeaderName;

use crate::tls::TlsFiles;

/// How one edge runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxySettings {
    /// Where clients connect: HTTP/1.1 and HTTP/2 (h2c, or ALPN with TLS).
    pub listen: SocketAddr,
    /// Where `/metrics`, `/healthz`, `/readyz` and `/debug/routing` are served, if anywhere.
    pub admin_listen: Option<SocketAddr>,
    /// The response header naming the version that served the request (`X-Version`); `None`
    /// turns it off.
    pub version_header: Option<HeaderName>,
    /// Terminate TLS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: Duration,
}

/// The default response version header.
pub const DEFAULT_VERSION_HEADER: &str = "x-version";

impl ProxySettings {
    /// Settings listening on `listen`, with no admin listener, the `X-Version` header, no TLS
    /// and a 30 s drain.
    pub fn new(listen: SocketAddr) -> ProxySettings {
        ProxySettings {
            listen,
            admin_listen: None,
            version_header: Some(HeaderName::from_static(DEFAULT_VERSION_HEADER)),
            tls: None,
            drain_timeout: Duration::from_secs(30),
        }
    }
}
