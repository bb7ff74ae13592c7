//! Integration tests of the edge proxy running in-process against real hyper upstreams on
//! ephemeral ports, driven by a real HTTP client (reqwest).
#![allow(clippy::unwrap_used)]

#[path = "edge/harness.rs"]
mod harness;
#[path = "edge/raw.rs"]
mod raw;
#[path = "../../../tests/support/upstream.rs"]
mod upstream;

#[path = "edge/admin.rs"]
mod admin;
#[path = "edge/lifecycle.rs"]
mod lifecycle;
#[path = "edge/protocols.rs"]
mod protocols;
#[path = "edge/resilience.rs"]
mod resilience;
#[path = "edge/routing.rs"]
mod routing;
#[path = "edge/streaming.rs"]
mod streaming;
#[path = "edge/upstream_reuse.rs"]
mod upstream_reuse;
#[path = "edge/upstream_streaming.rs"]
mod upstream_streaming;
#[path = "edge/upstream_wire.rs"]
mod upstream_wire;
