//! What an edge does with a routing snapshot read from etcd: arbitrary bytes through
//! `serde_json::from_slice::<RoutingSpec>`, then `RoutingTable::build` with a default
//! `EdgeContext` and with one that has a geo header and overrides. A table that builds must
//! decide requests without panic: a few fixed views, plus one per service aimed at its first
//! host and path prefix; every decision names a version of its service. A spec that builds
//! must survive the JSON round trip the control plane → etcd → edge path puts it through.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rollgate_core::{
    AttributesView, DeviceClass, EdgeContext, GeoSource, OverrideSettings, RoutingSpec,
    RoutingTable,
};

const NOW: u64 = 1_700_000_000;

static CONTEXT: LazyLock<EdgeContext> = LazyLock::new(|| EdgeContext {
    geo: GeoSource::Header("CF-IPCountry".into()),
    overrides: Some(OverrideSettings {
        header: Some("X-Rollgate-Force".into()),
        cookie: Some("rg_force".into()),
        trusted: vec!["10.0.0.0/8".parse().expect("a network")],
        hmac_key: Some(b"0123456789abcdef0123456789abcdef".to_vec()),
    }),
});

static FIXED: LazyLock<Vec<AttributesView>> = LazyLock::new(|| {
    vec![
        AttributesView::new(),
        AttributesView::new()
            .with_host("shop.example.com")
            .with_path("/api/cart")
            .with_header("X-User-Id", "alice")
            .with_header("CF-IPCountry", "DE")
            .with_header(
                "User-Agent",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
            )
            .with_header("X-App-Version", "2.4.1")
            .with_header("X-Beta", "1")
            .with_cookie("plan", "pro-annual")
            .with_query("variant", "b")
            .with_ip("10.1.2.3".parse().expect("an address")),
        AttributesView::new()
            .with_host("localhost:8080")
            .with_path("/")
            .with_cookie("uid", "bob")
            .with_cookie("rg_force", "v2")
            .with_header("X-Rollgate-Force", "v1.2")
            .with_country("fr")
            .with_device(DeviceClass::Bot)
            .with_ip("2001:db8::1".parse().expect("an address")),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<RoutingSpec>(data) else {
        return;
    };
    let plain = RoutingTable::build(&spec, &EdgeContext::default());
    let edge = RoutingTable::build(&spec, &CONTEXT);
    assert_eq!(
        plain.is_ok(),
        edge.is_ok(),
        "the edge context changed validity"
    );
    let (Ok(plain), Ok(edge)) = (plain, edge) else {
        return;
    };

    let json = serde_json::to_vec(&spec).expect("a spec serialises");
    let again: RoutingSpec = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
    assert_eq!(again, spec, "the JSON round trip changed the spec");

    let aimed: Vec<AttributesView> = spec
        .services
        .iter()
        .map(|s| {
            let host = s.hosts.first().cloned().unwrap_or_default();
            FIXED[1]
                .clone()
                .with_host(host)
                .with_path(s.path_prefix.clone())
        })
        .collect();
    for table in [&plain, &edge] {
        for req in FIXED.iter().chain(&aimed) {
            let Some(d) = table.decide(req, NOW, || "minted-unit".into()) else {
                continue;
            };
            let service = table
                .service(d.service())
                .expect("the decision's service exists");
            assert!(
                service.versions.iter().any(|v| v.name == d.version()),
                "{}",
                d.version()
            );
            let _ = d.summary();
            let _ = d.experiments().count();
        }
        for s in &spec.services {
            let d = table
                .assign(&s.name, "unit-7", &FIXED[1])
                .expect("a known service");
            assert_eq!(d.service(), s.name);
        }
        for r in &spec.rollouts {
            assert!(table.cohort_of(&r.name, "unit-7").is_some());
        }
        for e in &spec.experiments {
            let _ = table
                .variant_of(&e.name, "unit-7", &FIXED[1])
                .expect("a known experiment");
        }
    }
});
