#![allow(clippy::unwrap_used)]
//! Whole-file validation: the shipped example is valid, and every mistake in a bad file is
//! reported with its path at once.

fn example() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rollgate.toml");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_example_config_is_valid() {
    let config = rollgate_config::parse(&example(), "examples/rollgate.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.routing.services.len(), 1);
    assert_eq!(config.routing.services[0].versions.len(), 2);
    assert_eq!(config.rollouts.len(), 1);
    assert_eq!(config.rollouts[0].config.analysis.conditions.len(), 3);
    assert_eq!(config.routing.experiments.len(), 2);
    assert_eq!(config.edge.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.edge.version_header.as_deref(), Some("X-Version"));
    assert_eq!(config.control.listen.to_string(), "127.0.0.1:9000");
}

#[test]
fn five_mistakes_are_all_reported_with_paths() {
    let bad = example()
        // 1. an endpoint that is not host:port
        .replace(
            r#"endpoints = ["127.0.0.1:8003"]"#,
            r#"endpoints = ["localhost:80x"]"#,
        )
        // 2. a canary version that does not exist
        .replace(r#"canary = "v1.2""#, r#"canary = "v13""#)
        // 3. a misspelled field in a condition
        .replace(
            r#"fail_when = "error_rate > 5%""#,
            r#"fail_wen = "error_rate > 5%""#,
        )
        // 4. a listen address without a port
        .replace(r#"listen = "127.0.0.1:9000""#, r#"listen = "127.0.0.1""#)
        // 5. variant weights that do not add up to 100%
        .replace(
            r#"{ name = "green", weight = "50%", value = "green" }"#,
            r#"{ name = "green", weight = "40%", value = "green" }"#,
        );
    let err = rollgate_config::parse(&bad, "bad.toml").unwrap_err();
    let text = err.to_string();
    assert_eq!(err.count(), 5, "{text}");
    for expected in [
        "services[0].versions[1].endpoints[0]",
        "rollouts[0].canary: unknown version \"v13\"",
        "rollouts[0].analysis.conditions[0]",
        "unknown field `fail_wen`",
        "control.listen: \"127.0.0.1\" is not an IP address and port (add a port",
        "experiments[0].variants",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn syntax_errors_name_line_and_column() {
    let err = rollgate_config::parse("[edge]\nlisten = \n", "broken.toml").unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("broken.toml: "), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn unknown_sections_get_a_suggestion() {
    let err = rollgate_config::parse("[[service]]\nname = \"x\"\n", "x.toml").unwrap_err();
    assert!(
        err.to_string()
            .contains("service: unknown section (did you mean \"services\"?)"),
        "{err}"
    );
}

#[test]
fn an_empty_file_is_a_valid_config_with_defaults() {
    let config = rollgate_config::parse("", "empty.toml").unwrap();
    assert!(config.routing.services.is_empty());
    assert_eq!(
        config.edge.admin_listen.map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:9091")
    );
}

#[test]
fn one_rollout_reports_its_condition_strategy_and_rollback_mistakes_together() {
    let bad = example()
        .replace(
            r#"fail_when = "error_rate > 5%""#,
            r#"fail_when = "eror_rate > 5%""#,
        )
        .replace(
            r#"{ weight = "5%", min_duration = "1m" }"#,
            r#"{ weight = "0.5%", min_duration = "1m" }"#,
        )
        .replace(r#"rollback = "immediate" "#, r#"rollback = "instant" "#);
    let err = rollgate_config::parse(&bad, "bad.toml").unwrap_err();
    let text = err.to_string();
    assert_eq!(err.count(), 3, "{text}");
    assert!(
        text.contains("rollouts[0].analysis.rollback: unknown rollback mode \"instant\""),
        "{text}"
    );
    assert!(text.contains("rollouts[0].analysis.conditions[0].fail_when: unknown metric \"eror_rate\" (did you mean \"error_rate\"?)"), "{text}");
    assert!(
        text.contains("rollouts[0].strategy.steps[1].weight: 0.5% is below the previous step's 1%"),
        "{text}"
    );
}

#[test]
fn conditions_are_type_checked_against_declared_metrics() {
    let bad = example().replace(
        r#"fail_when = "error_rate > 5%""#,
        r#"fail_when = "error_rate > 0.05""#,
    );
    let err = rollgate_config::parse(&bad, "bad.toml").unwrap_err();
    let text = err.to_string();
    assert_eq!(err.count(), 1, "{text}");
    assert!(
        text.contains("rollouts[0].analysis.conditions[0].fail_when"),
        "{text}"
    );
    assert!(
        text.contains("5%"),
        "the hint should say to write a percentage: {text}"
    );
}

#[test]
fn the_metric_provider_is_builtin_or_prometheus() {
    let c = rollgate_config::parse("[control]\nprovider = \"builtin\"\n", "a.toml").unwrap();
    assert_eq!(c.control.provider, rollgate_config::ProviderSpec::Builtin);
    let c = rollgate_config::parse(
        "[control.provider.prometheus]\nurl = \"http://127.0.0.1:9090\"\n",
        "b.toml",
    )
    .unwrap();
    assert!(
        matches!(c.control.provider, rollgate_config::ProviderSpec::Prometheus(ref p) if p.url == "http://127.0.0.1:9090")
    );
    let err = rollgate_config::parse(
        "[control.provider.prometheus]\nurl = \"prom:9090\"\n",
        "c.toml",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "control.provider.prometheus.url: \"prom:9090\" is not an http:// or https:// URL"
        ),
        "{err}"
    );
    let err = rollgate_config::parse("[control]\nprovider = \"graphite\"\n", "d.toml").unwrap_err();
    assert!(err.to_string().contains("control.provider"), "{err}");
}
