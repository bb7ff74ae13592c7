//! The edge's runtime view of one routing table: for every service and version, its upstream
//! endpoints (with health state and idle connections), load balancer, circuit breaker and
//! telemetry series. Built off the hot path whenever a table is published, reusing the
//! endpoints and breakers of the previous snapshot that did not change, so health, breaker
//! state and warm connections survive a reload.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use http::HeaderValue;
use rollgate_core::model::UnixMillis;
use rollgate_core::{Cohort, HealthCheckSpec, RoutingTable, ServiceSpec};
use rollgate_metrics::{DropReason, ErrorSide, Recorder, RequestRecord, SeriesId, SeriesKey};

use crate::balance::Balancer;
use crate::breaker::Breaker;
use crate::clock::{Arrival, Millis, now_ms};
use crate::endpoint::{Endpoint, HealthPolicy, PASSIVE_EJECTION_MS};
use crate::pool::IdlePool;

/// A routing table and everything the proxy runs it with.
#[derive(Debug)]
pub(crate) struct Snapshot {
    table: Arc<RoutingTable>,
    services: Box<[ServiceRt]>,
    recorder: Arc<Recorder>,
}

/// One service at runtime.
#[derive(Debug)]
pub(crate) struct ServiceRt {
    pub(crate) name: Arc<str>,
    pub(crate) timeouts: Timeouts,
    /// The version that takes over when the chosen one cannot serve: the rollout's stable
    /// version, or the service's default.
    pub(crate) fallback: usize,
    pub(crate) versions: Box<[VersionRt]>,
}

/// Upstream timeouts of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) first_byte: Duration,
    pub(crate) total: Duration,
}

/// One version at runtime.
#[derive(Debug)]
pub(crate) struct VersionRt {
    pub(crate) name: Arc<str>,
    /// The version name as a header value (`X-Version`, `X-Rollgate-Version`).
    pub(crate) header: HeaderValue,
    pub(crate) endpoints: Box<[Arc<Endpoint>]>,
    pub(crate) balancer: Balancer,
    pub(crate) breaker: Arc<Breaker>,
    /// Counters kept across reloads.
    pub(crate) stats: Arc<VersionStats>,
    /// The telemetry series of this version, by cohort ([`cohort_slot`]).
    series: [Option<SeriesId>; 3],
}

/// Counters of one version that survive reloads, exposed on `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct VersionStats {
    /// Requests decided for this version but sent to the fallback: breaker open.
    pub(crate) rerouted_breaker: AtomicU64,
    /// … or no healthy endpoint.
    pub(crate) rerouted_unhealthy: AtomicU64,
    /// Requests that could not connect to this version and were retried on the fallback.
    pub(crate) retried: AtomicU64,
}

/// Where one request goes: a version, the endpoint picked, and how it is accounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) version: VersionRef,
    pub(crate) endpoint: usize,
    /// Admitted as a half-open probe of the version's breaker.
    pub(crate) probe: bool,
    pub(crate) series: Option<SeriesId>,
}

/// A version by position: service, then version within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct VersionRef {
    pub(crate) service: usize,
    pub(crate) version: usize,
}

/// Endpoints, breakers and counters of a previous snapshot, by what identifies them.
#[derive(Default)]
struct Reuse<'a> {
    endpoints: HashMap<EndpointKey<'a>, &'a Arc<Endpoint>>,
    versions: HashMap<(&'a str, &'a str), &'a VersionRt>,
}

/// An endpoint is the same across snapshots when its service, version and address are (and,
/// checked on lookup, its health checks).
type EndpointKey<'a> = (&'a str, &'a str, &'a str);

/// Most idle keep-alive connections per endpoint and worker thread.
const MAX_IDLE_PER_THREAD: usize = 64;
/// How long an idle upstream connection is kept.
const IDLE_TIMEOUT_MS: Millis = 30_000;

/// The slot of `cohort` in [`VersionRt::series`].
fn cohort_slot(cohort: Cohort) -> usize {
    match cohort {
        Cohort::Canary => 0,
        Cohort::Baseline => 1,
        Cohort::Stable => 2,
    }
}

impl Snapshot {
    /// The runtime view of `table`, keeping what is unchanged from `previous`. Also returns
    /// the new endpoints with active health checks: their checkers must start.
    pub(crate) fn build(
        table: Arc<RoutingTable>,
        previous: Option<&Snapshot>,
        recorder: Arc<Recorder>,
    ) -> (Snapshot, Vec<Arc<Endpoint>>) {
        let reuse = previous.map(Snapshot::reusable).unwrap_or_default();
        let spec = table.spec();
        let now = now_ms();
        let mut checks = Vec::new();
        let services = spec
            .services
            .iter()
            .map(|s| {
                let rollout = spec.rollouts.iter().find(|r| r.service == s.name);
                let fallback = rollout
                    .map(|r| r.stable.as_str())
                    .or_else(|| s.default_version())
                    .and_then(|v| s.version_index(v))
                    .unwrap_or(0);
                let rollout_name = rollout.map_or("", |r| r.name.as_str());
                let versions = (0..s.versions.len())
                    .map(|v| build_version(s, v, rollout_name, &reuse, &recorder, now, &mut checks))
                    .collect();
                ServiceRt {
                    name: s.name.as_str().into(),
                    timeouts: Timeouts::of(s),
                    fallback,
                    versions,
                }
            })
            .collect();
        drop(reuse);
        (
            Snapshot {
                table,
                services,
                recorder,
            },
            checks,
        )
    }

    fn reusable(&self) -> Reuse<'_> {
        let mut reuse = Reuse::default();
        for s in self.services.iter() {
            for v in s.versions.iter() {
                reuse.versions.insert((&*s.name, &*v.name), v);
                for e in v.endpoints.iter() {
                    reuse.endpoints.insert((&*s.name, &*v.name, e.addr()), e);
                }
            }
        }
        reuse
    }

    /// The routing table.
    pub(crate) fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// The shared routing table.
    pub(crate) fn table_arc(&self) -> &Arc<RoutingTable> {
        &self.table
    }

    /// Every service.
    pub(crate) fn services(&self) -> &[ServiceRt] {
        &self.services
    }

    /// A service by position.
    pub(crate) fn service(&self, i: usize) -> Option<&ServiceRt> {
        self.services.get(i)
    }

    /// A version by reference. References come from this snapshot, so they are in range;
    /// an out-of-range one panics, which would be a bug in the proxy.
    pub(crate) fn version(&self, r: VersionRef) -> &VersionRt {
        &self.services[r.service].versions[r.version]
    }

    /// Records a request the edge answered itself without reaching an upstream (a proxy-side
    /// failure, never charged to a version).
    pub(crate) fn record_unserved(&self, series: Option<SeriesId>, status: u16, arrival: &Arrival) {
        let latency_us = u64::try_from(arrival.at.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.record(
            arrival.unix_ms,
            series.map(|series| RequestRecord {
                series,
                status,
                latency_us,
                bytes_out: 0,
                error: Some(ErrorSide::Proxy),
            }),
        );
    }

    /// Records a request finished at `at` (Unix milliseconds), or counts it as dropped when
    /// its series was refused.
    pub(crate) fn record(&self, at: UnixMillis, record: Option<RequestRecord>) {
        match record {
            Some(r) => self.recorder.record_request(at, &r),
            None => self.recorder.drop_record(at, DropReason::SeriesCap),
        }
    }
}

fn build_version(
    s: &ServiceSpec,
    v: usize,
    rollout: &str,
    reuse: &Reuse<'_>,
    recorder: &Recorder,
    now: Millis,
    checks: &mut Vec<Arc<Endpoint>>,
) -> VersionRt {
    let spec = &s.versions[v];
    let policy = health_policy(s.health_check.as_ref());
    let endpoints = spec
        .endpoints
        .iter()
        .map(|addr| {
            let key = (s.name.as_str(), spec.name.as_str(), addr.as_str());
            if let Some(e) = reuse.endpoints.get(&key)
                && e.check() == s.health_check.as_ref()
            {
                return Arc::clone(e);
            }
            let pool = IdlePool::new(MAX_IDLE_PER_THREAD, IDLE_TIMEOUT_MS);
            let e = Arc::new(Endpoint::new(addr, policy, pool, s.health_check.clone()));
            if s.health_check.is_some() {
                checks.push(e.clone());
            }
            e
        })
        .collect();
    let before = reuse.versions.get(&(s.name.as_str(), spec.name.as_str()));
    let breaker = match before {
        Some(b) if *b.breaker.spec() == s.breaker => Arc::clone(&b.breaker),
        _ => Arc::new(Breaker::new(s.breaker, now)),
    };
    let stats = before.map_or_else(Arc::default, |b| Arc::clone(&b.stats));
    let series = Cohort::ALL.map(|c| {
        let key = SeriesKey::new(&s.name, rollout, &spec.name, c);
        recorder
            .registry()
            .series(&key)
            .map_err(|e| tracing::warn!(error = %e, "telemetry series refused"))
            .ok()
    });
    let mut ordered = [None; 3];
    for (c, id) in Cohort::ALL.into_iter().zip(series) {
        ordered[cohort_slot(c)] = id;
    }
    VersionRt {
        name: spec.name.as_str().into(),
        // Version names are validated to letters, digits, '.', '_' and '-'.
        header: HeaderValue::from_str(&spec.name)
            .unwrap_or_else(|_| HeaderValue::from_static("invalid")),
        endpoints,
        balancer: Balancer::new(s.load_balancing),
        breaker,
        stats,
        series: ordered,
    }
}

fn health_policy(check: Option<&HealthCheckSpec>) -> HealthPolicy {
    match check {
        Some(c) => HealthPolicy {
            active: true,
            unhealthy_threshold: c.unhealthy_threshold.max(1),
            healthy_threshold: c.healthy_threshold.max(1),
            ejection_ms: PASSIVE_EJECTION_MS,
        },
        None => HealthPolicy {
            active: false,
            unhealthy_threshold: HealthCheckSpec::default().unhealthy_threshold,
            healthy_threshold: 1,
            ejection_ms: PASSIVE_EJECTION_MS,
        },
    }
}

impl Timeouts {
    fn of(s: &ServiceSpec) -> Timeouts {
        Timeouts {
            connect: s.timeouts.connect.get(),
            first_byte: s.timeouts.first_byte.get(),
            total: s.timeouts.total.get(),
        }
    }
}

impl VersionRt {
    /// An endpoint by position.
    pub(crate) fn endpoint(&self, i: usize) -> Option<&Arc<Endpoint>> {
        self.endpoints.get(i)
    }

    /// The telemetry series of this version for units in `cohort`.
    pub(crate) fn series(&self, cohort: Cohort) -> Option<SeriesId> {
        self.series[cohort_slot(cohort)]
    }

    /// True when some endpoint may take traffic at `now`.
    pub(crate) fn any_available(&self, now: Millis) -> bool {
        self.endpoints.iter().any(|e| e.available(now))
    }
}
