//! The edge proxy: every client request is routed by the current routing table (held in an
//! atomically swapped snapshot, never waiting on the control plane), protected by a circuit
//! breaker per version and health-checked upstream pools, forwarded with its body streamed both
//! ways, tagged with the version that served it, and recorded into per-thread telemetry.
//! Errors are attributed to the side that caused them (upstream, downstream, proxy), so a
//! version is never charged for a client that went away or for the proxy's own faults.
//!
//! Request path, one file per phase: [`route`](crate::route) → header rewriting
//! ([`headers`](crate::headers)) → [`forward`](crate::forward) → [`respond`](crate::respond),
//! with the accounting settled once per request in [`exchange`](crate::exchange). Upstream
//! connections speak HTTP/1.1 through the edge's own client ([`conn`](crate::conn),
//! [`wire`](crate::wire), [`chunked`](crate::chunked)); clients are served by hyper.

mod admin;
mod balance;
mod body;
mod breaker;
mod chunked;
mod clock;
mod conn;
mod cookie;
mod edge;
mod endpoint;
mod exchange;
mod forward;
mod headers;
mod health;
mod pool;
mod proxy;
mod reload;
mod respond;
mod route;
mod server;
mod settings;
mod shared;
mod snapshot;
mod status;
mod telemetry;
mod tls;
mod upstream;
mod view;
mod wire;
mod workers;

pub use body::{BodyError, ProxyBody};
pub use breaker::BreakerState;
pub use cookie::{ANONYMOUS_COOKIE_MAX_AGE, MintError, mint_id};
pub use edge::{BoundEdge, Edge, EdgeError};
pub use headers::{COHORT_REQUEST_HEADER, REROUTED_REQUEST_HEADER, VERSION_REQUEST_HEADER};
pub use health::HEALTH_CHECK_USER_AGENT;
pub use reload::{Loader, POLL_INTERVAL, Reloader, watch_files};
pub use settings::{DEFAULT_VERSION_HEADER, ProxySettings};
pub use shared::TableHandle;
pub use status::{BreakerReport, EndpointReport};
pub use telemetry::{Telemetry, close_windows};
pub use tls::{TlsError, TlsFiles};
pub use upstream::{IDEMPOTENCY_KEY, UpstreamError};
pub use wire::ExchangeError;
