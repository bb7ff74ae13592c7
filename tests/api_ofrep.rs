//! The real OpenFeature Python SDK with its OFREP provider (from PyPI) against a real
//! `rollgate serve`: for 1,000 units, every flag's value and variant equal what
//! `rollgate assign` computes from the same configuration file.
//!
//! Needs a Python with `openfeature-sdk` and `openfeature-provider-ofrep`, named by the
//! `ROLLGATE_PYTHON` variable (`.ci/run` creates one in a virtual environment).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use support::{cli, serve};

const UNITS: usize = 1000;

const CONFIG: &str = r#"
[control]
window = "1s"

[[services]]
name = "shop"

[[services.versions]]
name = "v1.1"
endpoints = ["127.0.0.1:9"]

[[services.versions]]
name = "v1.2"
endpoints = ["127.0.0.1:9"]

[[rollouts]]
name = "shop-v1.2"
service = "shop"
stable = "v1.1"
canary = "v1.2"
weight = "30%"
audience = { country = ["DE"] }

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
  { name = "control", weight = "50%" },
  { name = "urgent", weight = "50%", value = "Buy now" },
]
"#;

const FLAGS: [&str; 3] = ["shop-v1.2", "checkout-button", "checkout-copy"];
const CODE_DEFAULT: &str = "<code default>";

fn python() -> String {
    let Ok(python) = std::env::var("ROLLGATE_PYTHON") else {
        panic!(
            "ROLLGATE_PYTHON is not set. This test runs the OpenFeature Python SDK: create a virtual \
             environment with `python3 -m venv /tmp/rollgate-venv && /tmp/rollgate-venv/bin/pip install \
             openfeature-sdk openfeature-provider-ofrep`, then set ROLLGATE_PYTHON=/tmp/rollgate-venv/bin/python \
             (.ci/run does both)"
        );
    };
    let check = Command::new(&python)
        .args(["-c", "import openfeature.contrib.provider.ofrep"])
        .output()
        .unwrap_or_else(|e| panic!("ROLLGATE_PYTHON={python} cannot run: {e}"));
    assert!(
        check.status.success(),
        "ROLLGATE_PYTHON={python} lacks the OFREP provider: pip install openfeature-sdk openfeature-provider-ofrep\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    python
}

#[test]
fn the_openfeature_sdk_agrees_with_rollgate_assign() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("rollgate.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let token = cli::offline_token(&data, "sdk", "viewer");
    let server = serve::Serve::start(&config, &data);

    let script = format!("{}/tests/ofrep/evaluate.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&python)
        .arg(script)
        .arg(format!("http://{}", server.api))
        .arg(&token)
        .arg(UNITS.to_string())
        .args(FLAGS)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK reported errors:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sdk: BTreeMap<(String, String), Value> = BTreeMap::new();
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        sdk.insert(
            (
                v["unit"].as_str().unwrap().to_owned(),
                v["flag"].as_str().unwrap().to_owned(),
            ),
            v,
        );
    }
    assert_eq!(sdk.len(), UNITS * FLAGS.len());

    let mut seen = BTreeMap::<String, usize>::new();
    for i in 0..UNITS {
        let unit = format!("u{i}");
        let country = if i % 2 == 0 { "DE" } else { "FR" };
        let run = cli::rollgate(
            &[
                "assign",
                "--config",
                config.to_str().unwrap(),
                "--unit",
                &unit,
                "--country",
                country,
                "--output",
                "json",
            ],
            &[],
        );
        let want = run.json();
        let got = &sdk[&(unit.clone(), "shop-v1.2".to_owned())];
        assert_eq!(got["value"], want["version"], "{unit}: {got}");
        assert_eq!(got["variant"], want["cohort"], "{unit}: {got}");
        let reason = if country == "DE" {
            "SPLIT"
        } else {
            "TARGETING_MATCH"
        };
        assert_eq!(got["reason"], reason, "{unit}: {got}");
        *seen
            .entry(format!("cohort {}", want["cohort"]))
            .or_default() += 1;

        for flag in &FLAGS[1..] {
            let got = &sdk[&(unit.clone(), (*flag).to_owned())];
            let variant = want["experiments"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["experiment"] == *flag);
            match variant {
                Some(v) => {
                    let value = v
                        .get("value")
                        .cloned()
                        .unwrap_or_else(|| v["variant"].clone());
                    assert_eq!(got["value"], value, "{unit} {flag}: {got}");
                    assert_eq!(got["variant"], v["variant"], "{unit} {flag}: {got}");
                    assert_eq!(got["reason"], "SPLIT", "{unit} {flag}: {got}");
                    *seen.entry(format!("{flag} {}", v["variant"])).or_default() += 1;
                }
                None => {
                    assert_eq!(got["value"], CODE_DEFAULT, "{unit} {flag}: {got}");
                    assert_eq!(got["reason"], "DEFAULT", "{unit} {flag}: {got}");
                    *seen.entry(format!("{flag} none")).or_default() += 1;
                }
            }
        }
    }
    // Every branch was exercised: all cohorts and every variant, and units in no variant.
    for key in [
        "cohort \"canary\"",
        "cohort \"baseline\"",
        "cohort \"stable\"",
        "checkout-button \"control\"",
        "checkout-button \"green\"",
        "checkout-button none",
        "checkout-copy \"control\"",
        "checkout-copy \"urgent\"",
        "checkout-copy none",
    ] {
        assert!(seen.get(key).copied().unwrap_or(0) > 20, "{key}: {seen:?}");
    }
}
