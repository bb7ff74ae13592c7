//! Audience rules compiled for evaluation on every request: regexes compiled once, networks
//! parsed, unit lists hashed, and the User-Agent and country looked up at most once per request.

use std::cell::Cell;
use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::Regex;
use semver::{Version, VersionReq};

use crate::device::DeviceClass;
use crate::geo::{Country, GeoSource, parse_country};
use crate::request::path_under;
use crate::spec::check::{check_header_name, parse_network};
use crate::spec::rule::{AppVersionSpec, FieldMatchSpec, RuleSpec};
use crate::spec_error::{field, index};
use crate::{RequestView, SpecErrors, did_you_mean};

/// A compiled audience rule: who may get a canary or enter an experiment.
#[derive(Clone, Debug)]
pub struct Audience {
    rule: Rule,
}

/// The fields a rule can look at for one request, with the slow ones computed lazily and at most
/// once however many rules ask.
pub(crate) struct Subject<'r, R: ?Sized> {
    req: &'r R,
    unit: &'r str,
    geo: &'r GeoSource,
    device: Cell<Option<DeviceClass>>,
    country: Cell<Option<Option<Country>>>,
}

type UnitSet = HashSet<Box<str>, ahash::RandomState>;

#[derive(Clone, Debug)]
enum Rule {
    Header(Box<str>, StrMatch),
    Cookie(Box<str>, StrMatch),
    Query(Box<str>, StrMatch),
    PathPrefix(Box<str>),
    Ip(Box<[Net]>),
    Country(Box<[Country]>),
    Device(u8),
    UnitIn(UnitSet),
    AppVersion(Box<str>, VersionReq),
    All(Box<[Rule]>),
    Any(Box<[Rule]>),
    Not(Box<Rule>),
}

/// A network as masks, for a containment test of a few instructions.
#[derive(Clone, Copy, Debug)]
enum Net {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

#[derive(Clone, Debug)]
enum StrMatch {
    Equals(Box<str>),
    Prefix(Box<str>),
    Regex(Regex),
}

impl Audience {
    /// Compiles a rule, or returns every problem in it (paths relative to the rule).
    pub fn compile(spec: &RuleSpec) -> Result<Audience, SpecErrors> {
        let mut errs = SpecErrors::new();
        let audience = Audience::compile_into(spec, "", &mut errs);
        match audience {
            Some(a) if errs.is_empty() => Ok(a),
            _ => Err(errs),
        }
    }

    /// Compiles a rule, recording its problems under `path`.
    pub(crate) fn compile_into(
        spec: &RuleSpec,
        path: &str,
        errs: &mut SpecErrors,
    ) -> Option<Audience> {
        compile(spec, path, errs).map(|rule| Audience { rule })
    }

    /// True when the request (for `unit`, with countries from `geo`) is in the audience.
    pub fn matches(&self, req: &impl RequestView, unit: &str, geo: &GeoSource) -> bool {
        self.eval(&Subject::new(req, unit, geo))
    }

    /// True when the subject is in the audience.
    pub(crate) fn eval<R: RequestView + ?Sized>(&self, s: &Subject<'_, R>) -> bool {
        self.rule.eval(s)
    }
}

impl<'r, R: RequestView + ?Sized> Subject<'r, R> {
    /// A subject for one request and unit.
    pub(crate) fn new(req: &'r R, unit: &'r str, geo: &'r GeoSource) -> Self {
        Subject {
            req,
            unit,
            geo,
            device: Cell::new(None),
            country: Cell::new(None),
        }
    }

    /// The unit id.
    pub(crate) fn unit(&self) -> &'r str {
        self.unit
    }

    fn device(&self) -> DeviceClass {
        if let Some(d) = self.device.get() {
            return d;
        }
        let d = self
            .req
            .device_class()
            .unwrap_or_else(|| DeviceClass::from_user_agent(self.req.header("user-agent")));
        self.device.set(Some(d));
        d
    }

    fn country(&self) -> Option<Country> {
        if let Some(c) = self.country.get() {
            return c;
        }
        let c = self.geo.country_of(self.req);
        self.country.set(Some(c));
        c
    }
}

impl Rule {
    fn eval<R: RequestView + ?Sized>(&self, s: &Subject<'_, R>) -> bool {
        match self {
            Rule::Header(name, m) => s.req.header(name).is_some_and(|v| m.test(v)),
            Rule::Cookie(name, m) => s.req.cookie(name).is_some_and(|v| m.test(v)),
            Rule::Query(name, m) => s.req.query(name).is_some_and(|v| m.test(v)),
            Rule::PathPrefix(p) => path_under(s.req.path(), p),
            Rule::Ip(nets) => s.req.client_ip().is_some_and(|ip| {
                let ip = ip.to_canonical();
                nets.iter().any(|n| n.contains(ip))
            }),
            Rule::Country(list) => s.country().is_some_and(|c| list.contains(&c)),
            Rule::Device(mask) => mask & s.device().bit() != 0,
            Rule::UnitIn(units) => units.contains(s.unit),
            Rule::AppVersion(header, range) => s
                .req
                .header(header)
                .and_then(parse_app_version)
                .is_some_and(|v| range.matches(&v)),
            Rule::All(rules) => rules.iter().all(|r| r.eval(s)),
            Rule::Any(rules) => rules.iter().any(|r| r.eval(s)),
            Rule::Not(rule) => !rule.eval(s),
        }
    }
}

impl Net {
    fn new(n: IpNet) -> Net {
        match n {
            IpNet::V4(v) => Net::V4 {
                net: u32::from(v.network()),
                mask: u32::from(v.netmask()),
            },
            IpNet::V6(v) => Net::V6 {
                net: u128::from(v.network()),
                mask: u128::from(v.netmask()),
            },
        }
    }

    fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Net::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (Net::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

impl StrMatch {
    fn test(&self, value: &str) -> bool {
        match self {
            StrMatch::Equals(e) => value == &**e,
            StrMatch::Prefix(p) => value.starts_with(&**p),
            StrMatch::Regex(r) => r.is_match(value),
        }
    }
}

/// Reads an app version leniently: `2.3.1`, `v2.3.1`, `2.3` (as 2.3.0), `2` (as 2.0.0), and
/// full semver with pre-release and build.
pub(crate) fn parse_app_version(raw: &str) -> Option<Version> {
    let s = raw.trim_ascii();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    numeric_version(s).or_else(|| Version::parse(s).ok())
}

/// `MAJOR[.MINOR[.PATCH]]` made of digits only (the common case, read without the full semver
/// parser); `None` for anything else, including pre-release and build suffixes.
fn numeric_version(s: &str) -> Option<Version> {
    let mut parts = [0u64; 3];
    for (n, part) in s.split('.').enumerate() {
        if n == 3 || part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        parts[n] = part
            .bytes()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    }
    Some(Version::new(parts[0], parts[1], parts[2]))
}

fn compile(spec: &RuleSpec, path: &str, errs: &mut SpecErrors) -> Option<Rule> {
    match spec {
        RuleSpec::Header(m) => {
            // Header names are stored in lower case, the form HTTP libraries look up fastest.
            compile_field(m, &field(path, "header"), true, errs)
                .map(|(n, m)| Rule::Header(n.to_ascii_lowercase().into(), m))
        }
        RuleSpec::Cookie(m) => {
            compile_field(m, &field(path, "cookie"), true, errs).map(|(n, m)| Rule::Cookie(n, m))
        }
        RuleSpec::Query(m) => {
            compile_field(m, &field(path, "query"), false, errs).map(|(n, m)| Rule::Query(n, m))
        }
        RuleSpec::PathPrefix(p) => {
            if p.starts_with('/') {
                Some(Rule::PathPrefix(p.as_str().into()))
            } else {
                errs.push(
                    field(path, "path_prefix"),
                    format!("{p:?} must start with \"/\""),
                );
                None
            }
        }
        RuleSpec::Ip(list) => compile_list(list, &field(path, "ip"), errs, parse_net).map(Rule::Ip),
        RuleSpec::Country(list) => {
            compile_list(list, &field(path, "country"), errs, parse_country_item).map(Rule::Country)
        }
        RuleSpec::Device(list) => compile_list(list, &field(path, "device"), errs, parse_device)
            .map(|classes| Rule::Device(classes.iter().fold(0, |m, d: &DeviceClass| m | d.bit()))),
        RuleSpec::UnitIn(list) => compile_units(list, &field(path, "unit_in"), errs),
        RuleSpec::AppVersion(a) => compile_app_version(a, &field(path, "app_version"), errs),
        RuleSpec::All(rules) => compile_all(rules, &field(path, "all"), errs).map(Rule::All),
        RuleSpec::Any(rules) => compile_all(rules, &field(path, "any"), errs).map(Rule::Any),
        RuleSpec::Not(rule) => {
            compile(rule, &field(path, "not"), errs).map(|r| Rule::Not(Box::new(r)))
        }
    }
}

fn compile_field(
    m: &FieldMatchSpec,
    path: &str,
    token_name: bool,
    errs: &mut SpecErrors,
) -> Option<(Box<str>, StrMatch)> {
    let before = errs.len();
    if token_name {
        check_header_name(&field(path, "name"), &m.name, errs);
    } else if m.name.is_empty() {
        errs.push(field(path, "name"), "the parameter name is empty");
    }
    let matcher = match (&m.equals, &m.prefix, &m.regex) {
        (Some(e), None, None) => Some(StrMatch::Equals(e.as_str().into())),
        (None, Some(p), None) => Some(StrMatch::Prefix(p.as_str().into())),
        (None, None, Some(r)) => match Regex::new(r) {
            Ok(re) => Some(StrMatch::Regex(re)),
            Err(e) => {
                errs.push(
                    field(path, "regex"),
                    format!("{r:?} is not a valid regular expression: {e}"),
                );
                None
            }
        },
        _ => {
            errs.push(path, "write exactly one of `equals`, `prefix` or `regex`");
            None
        }
    };
    let matcher = matcher?;
    (errs.len() == before).then(|| (m.name.as_str().into(), matcher))
}

/// Compiles every item of a non-empty list, reporting each bad item.
fn compile_list<T>(
    list: &[String],
    path: &str,
    errs: &mut SpecErrors,
    parse: fn(&str) -> Result<T, String>,
) -> Option<Box<[T]>> {
    if list.is_empty() {
        errs.push(path, "the list is empty, so the rule matches nobody: list at least one value or remove the rule");
        return None;
    }
    let mut out = Vec::with_capacity(list.len());
    let mut ok = true;
    for (i, item) in list.iter().enumerate() {
        match parse(item) {
            Ok(v) => out.push(v),
            Err(msg) => {
                errs.push(index(path, i), msg);
                ok = false;
            }
        }
    }
    ok.then(|| out.into_boxed_slice())
}

fn parse_net(s: &str) -> Result<Net, String> {
    parse_network(s).map(Net::new).ok_or_else(|| {
        format!("{s:?} is not a network: write a CIDR like \"10.0.0.0/8\" or \"2001:db8::/32\", or a single address")
    })
}

fn parse_country_item(s: &str) -> Result<Country, String> {
    parse_country(s).ok_or_else(|| {
        format!("{s:?} is not an ISO 3166-1 alpha-2 country code (like \"DE\" or \"US\")")
    })
}

fn parse_device(s: &str) -> Result<DeviceClass, String> {
    DeviceClass::parse(s).ok_or_else(|| {
        let hint = did_you_mean(s, DeviceClass::ALL.iter().map(|d| d.as_str()));
        format!("unknown device class {s:?}{hint}: use mobile, tablet, desktop or bot")
    })
}

fn compile_units(list: &[String], path: &str, errs: &mut SpecErrors) -> Option<Rule> {
    if list.is_empty() {
        errs.push(path, "the list is empty, so the rule matches nobody: list at least one unit id or remove the rule");
        return None;
    }
    // Fixed keys: the set is only read, and the crate reads no randomness.
    let mut set =
        UnitSet::with_capacity_and_hasher(list.len(), ahash::RandomState::with_seeds(1, 2, 3, 4));
    set.extend(list.iter().map(|u| Box::<str>::from(u.as_str())));
    Some(Rule::UnitIn(set))
}

fn compile_app_version(a: &AppVersionSpec, path: &str, errs: &mut SpecErrors) -> Option<Rule> {
    let before = errs.len();
    check_header_name(&field(path, "header"), &a.header, errs);
    let range = match VersionReq::parse(&a.range) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.push(
                field(path, "range"),
                format!(
                    "{:?} is not a semver range ({e}): write e.g. \">=2.3.0, <3\" or \"^2.3\"",
                    a.range
                ),
            );
            None
        }
    };
    let range = range?;
    (errs.len() == before).then(|| Rule::AppVersion(a.header.to_ascii_lowercase().into(), range))
}

fn compile_all(rules: &[RuleSpec], path: &str, errs: &mut SpecErrors) -> Option<Box<[Rule]>> {
    if rules.is_empty() {
        errs.push(
            path,
            "the list of rules is empty: list at least one rule or remove it",
        );
        return None;
    }
    let compiled: Vec<Option<Rule>> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| compile(r, &index(path, i), errs))
        .collect();
    compiled
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .map(Vec::into_boxed_slice)
}

#[cfg(test)]
mod tests;
