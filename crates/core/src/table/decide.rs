//! The decision: service → unit → override → rollout audience and bucket → experiments.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::RoutingTable;
use super::compiled::{Rollout, Service};
use crate::audience::Subject;
use crate::decision::{Assigned, Decision, ExperimentAssignment, Route, Why};
use crate::overrides::Forced;
use crate::table::UnknownName;
use crate::{BucketingVersion, Cohort, RequestView, bucket};

impl RoutingTable {
    /// The decision for one request, or `None` when no service answers its host and path.
    ///
    /// The unit is the service's unit header, else its unit cookie, else its anonymous cookie,
    /// else `mint()` (then [`Decision::minted`] is true and the proxy sets the anonymous
    /// cookie). `now_unix_secs` is only used to check the expiry of signed overrides.
    pub fn decide<'t, 'r, R: RequestView + ?Sized>(
        &'t self,
        req: &'r R,
        now_unix_secs: u64,
        mint: impl FnOnce() -> String,
    ) -> Option<Decision<'t, 'r>> {
        let s = self.routes.find(req.host(), req.path())?;
        let svc = &self.services[s];
        let (unit, minted) = match unit_of(svc, req) {
            Some(u) => (Cow::Borrowed(u), false),
            None => (Cow::Owned(mint()), true),
        };
        let forced = self
            .ctx
            .overrides
            .as_ref()
            .and_then(|o| o.forced(req, &svc.name, &svc.versions, now_unix_secs));
        let route = self.route(s, &Subject::new(req, &unit, &self.ctx.geo), forced);
        Some(Decision {
            table: self,
            service: s,
            route,
            unit,
            minted,
        })
    }

    /// What `unit` gets from `service` for a request described by `attrs` (for the API, OFREP
    /// and event ingest). Overrides are per request and not applied.
    pub fn assign<'t, 'u, R: RequestView + ?Sized>(
        &'t self,
        service: &str,
        unit: &'u str,
        attrs: &R,
    ) -> Result<Decision<'t, 'u>, UnknownName> {
        let s = self
            .service_index(service)
            .ok_or_else(|| self.unknown_service(service))?;
        let route = self.route(s, &Subject::new(attrs, unit, &self.ctx.geo), None);
        Ok(Decision {
            table: self,
            service: s,
            route,
            unit: Cow::Borrowed(unit),
            minted: false,
        })
    }

    /// The cohort of `unit` in rollout `rollout` by bucketing alone (audience not checked), or
    /// `None` for an unknown rollout.
    pub fn cohort_of(&self, rollout: &str, unit: &str) -> Option<Cohort> {
        let r = &self.rollouts[self.rollout_index(rollout)?];
        Some(Cohort::of_bucket(
            bucket(BucketingVersion::V1, &r.salt, unit),
            r.weight,
        ))
    }

    /// The variant of `unit` in `experiment` for a request described by `attrs`; `Ok(None)`
    /// when the unit is not in the experiment (another experiment's slice of the layer, outside
    /// the allocation or the audience).
    pub fn variant_of<'a, R: RequestView + ?Sized>(
        &'a self,
        experiment: &str,
        unit: &str,
        attrs: &R,
    ) -> Result<Option<ExperimentAssignment<'a>>, UnknownName> {
        let e = self
            .experiment_index(experiment)
            .ok_or_else(|| self.unknown_experiment(experiment))?;
        let subject = Subject::new(attrs, unit, &self.ctx.geo);
        let found = self.experiment_in_layer(self.experiments[e].layer, &subject, |x| x == e);
        Ok(found.map(|a| self.assignment(a)))
    }

    fn route<R: RequestView + ?Sized>(
        &self,
        s: usize,
        subject: &Subject<'_, R>,
        forced: Option<Forced>,
    ) -> Route {
        let svc = &self.services[s];
        let mut route = Route {
            version: svc.default_version,
            cohort: Cohort::Stable,
            rollout: svc.rollout,
            bucket: None,
            why: Why::NoRollout,
            experiments: self.experiments_of(s, subject),
        };
        if let Some(f) = forced {
            route.version = f.version;
            route.why = Why::Override {
                via: f.via,
                trust: f.trust,
            };
        } else if let Some(r) = svc.rollout {
            self.rollouts[r].place(subject, &mut route);
        } else if let Some((a, v)) = route.experiments.iter().find_map(|a| {
            let version = self.experiments[a.experiment].variants[a.variant].version?;
            Some((*a, version))
        }) {
            route.version = v;
            route.why = Why::Experiment(a);
        }
        route
    }

    /// The unit's variant in every experiment of service `s` (and of every service).
    fn experiments_of<R: RequestView + ?Sized>(
        &self,
        s: usize,
        subject: &Subject<'_, R>,
    ) -> SmallVec<[Assigned; 2]> {
        let svc = &self.services[s];
        let applies = |e: usize| self.experiments[e].service.is_none_or(|es| es == s);
        svc.layers
            .iter()
            .filter_map(|&l| self.experiment_in_layer(l, subject, applies))
            .collect()
    }

    /// The experiment of layer `l` the unit falls in, when `wanted` accepts it and the unit is
    /// in its audience, with the unit's variant.
    fn experiment_in_layer<R: RequestView + ?Sized>(
        &self,
        l: usize,
        subject: &Subject<'_, R>,
        wanted: impl Fn(usize) -> bool,
    ) -> Option<Assigned> {
        let layer = &self.layers[l];
        let e = layer.experiment_at(bucket(BucketingVersion::V1, &layer.salt, subject.unit()))?;
        if !wanted(e) {
            return None;
        }
        let exp = &self.experiments[e];
        if exp.audience.as_ref().is_some_and(|a| !a.eval(subject)) {
            return None;
        }
        let b = bucket(BucketingVersion::V1, &exp.salt, subject.unit());
        Some(Assigned {
            experiment: e,
            variant: exp.variant_at(b),
        })
    }
}

impl Rollout {
    /// Places the unit: outside the audience → stable; otherwise its bucket picks the cohort.
    fn place<R: RequestView + ?Sized>(&self, subject: &Subject<'_, R>, route: &mut Route) {
        route.version = self.stable;
        if self.audience.as_ref().is_some_and(|a| !a.eval(subject)) {
            route.why = Why::OutsideAudience;
            return;
        }
        let b = bucket(BucketingVersion::V1, &self.salt, subject.unit());
        route.bucket = Some(b);
        route.cohort = Cohort::of_bucket(b, self.weight);
        route.why = Why::Bucket;
        if route.cohort.is_canary() {
            route.version = self.canary;
        }
    }
}

/// The unit id a request carries for a service: unit header, unit cookie, anonymous cookie.
fn unit_of<'r, R: RequestView + ?Sized>(svc: &Service, req: &'r R) -> Option<&'r str> {
    let non_empty = |v: &'r str| Some(v).filter(|v| !v.is_empty());
    svc.unit_header
        .as_deref()
        .and_then(|h| req.header(h))
        .and_then(non_empty)
        .or_else(|| {
            svc.unit_cookie
                .as_deref()
                .and_then(|c| req.cookie(c))
                .and_then(non_empty)
        })
        .or_else(|| req.cookie(&svc.anonymous_cookie).and_then(non_empty))
}
