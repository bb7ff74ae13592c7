//! Reads arbitrary UTF-8 as `rollgate.toml` through `rollgate_config::parse`, what
//! `rollgate validate`, `serve` and every reload do with a file. It must answer `Ok` or `Err`,
//! never panic; an `Err` names at least one problem, each with a message. A file that is
//! accepted must be usable: its routing compiles into a table (with the file's own override
//! settings) that decides requests, and its rollouts' analyses judge an empty document.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rollgate_analysis::{RolloutMetrics, analyze};
use rollgate_config::{Config, ConfigError};
use rollgate_core::{AttributesView, EdgeContext, GeoSource, Ppm, RoutingTable};

/// A key of the length the edge accepts, standing in for the one `hmac_key_env` names.
const KEY: &[u8] = b"fuzz-key-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match rollgate_config::parse(text, "fuzz") {
        Ok(config) => check_usable(&config),
        Err(e) => check_error(&e),
    }
});

fn check_error(e: &ConfigError) {
    assert!(e.count() >= 1, "an error with no problem: {e:?}");
    if let ConfigError::Invalid { errors, .. } = e {
        assert!(!errors.is_empty(), "Invalid with no problem: {e:?}");
        for problem in errors.iter() {
            assert!(
                !problem.message.is_empty(),
                "a problem without a message: {problem:?}"
            );
        }
    }
    let text = e.to_string();
    assert!(!text.is_empty());
}

fn check_usable(config: &Config) {
    let plain = RoutingTable::build(&config.routing, &EdgeContext::default())
        .unwrap_or_else(|e| panic!("a valid file's routing does not build: {e}"));
    let overrides = config.edge.overrides.as_ref().map(|spec| {
        spec.to_settings(spec.hmac_key_env.as_ref().map(|_| KEY.to_vec()))
            .unwrap_or_else(|e| panic!("valid [edge.overrides] do not build: {e}"))
    });
    let geo = config
        .edge
        .geo
        .as_ref()
        .and_then(GeoSource::from_header_spec)
        .unwrap_or_default();
    let edge = RoutingTable::build(&config.routing, &EdgeContext { geo, overrides })
        .unwrap_or_else(|e| panic!("a valid file's routing does not build with its context: {e}"));
    for table in [&plain, &edge] {
        for service in &config.routing.services {
            let host = service
                .hosts
                .first()
                .cloned()
                .unwrap_or_else(|| "any".into());
            let req = AttributesView::new()
                .with_host(host)
                .with_path(service.path_prefix.clone())
                .with_header("X-Rollgate-Force", "v1.2")
                .with_ip("10.0.0.1".parse().expect("an address"));
            if let Some(d) = table.decide(&req, 1_700_000_000, || "minted".into()) {
                assert!(table.service(d.service()).is_some());
                let _ = d.summary();
            }
            let _ = table.assign(&service.name, "unit-1", &req);
        }
    }
    for rollout in &config.rollouts {
        let doc = RolloutMetrics::new(rollout.config.name.clone(), Ppm::percent(10), 0, 1_000);
        let verdict = analyze(&doc, &rollout.analysis);
        let _ = verdict.to_string();
    }
}
