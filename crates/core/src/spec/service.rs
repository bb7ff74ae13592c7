//! `[[services]]`: where a service is reached, who its units are and which versions serve it.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::spec::check::{
    check_duplicate, check_header_name, check_name, check_positive, parse_endpoint,
};
use crate::spec_error::{field, index};
use crate::{DurationSpec, Ppm, SpecErrors, did_you_mean};

/// A service the edge proxies: the hosts and path it answers, how a unit is identified, how
/// upstreams are balanced and protected, and the versions that can serve it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Unique name (`shop`): letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Host names this service answers (the `Host` header without port, any case). Empty: any
    /// host.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Requests whose path is under this prefix (`/api` matches `/api` and `/api/x`, not
    /// `/apix`). The longest matching prefix wins.
    #[serde(default = "default_path_prefix")]
    pub path_prefix: String,
    /// How the unit (the thing that is bucketed) is identified.
    #[serde(default)]
    pub unit: UnitSpec,
    /// How requests are spread over a version's endpoints.
    #[serde(default)]
    pub load_balancing: LoadBalancing,
    /// Upstream timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsSpec,
    /// Active health checks of every endpoint; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheckSpec>,
    /// The circuit breaker that stops sending traffic to a failing version.
    #[serde(default)]
    pub breaker: BreakerSpec,
    /// The version that serves all traffic when no rollout or experiment moves it. Default: the
    /// first version listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<String>,
    /// The versions that can serve this service (at least one).
    pub versions: Vec<VersionSpec>,
}

/// Who a unit is: the first of these that the request carries. When none is present the edge
/// mints a random id and sets it in the anonymous cookie, so the unit stays in its cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    /// A request header carrying the unit id (`X-User-Id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// A cookie carrying the unit id (`uid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// The cookie the edge sets with a minted id for units that carry none.
    #[serde(default = "default_anonymous_cookie")]
    pub anonymous_cookie: String,
}

/// How requests are spread over a version's endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancing {
    /// Each endpoint in turn.
    #[default]
    RoundRobin,
    /// The endpoint with the fewest requests in flight.
    LeastRequests,
}

/// Upstream timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsSpec {
    /// Connecting to an endpoint (default `1s`).
    pub connect: DurationSpec,
    /// From sending the request to the first byte of the response (default `10s`).
    pub first_byte: DurationSpec,
    /// The whole exchange (default `60s`).
    pub total: DurationSpec,
}

/// Active health checks: a `GET` of `path` on every endpoint every `interval`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckSpec {
    /// The path to request (default `/healthz`); any 2xx is healthy.
    pub path: String,
    /// Time between checks (default `2s`).
    pub interval: DurationSpec,
    /// How long one check may take (default `1s`).
    pub timeout: DurationSpec,
    /// Consecutive successes before an endpoint is healthy again (default 2).
    pub healthy_threshold: u32,
    /// Consecutive failures before an endpoint is taken out (default 3).
    pub unhealthy_threshold: u32,
}

/// The circuit breaker of each version: it opens after too many failures, sends nothing for
/// `cool_down`, then lets `half_open_probes` requests test the version again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSpec {
    /// Opens after this many failures in a row (default 5).
    pub consecutive_failures: u32,
    /// Opens when this share of requests in `window` failed (default `50%`) …
    pub error_ratio: Ppm,
    /// … over this rolling window (default `10s`) …
    pub window: DurationSpec,
    /// … once the window holds at least this many requests (default 20).
    pub min_requests: u32,
    /// How long an open breaker sends nothing (default `5s`).
    pub cool_down: DurationSpec,
    /// Requests let through to test a recovering version (default 3).
    pub half_open_probes: u32,
}

/// One version of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    /// Unique within the service (`v1.2`): letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Upstream endpoints, `host:port` (`10.0.0.5:8080`, `[::1]:8080`, `shop-v2.internal:80`).
    pub endpoints: Vec<String>,
    /// Free-form labels shown in the API (image digest, commit).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

fn default_path_prefix() -> String {
    "/".to_string()
}

fn default_anonymous_cookie() -> String {
    "rg_uid".to_string()
}

impl Default for UnitSpec {
    fn default() -> UnitSpec {
        UnitSpec {
            header: None,
            cookie: None,
            anonymous_cookie: default_anonymous_cookie(),
        }
    }
}

impl Default for TimeoutsSpec {
    fn default() -> TimeoutsSpec {
        TimeoutsSpec {
            connect: DurationSpec::from_secs(1),
            first_byte: DurationSpec::from_secs(10),
            total: DurationSpec::from_secs(60),
        }
    }
}

impl Default for HealthCheckSpec {
    fn default() -> HealthCheckSpec {
        HealthCheckSpec {
            path: "/healthz".to_string(),
            interval: DurationSpec::from_secs(2),
            timeout: DurationSpec::from_secs(1),
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }
}

impl Default for BreakerSpec {
    fn default() -> BreakerSpec {
        BreakerSpec {
            consecutive_failures: 5,
            error_ratio: Ppm::percent(50),
            window: DurationSpec::from_secs(10),
            min_requests: 20,
            cool_down: DurationSpec::from_secs(5),
            half_open_probes: 3,
        }
    }
}

impl ServiceSpec {
    /// The version that serves traffic no rollout or experiment moves: `stable`, or the first
    /// version. `None` only for a service without versions (which validation rejects).
    pub fn default_version(&self) -> Option<&str> {
        match &self.stable {
            Some(s) => Some(s.as_str()),
            None => self.versions.first().map(|v| v.name.as_str()),
        }
    }

    /// The position of version `name` in `versions`.
    pub fn version_index(&self, name: &str) -> Option<usize> {
        self.versions.iter().position(|v| v.name == name)
    }

    /// Records every problem of this service under `path` (e.g. `services[0]`).
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        check_name(&field(path, "name"), "service", &self.name, errs);
        self.validate_hosts(path, errs);
        if !self.path_prefix.starts_with('/') {
            errs.push(
                field(path, "path_prefix"),
                format!("{:?} must start with \"/\"", self.path_prefix),
            );
        }
        self.unit.validate_into(&field(path, "unit"), errs);
        self.timeouts.validate_into(&field(path, "timeouts"), errs);
        if let Some(hc) = &self.health_check {
            hc.validate_into(&field(path, "health_check"), errs);
        }
        self.breaker.validate_into(&field(path, "breaker"), errs);
        self.validate_versions(path, errs);
    }

    fn validate_hosts(&self, path: &str, errs: &mut SpecErrors) {
        let mut seen = HashSet::new();
        for (i, host) in self.hosts.iter().enumerate() {
            let p = index(&field(path, "hosts"), i);
            let valid = !host.is_empty()
                && !host.contains(':')
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            let bracketed_v6 = host.starts_with('[') && host.ends_with(']');
            if !valid && !bracketed_v6 {
                errs.push(
                    p,
                    format!("{host:?} is not a host name: write it without scheme, port or path (\"shop.example.com\", \"[::1]\")"),
                );
            } else if !seen.insert(host.to_ascii_lowercase()) {
                errs.push(p, format!("host {host:?} is listed twice"));
            }
        }
    }

    fn validate_versions(&self, path: &str, errs: &mut SpecErrors) {
        let vpath = field(path, "versions");
        if self.versions.is_empty() {
            errs.push(vpath.clone(), "a service needs at least one version");
        }
        let mut names = HashSet::new();
        for (i, v) in self.versions.iter().enumerate() {
            let p = index(&vpath, i);
            check_duplicate(&field(&p, "name"), "version", &v.name, &mut names, errs);
            v.validate_into(&p, errs);
        }
        if let Some(stable) = &self.stable
            && self.version_index(stable).is_none()
        {
            let hint = did_you_mean(stable, self.versions.iter().map(|v| v.name.as_str()));
            errs.push(
                field(path, "stable"),
                format!(
                    "unknown version {stable:?} of service {:?}{hint}",
                    self.name
                ),
            );
        }
    }
}

impl UnitSpec {
    fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        if let Some(h) = &self.header {
            check_header_name(&field(path, "header"), h, errs);
        }
        if let Some(c) = &self.cookie {
            check_header_name(&field(path, "cookie"), c, errs);
        }
        check_header_name(
            &field(path, "anonymous_cookie"),
            &self.anonymous_cookie,
            errs,
        );
    }
}

impl TimeoutsSpec {
    fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        check_positive(&field(path, "connect"), self.connect, errs);
        check_positive(&field(path, "first_byte"), self.first_byte, errs);
        check_positive(&field(path, "total"), self.total, errs);
        if self.connect > self.total {
            errs.push(
                field(path, "connect"),
                format!(
                    "connect ({}) is longer than total ({}): it can never be reached",
                    self.connect, self.total
                ),
            );
        }
    }
}

impl HealthCheckSpec {
    fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        if !self.path.starts_with('/') {
            errs.push(
                field(path, "path"),
                format!("{:?} must start with \"/\"", self.path),
            );
        }
        check_positive(&field(path, "interval"), self.interval, errs);
        check_positive(&field(path, "timeout"), self.timeout, errs);
        if self.timeout > self.interval {
            errs.push(
                field(path, "timeout"),
                format!(
                    "timeout ({}) is longer than interval ({}): checks would overlap",
                    self.timeout, self.interval
                ),
            );
        }
        for (name, v) in [
            ("healthy_threshold", self.healthy_threshold),
            ("unhealthy_threshold", self.unhealthy_threshold),
        ] {
            if v == 0 {
                errs.push(field(path, name), "must be at least 1");
            }
        }
    }
}

impl BreakerSpec {
    fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        for (name, v) in [
            ("consecutive_failures", self.consecutive_failures),
            ("min_requests", self.min_requests),
            ("half_open_probes", self.half_open_probes),
        ] {
            if v == 0 {
                errs.push(field(path, name), "must be at least 1");
            }
        }
        if self.error_ratio == Ppm::ZERO {
            errs.push(
                field(path, "error_ratio"),
                "0% would open the breaker on the first error: use a share above 0%, or 100% to rely on consecutive_failures only",
            );
        }
        check_positive(&field(path, "window"), self.window, errs);
        check_positive(&field(path, "cool_down"), self.cool_down, errs);
    }
}

impl VersionSpec {
    fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        let epath = field(path, "endpoints");
        if self.endpoints.is_empty() {
            errs.push(
                epath.clone(),
                format!(
                    "version {:?} has no endpoints: list at least one \"host:port\"",
                    self.name
                ),
            );
        }
        let mut seen = HashSet::new();
        for (i, e) in self.endpoints.iter().enumerate() {
            let p = index(&epath, i);
            match parse_endpoint(e) {
                Err(msg) => errs.push(p, msg),
                Ok(_) if !seen.insert(e.as_str()) => {
                    errs.push(p, format!("endpoint {e:?} is listed twice"))
                }
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> ServiceSpec {
        ServiceSpec {
            name: "shop".into(),
            hosts: vec!["shop.example.com".into()],
            path_prefix: "/".into(),
            unit: UnitSpec::default(),
            load_balancing: LoadBalancing::RoundRobin,
            timeouts: TimeoutsSpec::default(),
            health_check: Some(HealthCheckSpec::default()),
            breaker: BreakerSpec::default(),
            stable: None,
            versions: vec![VersionSpec {
                name: "v1".into(),
                endpoints: vec!["127.0.0.1:8001".into()],
                labels: BTreeMap::new(),
            }],
        }
    }

    fn errors(s: &ServiceSpec) -> Vec<String> {
        let mut errs = SpecErrors::new();
        s.validate_into("services[0]", &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_good_service_passes() {
        assert!(errors(&service()).is_empty(), "{:?}", errors(&service()));
        assert_eq!(service().default_version(), Some("v1"));
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let mut s = service();
        s.name = "shop now".into();
        s.hosts.push("http://x:80".into());
        s.path_prefix = "api".into();
        s.timeouts.total = DurationSpec::ZERO;
        s.breaker.half_open_probes = 0;
        s.stable = Some("v2".into());
        s.versions[0].endpoints = vec!["localhost:80x".into(), "localhost:0".into()];
        s.versions.push(VersionSpec {
            name: "v1".into(),
            endpoints: vec![],
            labels: BTreeMap::new(),
        });
        let errs = errors(&s);
        let expect = [
            "services[0].name:",
            "services[0].hosts[1]:",
            "services[0].path_prefix:",
            "services[0].timeouts.total: must be longer than 0",
            "services[0].breaker.half_open_probes:",
            "services[0].versions[0].endpoints[0]: \"localhost:80x\" is not host:port (the port must be a number 1-65535)",
            "services[0].versions[0].endpoints[1]:",
            "services[0].versions[1].name: version \"v1\" is defined twice",
            "services[0].versions[1].endpoints: version \"v1\" has no endpoints",
            "services[0].stable: unknown version \"v2\" of service \"shop now\" (did you mean \"v1\"?)",
        ];
        for e in expect {
            assert!(
                errs.iter().any(|x| x.starts_with(e)),
                "missing {e:?} in {errs:#?}"
            );
        }
    }

    #[test]
    fn defaults_fill_partial_tables() {
        let s: ServiceSpec = serde_json::from_str(
            r#"{"name":"a","versions":[{"name":"v1","endpoints":["h:1"]}],"timeouts":{"connect":"2s"},"breaker":{"window":"1m"}}"#,
        )
        .unwrap();
        assert_eq!(s.path_prefix, "/");
        assert_eq!(s.unit.anonymous_cookie, "rg_uid");
        assert_eq!(s.timeouts.connect, DurationSpec::from_secs(2));
        assert_eq!(s.timeouts.total, DurationSpec::from_secs(60));
        assert_eq!(s.breaker.window, DurationSpec::from_secs(60));
        assert_eq!(s.breaker.consecutive_failures, 5);
        assert!(
            serde_json::from_str::<ServiceSpec>(r#"{"name":"a","versions":[],"nope":1}"#).is_err()
        );
    }
}
