//! What the edge can report about its upstreams: breaker states (the controller holds a
//! rollout while its canary's breaker is open) and endpoint health, plus the readiness
//! verdict and the edge's own Prometheus gauges built from them.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::breaker::BreakerState;
use crate::clock::{now_ms, wall_time};
use crate::snapshot::Snapshot;

/// The breaker of one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakerReport {
    /// The service.
    pub service: String,
    /// The version.
    pub version: String,
    /// Where its breaker stands.
    pub state: BreakerState,
    /// When it entered that state.
    pub since: SystemTime,
}

/// One endpoint of a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointReport {
    /// The service.
    pub service: String,
    /// The version.
    pub version: String,
    /// `host:port`.
    pub endpoint: String,
    /// Whether the load balancer may pick it now.
    pub healthy: bool,
    /// Requests in flight.
    pub in_flight: u32,
}

/// Every version's breaker, in configuration order.
pub(crate) fn breakers(snap: &Snapshot) -> Vec<BreakerReport> {
    let mut out = Vec::new();
    for s in snap.services() {
        for v in s.versions.iter() {
            let (state, since) = v.breaker.state();
            out.push(BreakerReport {
                service: s.name.to_string(),
                version: v.name.to_string(),
                state,
                since: wall_time(since),
            });
        }
    }
    out
}

/// Every endpoint, in configuration order.
pub(crate) fn endpoints(snap: &Snapshot) -> Vec<EndpointReport> {
    let now = now_ms();
    let mut out = Vec::new();
    for s in snap.services() {
        for v in s.versions.iter() {
            for e in v.endpoints.iter() {
                out.push(EndpointReport {
                    service: s.name.to_string(),
                    version: v.name.to_string(),
                    endpoint: e.addr().to_string(),
                    healthy: e.available(now),
                    in_flight: e.in_flight(),
                });
            }
        }
    }
    out
}

/// Services whose fallback (stable) version has no healthy endpoint: the edge is ready when
/// there are none.
pub(crate) fn unready(snap: &Snapshot) -> Vec<String> {
    let now = now_ms();
    snap.services()
        .iter()
        .filter(|s| !s.versions[s.fallback].any_available(now))
        .map(|s| format!("{}/{}", s.name, s.versions[s.fallback].name))
        .collect()
}

/// The edge's own gauges in the Prometheus text format: breaker state per version, health
/// per endpoint, tables published.
pub(crate) fn render_gauges(snap: &Snapshot, swaps: u64, out: &mut String) {
    out.push_str("# HELP rollgate_edge_breaker_state Circuit breaker of each version: 0 closed, 1 open, 2 half-open.\n");
    out.push_str("# TYPE rollgate_edge_breaker_state gauge\n");
    for b in breakers(snap) {
        let code = match b.state {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        };
        let _ = writeln!(
            out,
            "rollgate_edge_breaker_state{{service=\"{}\",version=\"{}\"}} {code}",
            b.service, b.version
        );
    }
    out.push_str(
        "# HELP rollgate_edge_endpoint_healthy Whether the load balancer may pick the endpoint.\n",
    );
    out.push_str("# TYPE rollgate_edge_endpoint_healthy gauge\n");
    for e in endpoints(snap) {
        let _ = writeln!(
            out,
            "rollgate_edge_endpoint_healthy{{service=\"{}\",version=\"{}\",endpoint=\"{}\"}} {}",
            e.service,
            e.version,
            e.endpoint,
            u8::from(e.healthy)
        );
    }
    render_version_counters(snap, out);
    out.push_str(
        "# HELP rollgate_edge_table_swaps_total Routing tables published since the edge started.\n",
    );
    out.push_str("# TYPE rollgate_edge_table_swaps_total counter\n");
    let _ = writeln!(out, "rollgate_edge_table_swaps_total {swaps}");
}

fn render_version_counters(snap: &Snapshot, out: &mut String) {
    out.push_str("# HELP rollgate_edge_rerouted_total Requests decided for a version but sent to the stable one.\n");
    out.push_str("# TYPE rollgate_edge_rerouted_total counter\n");
    for s in snap.services() {
        for v in s.versions.iter() {
            for (reason, n) in [
                ("breaker_open", &v.stats.rerouted_breaker),
                ("no_healthy_endpoint", &v.stats.rerouted_unhealthy),
            ] {
                let _ = writeln!(
                    out,
                    "rollgate_edge_rerouted_total{{service=\"{}\",version=\"{}\",reason=\"{reason}\"}} {}",
                    s.name,
                    v.name,
                    n.load(Ordering::Relaxed)
                );
            }
        }
    }
    out.push_str("# HELP rollgate_edge_retried_total Requests that could not connect to a version and were retried on the stable one.\n");
    out.push_str("# TYPE rollgate_edge_retried_total counter\n");
    for s in snap.services() {
        for v in s.versions.iter() {
            let n = v.stats.retried.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "rollgate_edge_retried_total{{service=\"{}\",version=\"{}\"}} {n}",
                s.name, v.name
            );
        }
    }
}

/// The current routing spec with breaker and endpoint states, for `/debug/routing`.
pub(crate) fn debug_json(snap: &Snapshot) -> Value {
    let unix = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    };
    let breakers: Vec<Value> = breakers(snap)
        .into_iter()
        .map(|b| json!({"service": b.service, "version": b.version, "state": b.state.as_str(), "since_unix_ms": unix(b.since)}))
        .collect();
    let endpoints: Vec<Value> = endpoints(snap)
        .into_iter()
        .map(|e| json!({"service": e.service, "version": e.version, "endpoint": e.endpoint, "healthy": e.healthy, "in_flight": e.in_flight}))
        .collect();
    json!({"spec": snap.table().spec(), "breakers": breakers, "endpoints": endpoints})
}
