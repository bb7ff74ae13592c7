//! The browser snippet `sdk/rollgate.js` against a real `rollgate serve`: its Node test suite
//! runs (fake-DOM unit tests and an end-to-end test posting through real `fetch`), and the
//! events it sent — exposure, page_load_ms, conversion for 20 units — are in the windows.
//!
//! Needs Node.js (`node` on the PATH, or `ROLLGATE_NODE`); `.ci/run` installs it.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{cli, config, serve};

const UNITS: u32 = 20;

fn config_text() -> String {
    config::api(
        r#"ingest_key_env = "CARGO_PKG_NAME""#,
        r#"
[[metrics]]
name = "conversion_rate"
ratio = { numerator = "conversion", denominator = "exposure" }

[[metrics]]
name = "avg_page_load_ms"
mean = { event = "page_load_ms" }

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"
weight = "50%"
"#,
    )
}

fn node() -> String {
    let node = std::env::var("ROLLGATE_NODE").unwrap_or_else(|_| "node".into());
    let ok = Command::new(&node)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test runs sdk/rollgate.test.js with Node.js: install it (apt-get install nodejs) or set ROLLGATE_NODE"
    );
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snippet_reports_to_a_real_server() {
    let node = node();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("rollgate.toml");
    std::fs::write(&config, config_text()).unwrap();
    let viewer = cli::offline_token(&data, "viewer", "viewer");
    let server = serve::Serve::start(&config, &data);

    let sdk = format!("{}/sdk/rollgate.test.js", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(node)
        .args(["--test", &sdk])
        .env(
            "ROLLGATE_EVENTS_URL",
            format!("http://{}/v1/events", server.api),
        )
        .env("ROLLGATE_INGEST_KEY", env!("CARGO_PKG_NAME"))
        .env("ROLLGATE_UNITS", UNITS.to_string())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("# pass 6") && report.contains("# skipped 0"),
        "{report}"
    );

    let http = reqwest::Client::new();
    let url = format!("http://{}/api/v1/rollouts/shop-v2/metrics", server.api);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let m: serde_json::Value = http
            .get(&url)
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sum = |metric: &str| -> f64 {
            ["canary", "baseline", "stable"]
                .iter()
                .map(|c| {
                    m["cohorts"][c]["metrics"][metric]["value"]
                        .as_f64()
                        .unwrap_or(0.0)
                })
                .sum()
        };
        if sum("conversion") >= f64::from(UNITS) {
            assert_eq!(sum("conversion"), f64::from(UNITS), "{m}");
            assert_eq!(sum("exposure"), f64::from(UNITS), "{m}");
            let load = m["cohorts"]["canary"]["metrics"]["avg_page_load_ms"]["value"].as_f64();
            assert_eq!(load, Some(840.0), "{m}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the snippet's events never reached the windows: {m}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
