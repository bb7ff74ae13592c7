//! Phase 1 of a request: which service, version and endpoint it goes to. The routing table
//! decides the version and cohort; then the version's circuit breaker and endpoint health may
//! send it to the fallback (stable) version instead.

use std::cell::Cell;
use std::net::IpAddr;
use std::sync::atomic::Ordering;

use http::request::Parts;
use rollgate_core::Cohort;

use crate::breaker::{Admission, Outcome};
use crate::clock::{Arrival, Millis};
use crate::cookie::{MintError, mint_id};
use crate::snapshot::{ServiceRt, Snapshot, Target, VersionRef};
use crate::view::PartsView;

/// Where a request goes.
#[derive(Debug)]
pub(crate) struct Routed {
    pub(crate) target: Target,
    /// The unit's cohort, as decided (kept when the version is rerouted).
    pub(crate) cohort: Cohort,
    /// The version to retry on when the target cannot be reached: the fallback, unless the
    /// target already is the fallback.
    pub(crate) retry_on: Option<VersionRef>,
    /// Why the decided version was replaced, if it was.
    pub(crate) rerouted: Option<Reroute>,
    /// A freshly minted anonymous unit id and the cookie to keep it in.
    pub(crate) minted: Option<Minted>,
}

/// A unit id minted for a request without one.
#[derive(Debug)]
pub(crate) struct Minted {
    pub(crate) cookie: Box<str>,
    pub(crate) id: String,
}

/// Why a request did not go to the version the routing table decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reroute {
    /// The version's circuit breaker is open.
    BreakerOpen,
    /// None of the version's endpoints is healthy.
    NoHealthyEndpoint,
}

impl Reroute {
    /// The value of the `X-Rollgate-Rerouted` request header.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reroute::BreakerOpen => "breaker_open",
            Reroute::NoHealthyEndpoint => "no_healthy_endpoint",
        }
    }
}

/// Why a request cannot be routed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RouteError {
    /// No service answers the request's host and path.
    #[error("no service answers this host and path")]
    NoService,
    /// A unit id was needed and could not be minted.
    #[error(transparent)]
    Mint(#[from] MintError),
    /// The fallback version has no healthy endpoint.
    #[error("no healthy endpoint for version {version:?} of service {service:?}")]
    NoHealthyEndpoint {
        /// The version the request would have gone to.
        version: VersionRef,
        /// The service name.
        service: String,
        /// A minted unit id to set anyway, so the unit keeps its cohort.
        minted: Option<Minted>,
        /// The unit's cohort.
        cohort: Cohort,
    },
}

/// Routes the request with head `parts` from `client_ip` at `now`.
pub(crate) fn route(
    snap: &Snapshot,
    parts: &Parts,
    client_ip: IpAddr,
    arrival: &Arrival,
) -> Result<Routed, RouteError> {
    let now = arrival.ms();
    let view = PartsView::new(parts, client_ip);
    let mint_error = Cell::new(None);
    let mint = || {
        mint_id().unwrap_or_else(|e| {
            mint_error.set(Some(e));
            String::new()
        })
    };
    let decision = snap
        .table()
        .decide(&view, arrival.unix_secs(), mint)
        .ok_or(RouteError::NoService)?;
    if let Some(e) = mint_error.take() {
        return Err(e.into());
    }
    let service = decision.service_index();
    let cohort = decision.cohort();
    let chosen = decision.version_index();
    let minted = match decision.minted() {
        true => Some(Minted {
            cookie: decision.anonymous_cookie().into(),
            id: decision.into_unit().into_owned(),
        }),
        false => None,
    };
    let Some(svc) = snap.service(service) else {
        return Err(RouteError::NoService);
    };
    let fallback = VersionRef {
        service,
        version: svc.fallback,
    };
    let mut rerouted = None;
    if chosen != svc.fallback {
        let wanted = VersionRef {
            service,
            version: chosen,
        };
        match try_version(snap, wanted, cohort, now) {
            Ok(target) => {
                return Ok(Routed {
                    target,
                    cohort,
                    retry_on: Some(fallback),
                    rerouted,
                    minted,
                });
            }
            Err(why) => {
                let stats = &snap.version(wanted).stats;
                let counter = match why {
                    Reroute::BreakerOpen => &stats.rerouted_breaker,
                    Reroute::NoHealthyEndpoint => &stats.rerouted_unhealthy,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                rerouted = Some(why);
            }
        }
    }
    match serve_fallback(svc, fallback, cohort, now) {
        Some(target) => Ok(Routed {
            target,
            cohort,
            retry_on: None,
            rerouted,
            minted,
        }),
        None => Err(RouteError::NoHealthyEndpoint {
            version: fallback,
            service: svc.name.to_string(),
            minted,
            cohort,
        }),
    }
}

/// The version `wanted`, if its breaker admits the request and an endpoint is available.
fn try_version(
    snap: &Snapshot,
    wanted: VersionRef,
    cohort: Cohort,
    now: Millis,
) -> Result<Target, Reroute> {
    let v = snap.version(wanted);
    let admission = v.breaker.admit(now);
    if admission == Admission::Rejected {
        return Err(Reroute::BreakerOpen);
    }
    let probe = admission == Admission::Probe;
    match v.balancer.pick(&v.endpoints, now) {
        Some(e) => Ok(Target {
            version: wanted,
            endpoint: e,
            probe,
            series: v.series(cohort),
        }),
        None => {
            // The probe permit was not used: give it back.
            if probe {
                v.breaker.record(Outcome::Neutral, true, now);
            }
            Err(Reroute::NoHealthyEndpoint)
        }
    }
}

/// The fallback version: served even when its breaker is open, since there is nothing
/// better to send the request to (its breaker still gets probes to learn when it recovers).
fn serve_fallback(
    svc: &ServiceRt,
    fallback: VersionRef,
    cohort: Cohort,
    now: Millis,
) -> Option<Target> {
    let v = &svc.versions[fallback.version];
    let probe = v.breaker.admit(now) == Admission::Probe;
    let picked = v.balancer.pick(&v.endpoints, now);
    if picked.is_none() && probe {
        v.breaker.record(Outcome::Neutral, true, now);
    }
    picked.map(|e| Target {
        version: fallback,
        endpoint: e,
        probe,
        series: v.series(cohort),
    })
}

/// Picks an endpoint of `version` for a retry.
pub(crate) fn retry_target(
    snap: &Snapshot,
    version: VersionRef,
    cohort: Cohort,
    now: Millis,
) -> Option<Target> {
    let svc = snap.service(version.service)?;
    serve_fallback(svc, version, cohort, now)
}
