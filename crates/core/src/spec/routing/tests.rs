use super::*;
use crate::spec::experiment::VariantSpec;
use crate::spec::service::{UnitSpec, VersionSpec};

pub(crate) fn service(name: &str, versions: &[&str]) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        hosts: vec![format!("{name}.example.com")],
        path_prefix: "/".into(),
        unit: UnitSpec::default(),
        load_balancing: Default::default(),
        timeouts: Default::default(),
        health_check: None,
        breaker: Default::default(),
        stable: None,
        versions: versions
            .iter()
            .enumerate()
            .map(|(i, v)| VersionSpec {
                name: (*v).into(),
                endpoints: vec![format!("127.0.0.1:{}", 8000 + i)],
                labels: Default::default(),
            })
            .collect(),
    }
}

fn rollout(name: &str, service: &str, stable: &str, canary: &str) -> RolloutRouteSpec {
    RolloutRouteSpec {
        name: name.into(),
        service: service.into(),
        stable: stable.into(),
        canary: canary.into(),
        salt: None,
        weight: Ppm::percent(5),
        audience: None,
    }
}

fn experiment(name: &str, layer: &str, allocation: u32) -> ExperimentSpec {
    ExperimentSpec {
        name: name.into(),
        service: Some("shop".into()),
        layer: Some(layer.into()),
        allocation: Ppm::percent(allocation),
        offset: None,
        salt: None,
        audience: None,
        variants: vec![
            VariantSpec {
                name: "control".into(),
                weight: Ppm::percent(50),
                value: None,
                version: None,
            },
            VariantSpec {
                name: "b".into(),
                weight: Ppm::percent(50),
                value: None,
                version: None,
            },
        ],
        metrics: vec![],
    }
}

fn text(spec: &RoutingSpec) -> String {
    spec.validate().unwrap_err().to_string()
}

#[test]
fn a_consistent_spec_validates() {
    let spec = RoutingSpec {
        services: vec![service("shop", &["v1.1", "v1.2"]), service("cart", &["v1"])],
        rollouts: vec![rollout("shop-v1.2", "shop", "v1.1", "v1.2")],
        experiments: vec![experiment("a", "l", 40), experiment("b", "l", 60)],
    };
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn unknown_references_get_suggestions() {
    let spec = RoutingSpec {
        services: vec![service("shop", &["v1.1", "v1.3"])],
        rollouts: vec![
            rollout("r", "shpo", "v1.1", "v13"),
            rollout("s", "shop", "v1.1", "v13"),
        ],
        experiments: vec![],
    };
    let t = text(&spec);
    assert!(
        t.contains("rollouts[0].service: unknown service \"shpo\" (did you mean \"shop\"?)"),
        "{t}"
    );
    assert!(t.contains("rollouts[1].canary: unknown version \"v13\" of service \"shop\" (did you mean \"v1.3\"?)"), "{t}");
}

#[test]
fn duplicates_and_one_rollout_per_service() {
    let mut dup = service("shop", &["v1"]);
    dup.hosts = vec!["other.example.com".into()];
    let spec = RoutingSpec {
        services: vec![service("shop", &["v1", "v2"]), dup],
        rollouts: vec![
            rollout("r", "shop", "v1", "v2"),
            rollout("r", "shop", "v2", "v1"),
        ],
        experiments: vec![experiment("x", "x", 10), experiment("x", "y", 10)],
    };
    let t = text(&spec);
    assert!(
        t.contains("services[1].name: service \"shop\" is defined twice"),
        "{t}"
    );
    assert!(
        t.contains("rollouts[1].name: rollout \"r\" is defined twice"),
        "{t}"
    );
    assert!(
        t.contains("rollouts[1].service: service \"shop\" already has rollout \"r\""),
        "{t}"
    );
    assert!(
        t.contains("experiments[1].name: experiment \"x\" is defined twice"),
        "{t}"
    );
}

#[test]
fn ambiguous_routes_are_rejected() {
    let mut a = service("a", &["v1"]);
    let mut b = service("b", &["v1"]);
    a.hosts = vec!["Shop.example.com".into()];
    b.hosts = vec!["shop.example.com".into()];
    b.path_prefix = "/".into();
    let mut c = service("c", &["v1"]);
    let mut d = service("d", &["v1"]);
    c.hosts.clear();
    d.hosts.clear();
    c.path_prefix = "/api".into();
    d.path_prefix = "/api/".into();
    let spec = RoutingSpec {
        services: vec![a, b, c, d],
        ..RoutingSpec::default()
    };
    let t = text(&spec);
    assert!(t.contains("services[1].path_prefix: services \"a\" and \"b\" both answer host \"shop.example.com\""), "{t}");
    assert!(
        t.contains("services[3].path_prefix: services \"c\" and \"d\" both answer any host"),
        "{t}"
    );
}

#[test]
fn layers_must_not_overlap_or_overflow() {
    let mut c = experiment("c", "l", 20);
    c.offset = Some(Ppm::percent(30));
    let spec = RoutingSpec {
        services: vec![service("shop", &["v1"])],
        rollouts: vec![],
        experiments: vec![experiment("a", "l", 40), experiment("b", "l", 70), c],
    };
    let t = text(&spec);
    assert!(t.contains("experiments[1].allocation: layer \"l\" is over-allocated: this experiment's slice [40%, 110%) ends past 100%"), "{t}");
    assert!(t.contains("experiments[2].offset: slice [30%, 50%) of layer \"l\" overlaps experiment \"b\" [40%, 110%)"), "{t}");
    assert!(
        !t.contains("experiments[1].offset"),
        "a and b touch but do not overlap: {t}"
    );
    assert!(t.contains("experiments[2].offset: slice [30%, 50%) of layer \"l\" overlaps experiment \"a\" [0%, 40%)"), "{t}");
}

#[test]
fn version_routing_needs_a_service_without_rollout_and_one_layer() {
    let mut a = experiment("a", "l1", 10);
    a.variants[1].version = Some("v2".into());
    let mut b = experiment("b", "l2", 10);
    b.variants[1].version = Some("v2".into());
    let spec = RoutingSpec {
        services: vec![service("shop", &["v1", "v2"])],
        rollouts: vec![rollout("r", "shop", "v1", "v2")],
        experiments: vec![a, b],
    };
    let t = text(&spec);
    assert!(
        t.contains("experiments[0].service: service \"shop\" is moved by rollout \"r\""),
        "{t}"
    );
    assert!(t.contains("experiments[1].layer: experiments routing versions of service \"shop\" must share one layer"), "{t}");
}

#[test]
fn many_problems_are_all_reported_together() {
    let mut s = service("shop", &["v1"]);
    s.versions[0].endpoints = vec!["localhost:80x".into()];
    let mut e = experiment("e", "l", 10);
    e.variants[0].weight = Ppm::percent(10);
    e.audience = Some(crate::RuleSpec::Ip(vec!["bad".into()]));
    let spec = RoutingSpec {
        services: vec![s],
        rollouts: vec![rollout("r", "shop", "v1", "v2")],
        experiments: vec![e],
    };
    let errs = spec.validate().unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "services[0].versions[0].endpoints[0]",
            "rollouts[0].canary",
            "experiments[0].audience.ip[0]",
            "experiments[0].variants"
        ]
    );
}
