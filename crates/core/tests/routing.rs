//! The routing table end to end: building from specs, and every step of `decide`.
#![allow(clippy::unwrap_used)]

use rollgate_core::{
    AttributesView, Cohort, EdgeContext, GeoSource, OverrideSettings, OverrideTrust, OverrideVia,
    Ppm, Reason, RoutingSpec, RoutingTable, sign_override,
};

const SPEC: &str = r#"
[[services]]
name = "shop"
hosts = ["shop.example.com", "localhost"]
unit = { header = "X-User-Id", cookie = "uid" }
[[services.versions]]
name = "v1.1"
endpoints = ["127.0.0.1:8001"]
[[services.versions]]
name = "v1.2"
endpoints = ["127.0.0.1:8002"]

[[services]]
name = "search"
path_prefix = "/search"
[[services.versions]]
name = "s1"
endpoints = ["127.0.0.1:9001"]
[[services.versions]]
name = "s2"
endpoints = ["127.0.0.1:9002"]

[[rollouts]]
name = "shop-v1.2"
service = "shop"
stable = "v1.1"
canary = "v1.2"
weight = "10%"
audience = { not = { header = { name = "X-Internal", equals = "1" } } }

[[experiments]]
name = "checkout-button"
service = "shop"
layer = "checkout"
allocation = "40%"
variants = [
  { name = "control", weight = "50%", value = "blue" },
  { name = "green", weight = "50%", value = "green" },
]

[[experiments]]
name = "checkout-copy"
service = "shop"
layer = "checkout"
allocation = "30%"
variants = [
  { name = "control", weight = "50%", value = "Buy" },
  { name = "urgent", weight = "50%", value = "Buy now" },
]

[[experiments]]
name = "ranking"
service = "search"
allocation = "100%"
variants = [
  { name = "old", weight = "50%" },
  { name = "new", weight = "50%", version = "s2" },
]
"#;

const KEY: &[u8] = b"a test key that is long enough";

fn spec() -> RoutingSpec {
    toml::from_str(SPEC).unwrap()
}

fn table() -> RoutingTable {
    let ctx = EdgeContext {
        geo: GeoSource::Header("CF-IPCountry".into()),
        overrides: Some(OverrideSettings {
            header: Some("X-Rollgate-Force".into()),
            cookie: Some("rg_force".into()),
            trusted: vec!["10.0.0.0/8".parse().unwrap()],
            hmac_key: Some(KEY.to_vec()),
        }),
    };
    RoutingTable::build(&spec(), &ctx).unwrap()
}

fn shop(user: &str) -> AttributesView {
    AttributesView::new()
        .with_host("shop.example.com")
        .with_header("X-User-Id", user)
}

#[test]
fn no_service_no_decision() {
    let t = table();
    let req = AttributesView::new()
        .with_host("elsewhere.example.com")
        .with_path("/cart");
    assert!(t.decide(&req, 0, || unreachable!()).is_none());
    let search = AttributesView::new()
        .with_host("elsewhere.example.com")
        .with_path("/search/q");
    assert_eq!(
        t.decide(&search, 0, || "m".into()).unwrap().service(),
        "search"
    );
}

#[test]
fn unit_comes_from_header_cookie_anonymous_cookie_or_mint() {
    let t = table();
    let base = AttributesView::new().with_host("localhost:8080");
    let unit = |req: AttributesView| {
        let d = t.decide(&req, 0, || "minted-1".into()).unwrap();
        (
            d.unit().to_string(),
            d.minted(),
            d.anonymous_cookie().to_string(),
        )
    };
    let both = base
        .clone()
        .with_header("x-user-id", "alice")
        .with_cookie("uid", "bob");
    assert_eq!(unit(both).0, "alice");
    assert_eq!(
        unit(
            base.clone()
                .with_cookie("uid", "bob")
                .with_cookie("rg_uid", "anon")
        )
        .0,
        "bob"
    );
    assert_eq!(
        unit(base.clone().with_cookie("rg_uid", "anon")),
        ("anon".into(), false, "rg_uid".into())
    );
    let minted = unit(base.with_header("X-User-Id", ""));
    assert_eq!(minted, ("minted-1".into(), true, "rg_uid".into()));
}

#[test]
fn the_canary_gets_its_weight_and_a_matched_baseline() {
    let t = table();
    let mut counts = [0usize; 3];
    let n = 20_000;
    for i in 0..n {
        let req = shop(&format!("user-{i}"));
        let d = t.decide(&req, 0, || unreachable!()).unwrap();
        assert_eq!(d.rollout(), Some("shop-v1.2"));
        let expected_version = if d.cohort() == Cohort::Canary {
            "v1.2"
        } else {
            "v1.1"
        };
        assert_eq!(d.version(), expected_version);
        assert_eq!(d.version_index(), usize::from(d.cohort() == Cohort::Canary));
        assert_eq!(Some(d.cohort()), t.cohort_of("shop-v1.2", d.unit()));
        let Reason::Bucket {
            bucket,
            weight,
            cohort,
            ..
        } = d.reason()
        else {
            panic!("{:?}", d.reason())
        };
        assert_eq!(
            (Some(bucket), weight, cohort),
            (d.bucket(), Ppm::percent(10), d.cohort())
        );
        counts[d.cohort() as usize] += 1;
    }
    let share = |c: usize| counts[c] as f64 / n as f64;
    assert!((share(0) - 0.10).abs() < 0.01, "canary {counts:?}");
    assert!((share(1) - 0.10).abs() < 0.01, "baseline {counts:?}");
}

#[test]
fn outside_the_audience_is_stable() {
    let t = table();
    let req = shop("u").with_header("X-Internal", "1");
    let d = t.decide(&req, 0, || unreachable!()).unwrap();
    assert_eq!(
        (d.version(), d.cohort(), d.bucket()),
        ("v1.1", Cohort::Stable, None)
    );
    assert_eq!(
        d.reason(),
        Reason::OutsideAudience {
            rollout: "shop-v1.2"
        }
    );
    assert_eq!(
        d.reason().to_string(),
        "outside the audience of rollout \"shop-v1.2\""
    );
}

#[test]
fn overrides_from_trusted_networks_or_signed() {
    let t = table();
    // Find a unit bucketed to stable so the override visibly changes the version.
    let unit = (0..)
        .map(|i| format!("u{i}"))
        .find(|u| t.cohort_of("shop-v1.2", u) != Some(Cohort::Canary))
        .unwrap();
    let plain = shop(&unit).with_header("X-Rollgate-Force", "v1.2");
    let outside = plain.clone().with_ip("192.0.2.1".parse().unwrap());
    let ignored = t.decide(&outside, 0, || unreachable!()).unwrap();
    assert_eq!(ignored.version(), "v1.1");
    let trusted = plain.with_ip("10.9.9.9".parse().unwrap());
    let d = t.decide(&trusted, 0, || unreachable!()).unwrap();
    assert_eq!((d.version(), d.cohort()), ("v1.2", Cohort::Stable));
    assert_eq!(
        d.reason(),
        Reason::Override {
            via: OverrideVia::Header,
            name: "X-Rollgate-Force",
            trust: OverrideTrust::TrustedNetwork
        }
    );
    let token = sign_override(KEY, "shop", "v1.2", 2_000_000_000);
    let signed = shop(&unit).with_cookie("rg_force", token);
    let d = t.decide(&signed, 1_999_999_999, || unreachable!()).unwrap();
    assert_eq!(d.version(), "v1.2");
    assert_eq!(
        d.reason().to_string(),
        "forced by cookie \"rg_force\" with a valid signature"
    );
    let expired = t.decide(&signed, 2_000_000_001, || unreachable!()).unwrap();
    assert_eq!(expired.version(), "v1.1");
}

#[test]
fn experiments_in_a_layer_are_exclusive_and_allocated() {
    let t = table();
    let n = 20_000;
    let (mut button, mut copy) = (0, 0);
    for i in 0..n {
        let unit = format!("user-{i}");
        let d = t.assign("shop", &unit, &AttributesView::new()).unwrap();
        let names: Vec<_> = d.experiments().map(|a| a.experiment).collect();
        assert!(
            names.len() <= 1,
            "one layer, at most one experiment: {names:?}"
        );
        button += usize::from(names == ["checkout-button"]);
        copy += usize::from(names == ["checkout-copy"]);
        if let Some(a) = d.variant("checkout-button") {
            let value = a.value.unwrap().as_str().unwrap();
            assert_eq!(
                value,
                if a.variant == "control" {
                    "blue"
                } else {
                    "green"
                }
            );
        }
    }
    assert!((button as f64 / n as f64 - 0.40).abs() < 0.015, "{button}");
    assert!((copy as f64 / n as f64 - 0.30).abs() < 0.015, "{copy}");
}

#[test]
fn variant_of_agrees_with_assign() {
    let t = table();
    for i in 0..500 {
        let unit = format!("user-{i}");
        let d = t.assign("shop", &unit, &AttributesView::new()).unwrap();
        for e in ["checkout-button", "checkout-copy"] {
            let direct = t.variant_of(e, &unit, &AttributesView::new()).unwrap();
            assert_eq!(direct, d.variant(e), "{unit} {e}");
        }
    }
    let err = t
        .variant_of("checkout-buton", "u", &AttributesView::new())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown experiment \"checkout-buton\" (did you mean \"checkout-button\"?)"
    );
    assert!(t.assign("shpo", "u", &AttributesView::new()).is_err());
}

#[test]
fn version_routing_variants_route_on_services_without_rollouts() {
    let t = table();
    let mut seen = [false; 2];
    for i in 0..200 {
        let unit = format!("u{i}");
        let d = t.assign("search", &unit, &AttributesView::new()).unwrap();
        let a = d.variant("ranking").unwrap();
        let expected = if a.variant == "new" { "s2" } else { "s1" };
        assert_eq!(d.version(), expected);
        if a.variant == "new" {
            assert_eq!(
                d.reason(),
                Reason::Experiment {
                    experiment: "ranking",
                    variant: "new"
                }
            );
        } else {
            assert_eq!(d.reason(), Reason::NoRollout);
        }
        seen[a.variant_index] = true;
    }
    assert_eq!(seen, [true, true]);
}

#[test]
fn summaries_serialise() {
    let t = table();
    let req = shop("alice");
    let d = t.decide(&req, 0, || unreachable!()).unwrap();
    let s = d.summary();
    assert_eq!((s.service.as_str(), s.unit.as_str()), ("shop", "alice"));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["cohort"], d.cohort().as_str());
    assert!(json["reason"].as_str().unwrap().starts_with("bucket "));
}

#[test]
fn the_spec_round_trips_through_json_and_decisions_debug_compactly() {
    let s = spec();
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<RoutingSpec>(&json).unwrap(), s);
    let t = table();
    let req = shop("alice");
    let debug = format!("{:?}", t.decide(&req, 0, || unreachable!()).unwrap());
    assert!(
        debug.starts_with("Decision { service: \"shop\", version: "),
        "{debug}"
    );
    assert!(!debug.contains("endpoints"), "{debug}");
}

#[test]
fn weights_zero_and_full() {
    let mut s = spec();
    s.rollouts[0].weight = Ppm::ZERO;
    let zero = RoutingTable::build(&s, &EdgeContext::default()).unwrap();
    s.rollouts[0].weight = Ppm::FULL;
    let full = RoutingTable::build(&s, &EdgeContext::default()).unwrap();
    for i in 0..1000 {
        let req = shop(&format!("u{i}"));
        assert_eq!(
            zero.decide(&req, 0, || unreachable!()).unwrap().version(),
            "v1.1"
        );
        assert_eq!(
            full.decide(&req, 0, || unreachable!()).unwrap().version(),
            "v1.2"
        );
    }
}

#[test]
fn build_reports_every_problem() {
    let mut s = spec();
    s.rollouts[0].canary = "v12".into();
    s.experiments[1].allocation = Ppm::percent(70);
    let errs = RoutingTable::build(&s, &EdgeContext::default()).unwrap_err();
    let text = errs.to_string();
    assert!(text.contains("rollouts[0].canary: unknown version \"v12\" of service \"shop\" (did you mean \"v1.2\"?)"), "{text}");
    assert!(
        text.contains("experiments[1].allocation: layer \"checkout\" is over-allocated"),
        "{text}"
    );
    assert!(
        !text.contains("experiments[2]"),
        "search has no rollout, so ranking may route: {text}"
    );
    assert_eq!(errs.len(), 2, "{text}");
}

#[test]
fn the_example_config_fits_the_spec_types() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/rollgate.toml"
    ))
    .unwrap();
    let mut doc: toml::Table = toml::from_str(&text).unwrap();
    let mut routing = toml::Table::new();
    for key in ["services", "experiments"] {
        routing.insert(key.into(), doc.remove(key).unwrap());
    }
    let mut rollouts = doc.remove("rollouts").unwrap();
    for r in rollouts.as_array_mut().unwrap() {
        let r = r.as_table_mut().unwrap();
        r.remove("strategy");
        r.remove("analysis");
    }
    routing.insert("rollouts".into(), rollouts);
    let spec: RoutingSpec = toml::Value::Table(routing).try_into().unwrap();
    let edge = doc["edge"].as_table().unwrap();
    let geo: rollgate_core::GeoSpec = edge["geo"].clone().try_into().unwrap();
    let overrides: rollgate_core::OverrideSpec = edge["overrides"].clone().try_into().unwrap();
    let ctx = EdgeContext {
        geo: GeoSource::from_header_spec(&geo).unwrap(),
        overrides: Some(overrides.to_settings(Some(KEY.to_vec())).unwrap()),
    };
    let t = RoutingTable::build(&spec, &ctx).unwrap();
    assert_eq!(t.spec().services[0].breaker.half_open_probes, 3);
    let req = AttributesView::new()
        .with_host("shop.example.com")
        .with_header("X-User-Id", "alice")
        .with_header("CF-IPCountry", "DE")
        .with_header(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        )
        .with_ip("192.0.2.1".parse().unwrap());
    let d = t.decide(&req, 0, || unreachable!()).unwrap();
    assert_eq!(d.rollout(), Some("shop-v1.2"));
    assert!(
        matches!(d.reason(), Reason::Bucket { .. }),
        "in the audience: {}",
        d.reason()
    );
    let us = req.with_header("CF-IPCountry", "US");
    assert!(matches!(
        t.decide(&us, 0, || unreachable!()).unwrap().reason(),
        Reason::OutsideAudience { .. }
    ));
}

#[test]
fn salts_must_not_hold_the_separator() {
    let mut s = spec();
    s.rollouts[0].salt = Some("a\0b".into());
    s.experiments[0].salt = Some(String::new());
    let text = s.validate().unwrap_err().to_string();
    assert!(
        text.contains("rollouts[0].salt: the salt must not contain NUL"),
        "{text}"
    );
    assert!(
        text.contains("experiments[0].salt: the salt is empty"),
        "{text}"
    );
}
