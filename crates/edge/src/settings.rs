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
    /// Serve clients on this many worker threads of the edge's own, each with its own
    /// single-threaded runtime and listening socket (thread per core, like nginx workers).
    /// `None`: serve them on the runtime that runs the edge.
    pub workers: Option<usize>,
}

/// The default response version header.
pub const DEFAULT_VERSION_HEADER: &str = "x-version";

impl ProxySettings {
    /// Settings listening on `listen`, with no admin listener, the `X-Version` header, no TLS,
    /// a 30 s drain, and clients served on the caller's runtime.
    pub fn new(listen: SocketAddr) -> ProxySettings {
        ProxySettings {
            listen,
            admin_listen: None,
            version_header: Some(HeaderName::from_static(DEFAULT_VERSION_HEADER)),
            tls: None,
            drain_timeout: Duration::from_secs(30),
            workers: None,
        }
    }
}
