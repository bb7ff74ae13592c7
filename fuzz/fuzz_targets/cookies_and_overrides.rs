//! Arbitrary header and cookie values, as a client sends them, through `rollgate_core`'s
//! public override and routing API: `OverrideSettings::verify_signed` on the override header
//! and cookie, `sign_override` → `verify_signed` round trips with a fuzzed version and expiry,
//! and `RoutingTable::decide` over an `AttributesView` carrying the values (override header and
//! cookie, unit header and cookies, an audience cookie, the client address).
//!
//! The edge reads cookies out of the raw `Cookie` header with a crate-private parser
//! (`rollgate-edge`'s `cookie::find`), which no public API reaches without a socket; this target
//! covers everything after that lookup.
//!
//! Input: fields separated by `\n` (a header value cannot hold one):
//! `force header \n force cookie \n uid cookie \n X-User-Id \n rg_uid cookie \n plan cookie \n
//! client ip \n now (unix s) \n version to sign \n expiry to sign`. Missing fields are absent.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rollgate_core::{
    AttributesView, Cohort, EdgeContext, OverrideSettings, OverrideTrust, OverrideVia, Ppm, Reason,
    RequestView, RoutingTable, sign_override,
};

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const OTHER_KEY: &[u8] = b"another key of enough length!!";
const NOW: u64 = 1_700_000_000;
const VERSIONS: [&str; 3] = ["v1.1", "v1.2", "v1.3"];

const CONFIG: &str = r#"
[edge.overrides]
header = "X-Rollgate-Force"
cookie = "rg_force"
trusted_cidrs = ["10.0.0.0/8", "2001:db8::/32"]
hmac_key_env = "ROLLGATE_OVERRIDE_KEY"

[[services]]
name = "shop"
unit = { header = "X-User-Id", cookie = "uid", anonymous_cookie = "rg_uid" }

[[services.versions]]
name = "v1.1"
endpoints = ["127.0.0.1:8001"]

[[services.versions]]
name = "v1.2"
endpoints = ["127.0.0.1:8002"]

[[services.versions]]
name = "v1.3"
endpoints = ["127.0.0.1:8003"]

[[rollouts]]
name = "shop-v1.2"
service = "shop"
stable = "v1.1"
canary = "v1.2"
weight = "50%"

[rollouts.audience]
any = [
  { cookie = { name = "plan", prefix = "pro" } },
  { cookie = { name = "plan", regex = "^(beta|trial)-[0-9]+$" } },
  { not = { ip = ["192.0.2.0/24"] } },
]
"#;

struct Setup {
    table: RoutingTable,
    settings: OverrideSettings,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let config = rollgate_config::parse(CONFIG, "fuzz").expect("the fuzz configuration is valid");
    let spec = config
        .edge
        .overrides
        .as_ref()
        .expect("overrides are configured");
    let settings = spec
        .to_settings(Some(KEY.to_vec()))
        .expect("override settings");
    assert_eq!(config.routing.rollouts[0].weight, Ppm::percent(50));
    let ctx = EdgeContext {
        overrides: Some(settings.clone()),
        ..EdgeContext::default()
    };
    let table = RoutingTable::build(&config.routing, &ctx).expect("the routing builds");
    Setup { table, settings }
});

fuzz_target!(|data: &[u8]| {
    let s = &*SETUP;
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = || fields.next().filter(|f| !f.is_empty());
    let (force_header, force_cookie) = (next(), next());
    let (uid_cookie, uid_header, anon_cookie, plan) = (next(), next(), next(), next());
    let ip = next().and_then(|f| f.trim().parse().ok());
    let now = next().and_then(|f| f.trim().parse().ok()).unwrap_or(NOW);
    let (sign_version, sign_expiry) = (next(), next().and_then(|f| f.trim().parse::<u64>().ok()));

    for value in [force_header, force_cookie].into_iter().flatten() {
        check_verified(&s.settings, value, now);
    }
    if let Some(version) = sign_version {
        round_trip(&s.settings, version, sign_expiry.unwrap_or(NOW), now);
    }

    let mut req = AttributesView::new()
        .with_host("shop.example.com")
        .with_path("/cart");
    if let Some(v) = force_header {
        req = req.with_header("x-rollgate-force", v);
    }
    for (name, value) in [
        ("rg_force", force_cookie),
        ("uid", uid_cookie),
        ("rg_uid", anon_cookie),
        ("plan", plan),
    ] {
        if let Some(v) = value {
            req = req.with_cookie(name, v);
        }
    }
    if let Some(v) = uid_header {
        req = req.with_header("X-User-Id", v);
    }
    if let Some(ip) = ip {
        req = req.with_ip(ip);
    }
    check_decision(s, &req, now);
});

/// A value the key signs names a version, is unexpired, and is exactly what signing gives.
fn check_verified(settings: &OverrideSettings, value: &str, now: u64) {
    let Some(version) = settings.verify_signed(value, "shop", now) else {
        return;
    };
    let rest = value
        .strip_prefix(version)
        .expect("the version is the value's prefix");
    let expires: u64 = rest[1..]
        .split('.')
        .next()
        .and_then(|e| e.parse().ok())
        .expect("an expiry");
    assert!(
        now <= expires,
        "{value:?} verified after expiring at {expires}"
    );
    let signed = sign_override(KEY, "shop", version, expires);
    assert!(
        signed.eq_ignore_ascii_case(value),
        "{value:?} verified but signing gives {signed:?}"
    );
}

/// Whatever the version and expiry, a signed value verifies for its service until it expires,
/// and never for another service or under another key.
fn round_trip(settings: &OverrideSettings, version: &str, expires: u64, now: u64) {
    let token = sign_override(KEY, "shop", version, expires);
    let expected = (now <= expires).then_some(version);
    assert_eq!(
        settings.verify_signed(&token, "shop", now),
        expected,
        "{token:?} at {now}"
    );
    assert_eq!(
        settings.verify_signed(&token, "shop2", now),
        None,
        "{token:?} for another service"
    );
    let foreign = sign_override(OTHER_KEY, "shop", version, expires);
    assert_eq!(
        settings.verify_signed(&foreign, "shop", now),
        None,
        "{foreign:?} under another key"
    );
    let unkeyed = OverrideSettings {
        hmac_key: None,
        ..settings.clone()
    };
    assert_eq!(unkeyed.verify_signed(&token, "shop", now), None);
}

/// The decision follows the documented precedence: the override header, else the override
/// cookie, honoured from a trusted network when it names a version, or anywhere when signed;
/// the unit is the first non-empty of the unit header, unit cookie and anonymous cookie.
fn check_decision(s: &Setup, req: &AttributesView, now: u64) {
    let d = s
        .table
        .decide(req, now, || "minted".into())
        .expect("the only service answers any host");
    assert!(VERSIONS.contains(&d.version()), "{}", d.version());

    let unit = [
        req.header("x-user-id"),
        req.cookies.get("uid").map(String::as_str),
        req.cookies.get("rg_uid").map(String::as_str),
    ]
    .into_iter()
    .flatten()
    .find(|u| !u.is_empty());
    assert_eq!(d.minted(), unit.is_none());
    assert_eq!(d.unit(), unit.unwrap_or("minted"));

    let carried = match (req.header("x-rollgate-force"), req.cookies.get("rg_force")) {
        (Some(h), _) => Some((h, OverrideVia::Header)),
        (None, Some(c)) => Some((c.as_str(), OverrideVia::Cookie)),
        (None, None) => None,
    };
    let expected = carried.and_then(|(value, via)| {
        let value = value.trim_ascii();
        if VERSIONS.contains(&value) {
            let trusted = req.ip.is_some_and(|ip| s.settings.is_trusted(ip));
            return trusted.then_some((value, via, OverrideTrust::TrustedNetwork));
        }
        let version = s.settings.verify_signed(value, "shop", now)?;
        VERSIONS
            .contains(&version)
            .then_some((version, via, OverrideTrust::Signature))
    });
    match (d.reason(), expected) {
        (Reason::Override { via, trust, .. }, Some((version, v, t))) => {
            assert_eq!((d.version(), via, trust), (version, v, t));
        }
        (reason, None) => {
            assert!(
                !matches!(reason, Reason::Override { .. }),
                "{reason:?} for {req:?}"
            );
            if let Reason::Bucket { cohort, .. } = reason {
                let by_bucket = s.table.cohort_of("shop-v1.2", d.unit());
                assert_eq!(Some(cohort), by_bucket);
                assert_eq!(
                    d.version(),
                    if cohort == Cohort::Canary {
                        "v1.2"
                    } else {
                        "v1.1"
                    }
                );
            }
        }
        (reason, Some(e)) => panic!("expected override {e:?}, got {reason:?} for {req:?}"),
    }
    let _ = d.summary();
}
