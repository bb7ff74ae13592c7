//! The CLI drives a whole rollout against a real `rollgate serve`: tokens bootstrapped
//! offline, the rollout created from a file, watched, paused, resumed and promoted, with the
//! exit codes scripts rely on (0 done, 1 refused, 2 unreachable) and every write recorded
//! with the token's name.
#![allow(clippy::unwrap_used)]

mod support;

use support::cli::{offline_token, rollgate};
use support::{config, serve};

fn config_text() -> String {
    config::api("", "")
}

const ROLLOUT: &str = r#"
[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"

[rollouts.strategy]
steps = [
  { weight = "10%", min_duration = "1h" },
  { weight = "100%" },
]

[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > 5%"
"#;

#[test]
fn a_whole_rollout_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("rollgate.toml");
    std::fs::write(&config, config_text()).unwrap();
    let spec = dir.path().join("rollout.toml");
    std::fs::write(&spec, ROLLOUT).unwrap();

    let admin = offline_token(&data, "release-bot", "admin");
    let server = serve::Serve::start(&config, &data);
    // A second token, offline, while the server holds the store open.
    let operator = offline_token(&data, "alice", "operator");
    let viewer = offline_token(&data, "dashboard", "viewer");
    let url = format!("http://{}", server.api);
    let env = |token: &str| {
        [
            ("ROLLGATE_SERVER", url.clone()),
            ("ROLLGATE_TOKEN", token.to_owned()),
        ]
    };
    let as_user = |token: &str, args: &[&str]| {
        let e = env(token);
        rollgate(
            args,
            &[(e[0].0, e[0].1.as_str()), (e[1].0, e[1].1.as_str())],
        )
    };

    let created = as_user(
        &admin,
        &["rollout", "create", "--file", spec.to_str().unwrap()],
    );
    assert!(created.expect(0).contains("created shop-v2"), "{created:?}");

    // Watch until the loop starts it: three frames, the last one progressing at 10%.
    let watch = as_user(
        &viewer,
        &[
            "rollout",
            "status",
            "shop-v2",
            "--watch",
            "--watch-count",
            "4",
            "--interval",
            "0.7",
        ],
    );
    let text = watch.expect(0);
    assert_eq!(text.matches("rollout shop-v2").count(), 4, "{text}");
    let last = text.rsplit("rollout shop-v2").next().unwrap();
    assert!(
        last.contains("progressing") && last.contains("weight 10%"),
        "{last}"
    );
    for column in [
        "COHORT",
        "ERROR RATE",
        "P99",
        "CONVERSION",
        "canary",
        "baseline",
    ] {
        assert!(last.contains(column), "{column} missing:\n{last}");
    }

    // A viewer cannot pause; nothing changes.
    let refused = as_user(&viewer, &["rollout", "pause", "shop-v2"]);
    refused.expect(1);
    assert!(
        refused.stderr.contains("403") && refused.stderr.contains("operator"),
        "{refused:?}"
    );
    let paused = as_user(&operator, &["rollout", "pause", "shop-v2"]);
    assert!(
        paused.expect(0).contains("paused shop-v2: paused at 10%"),
        "{paused:?}"
    );
    let again = as_user(&operator, &["rollout", "pause", "shop-v2"]);
    again.expect(1);
    assert!(
        again.stderr.contains("409") && again.stderr.contains("already paused"),
        "{again:?}"
    );
    as_user(&operator, &["rollout", "resume", "shop-v2"]).expect(0);
    let weight = as_user(
        &operator,
        &[
            "rollout",
            "set-weight",
            "shop-v2",
            "25%",
            "--output",
            "json",
        ],
    );
    assert_eq!(weight.json()["weight"], "25%");
    as_user(&operator, &["rollout", "resume", "shop-v2"]).expect(0);
    let promoted = as_user(&operator, &["rollout", "promote", "shop-v2"]);
    assert!(promoted.expect(0).contains("promoted"), "{promoted:?}");

    let status = as_user(
        &viewer,
        &["rollout", "status", "shop-v2", "--output", "json"],
    );
    let doc = status.json();
    assert_eq!(doc["rollout"]["phase"], "promoted");
    assert_eq!(doc["metrics"]["rollout"], "shop-v2");
    // Watching a finished rollout ends at once.
    as_user(&viewer, &["rollout", "status", "shop-v2", "--watch"]).expect(0);

    let history = as_user(
        &viewer,
        &["rollout", "history", "shop-v2", "--output", "json"],
    );
    let actors: Vec<String> = history.json()["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}:{}",
                d["action"].as_str().unwrap(),
                d["actor"]["name"].as_str().unwrap_or("controller")
            )
        })
        .collect();
    assert_eq!(
        actors,
        [
            "start:controller",
            "pause:alice",
            "resume:alice",
            "set_weight:alice",
            "resume:alice",
            // Resuming from 25% goes on to the next step above it, 100%.
            "ramp:alice",
            "promote:alice"
        ]
    );
    let list = as_user(&viewer, &["rollout", "list"]);
    assert!(
        list.expect(0).contains("shop-v2") && list.stdout.contains("promoted"),
        "{list:?}"
    );
    let versions = as_user(&viewer, &["version", "list"]);
    assert!(
        versions.expect(0).contains("v2") && versions.stdout.contains("stable"),
        "{versions:?}"
    );
}

#[test]
fn exit_codes_for_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("rollgate.toml");
    std::fs::write(&config, config_text()).unwrap();
    let server = serve::Serve::start(&config, &data);
    let url = format!("http://{}", server.api);

    // No token: refused (1), with a hint.
    let run = rollgate(&["rollout", "list", "--server", &url], &[]);
    run.expect(1);
    assert!(
        run.stderr.contains("401") && run.stderr.contains("ROLLGATE_TOKEN"),
        "{run:?}"
    );
    // A wrong token: refused; the problem document with --output json.
    let run = rollgate(
        &[
            "rollout", "list", "--server", &url, "--token", "rg_nope", "--output", "json",
        ],
        &[],
    );
    run.expect(1);
    assert_eq!(run.json()["status"], 401);
    // Unknown rollout: refused.
    let viewer = offline_token(&data, "v", "viewer");
    let run = rollgate(
        &["rollout", "status", "nope", "--server", &url],
        &[("ROLLGATE_TOKEN", &viewer)],
    );
    run.expect(1);
    assert!(run.stderr.contains("404"), "{run:?}");
    // Nobody listening: 2.
    drop(server);
    let run = rollgate(
        &["rollout", "list", "--server", &url],
        &[("ROLLGATE_TOKEN", &viewer)],
    );
    run.expect(2);
    assert!(run.stderr.contains("cannot be reached"), "{run:?}");
    // Usage errors: 2.
    rollgate(&["rollout", "set-weight", "x", "150%"], &[]).expect(2);
}
