//! Audience rules as written in config: who may get a canary or enter an experiment.

use serde::{Deserialize, Serialize};

use crate::SpecErrors;
use crate::audience::Audience;

/// One audience rule. Rules combine with `all`, `any` and `not`; each is a one-key table:
///
/// ```toml
/// audience = { all = [
///   { header = { name = "X-Beta", equals = "1" } },
///   { cookie = { name = "plan", prefix = "pro" } },
///   { query = { name = "variant", regex = "^(a|b)$" } },
///   { path_prefix = "/checkout" },
///   { ip = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"] },
///   { country = ["DE", "fr"] },
///   { device = ["mobile", "tablet"] },
///   { unit_in = ["alice", "bob"] },
///   { app_version = { header = "X-App-Version", range = ">=2.3.0, <3" } },
///   { not = { device = ["bot"] } },
/// ] }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleSpec {
    /// A request header (name in any case) compared with `equals`, `prefix` or `regex`.
    Header(FieldMatchSpec),
    /// A cookie compared with `equals`, `prefix` or `regex`.
    Cookie(FieldMatchSpec),
    /// A query-string parameter compared with `equals`, `prefix` or `regex`.
    Query(FieldMatchSpec),
    /// The request path is this prefix or under it (`/api` matches `/api` and `/api/x`).
    PathPrefix(String),
    /// The client address is in one of these networks (`10.0.0.0/8`, `::1/128`, or a single
    /// address).
    Ip(Vec<String>),
    /// The client's country is one of these ISO 3166-1 alpha-2 codes (any case), as told by
    /// the edge's geo source.
    Country(Vec<String>),
    /// The device class from the User-Agent is one of `mobile`, `tablet`, `desktop`, `bot`.
    Device(Vec<String>),
    /// The unit id is one of these.
    UnitIn(Vec<String>),
    /// The app version sent in a header is in a semver range.
    AppVersion(AppVersionSpec),
    /// Every rule matches (an empty list is rejected).
    All(Vec<RuleSpec>),
    /// At least one rule matches (an empty list is rejected).
    Any(Vec<RuleSpec>),
    /// The rule does not match.
    Not(Box<RuleSpec>),
}

/// A named request field compared with exactly one of `equals`, `prefix` or `regex`. Missing
/// fields never match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMatchSpec {
    /// The header, cookie or query parameter name.
    pub name: String,
    /// The value is exactly this (case-sensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The value starts with this (case-sensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The value contains a match of this regular expression (Rust `regex` syntax; anchor with
    /// `^…$` to match the whole value, `(?i)` for any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// The app version a client reports in a header, checked against a semver range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppVersionSpec {
    /// The header carrying the version (`X-App-Version`); `v2.3.1`, `2.3.1` and `2.3` are read.
    pub header: String,
    /// A semver range: comparators separated by commas (`>=2.3.0, <3`, `^2.3`, `~1.4`).
    pub range: String,
}

impl RuleSpec {
    /// Records every problem of this rule (and the rules inside it) under `path`: bad regexes,
    /// CIDRs, country codes, device classes, semver ranges, empty lists.
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        let _ = Audience::compile_into(self, path, errs);
    }

    /// Every problem of this rule, with paths relative to it.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut errs = SpecErrors::new();
        self.validate_into("", &mut errs);
        errs.into_result()
    }
}
