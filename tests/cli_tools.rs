//! The offline CLI tools through the real binary: `analyze` with its exit codes (0 pass,
//! 1 fail, 3 inconclusive, 2 unusable input), offline `token` management, `completions`.
#![allow(clippy::unwrap_used)]

mod support;

use support::cli::{offline_token, rollgate};

fn sample() -> String {
    format!(
        "{}/examples/metrics-sample.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn analyze_exit_codes_follow_the_verdict() {
    let s = sample();
    let fail = rollgate(&["analyze", &s, "--condition", "error_rate > 5%"], &[]);
    let text = fail.expect(1);
    assert!(
        text.contains("FAIL") && text.contains("error_rate > 5%"),
        "{text}"
    );

    let pass = rollgate(
        &[
            "analyze",
            &s,
            "--condition",
            "error_rate > 50%",
            "--output",
            "json",
        ],
        &[],
    );
    pass.expect(0);
    assert_eq!(pass.json()["outcome"], "pass");

    let undecided = rollgate(
        &[
            "analyze",
            &s,
            "--condition",
            "error_rate > 50%",
            "--min-samples",
            "100000000",
        ],
        &[],
    );
    let text = undecided.expect(3);
    assert!(text.contains("INCONCLUSIVE"), "{text}");

    // With the configuration's conditions (the example config's rollout is named in the file).
    let config = format!("{}/examples/rollgate.toml", env!("CARGO_MANIFEST_DIR"));
    let by_config = rollgate(&["analyze", &s, "--config", &config], &[]);
    let text = by_config.expect(1);
    for name in ["errors", "latency", "conversion"] {
        assert!(text.contains(name), "{name}:\n{text}");
    }

    let bad = rollgate(&["analyze", &s, "--condition", "eror_rate > 5%"], &[]);
    bad.expect(2);
    assert!(
        bad.stderr.contains("--condition \"eror_rate > 5%\""),
        "{bad:?}"
    );
    rollgate(&["analyze", &s], &[]).expect(2);
    rollgate(
        &[
            "analyze",
            "/nonexistent.json",
            "--condition",
            "error_rate > 5%",
        ],
        &[],
    )
    .expect(2);
}

#[test]
fn tokens_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    // Without --name, the token is named after its role.
    let run = rollgate(
        &["token", "create", "--role", "admin", "--data-dir", d],
        &[],
    );
    let secret = run.expect(0).trim().to_owned();
    assert!(run.stderr.contains("created token \"admin\""), "{run:?}");
    offline_token(&data, "ci", "operator");
    let dup = rollgate(
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "viewer",
            "--data-dir",
            d,
        ],
        &[],
    );
    dup.expect(1);
    assert!(dup.stderr.contains("already exists"), "{dup:?}");
    let bad_role = rollgate(
        &[
            "token",
            "create",
            "--name",
            "x",
            "--role",
            "root",
            "--data-dir",
            d,
        ],
        &[],
    );
    bad_role.expect(2);
    assert!(
        bad_role.stderr.contains("viewer, operator or admin"),
        "{bad_role:?}"
    );

    let list = rollgate(&["token", "list", "--data-dir", d, "--output", "json"], &[]);
    let names: Vec<String> = list.json()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["admin", "ci"]);
    assert!(!list.stdout.contains(&secret) && !list.stdout.contains("hash"));

    rollgate(&["token", "revoke", "ci", "--data-dir", d], &[]).expect(0);
    let list = rollgate(&["token", "list", "--data-dir", d], &[]);
    assert!(list.expect(0).contains("revoked"), "{list:?}");
    rollgate(&["token", "revoke", "ci", "--data-dir", d], &[]).expect(1);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let run = rollgate(&["completions", shell], &[]);
        let script = run.expect(0);
        assert!(
            script.contains("rollout") && script.contains("set-weight"),
            "{shell}"
        );
    }
    rollgate(&["completions", "tcsh"], &[]).expect(2);
}
