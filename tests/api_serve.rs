//! The API of a real `rollgate serve` over HTTP: the OpenAPI document, role checks that change
//! nothing, and client events (`POST /v1/events`) with the ingest key — valid, partly invalid,
//! malformed and over-size batches — landing in the rollout's metric windows.
//!
//! The ingest key is read from the variable `[control] ingest_key_env` names; this test names
//! `CARGO_PKG_NAME`, which cargo sets (to `rollgate`) for every test process and so for the
//! server it starts.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{cli, config, serve};

const INGEST_KEY: &str = env!("CARGO_PKG_NAME");

fn config_text() -> String {
    config::api(
        r#"
max_event_batch_bytes = 2048
max_event_batch_events = 20
ingest_key_env = "CARGO_PKG_NAME"
"#,
        r#"
[[metrics]]
name = "conversion_rate"
ratio = { numerator = "conversion", denominator = "exposure" }

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"
weight = "50%"
"#,
    )
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn events(&self, body: Vec<u8>, key: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/v1/events", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.header("x-rollgate-ingest-key", k);
        }
        self.send(req).await
    }

    /// The conversion count per cohort over the last minute.
    async fn conversions(&self, token: &str) -> (f64, f64) {
        let req = self
            .http
            .get(format!("{}/api/v1/rollouts/shop-v2/metrics", self.base))
            .bearer_auth(token);
        let (status, m) = self.send(req).await;
        assert_eq!(status, 200, "{m}");
        let read = |c: &str| {
            m["cohorts"][c]["metrics"]["conversion"]["value"]
                .as_f64()
                .unwrap_or(0.0)
        };
        (read("canary"), read("baseline") + read("stable"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_of_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("rollgate.toml");
    std::fs::write(&config, config_text()).unwrap();
    let viewer = cli::offline_token(&data, "viewer", "viewer");
    let server = serve::Serve::start(&config, &data);
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{}", server.api),
    };

    // The document is public and describes the event endpoint.
    let (status, doc) = api
        .send(api.http.get(format!("{}/api/v1/openapi.json", api.base)))
        .await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/v1/events"]["post"].is_object());

    // A viewer cannot steer; the rollout is unchanged.
    let before = api
        .send(
            api.http
                .get(format!("{}/api/v1/rollouts/shop-v2", api.base))
                .bearer_auth(&viewer),
        )
        .await;
    let refused = api
        .send(
            api.http
                .post(format!("{}/api/v1/rollouts/shop-v2/abort", api.base))
                .bearer_auth(&viewer),
        )
        .await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    let after = api
        .send(
            api.http
                .get(format!("{}/api/v1/rollouts/shop-v2", api.base))
                .bearer_auth(&viewer),
        )
        .await;
    assert_eq!(before.1["revision"], after.1["revision"]);
    assert_eq!(after.1["phase"], before.1["phase"]);

    // Failed authentication is logged with the reason, never the token; a refusal with the
    // token's name.
    let secret = "rg_do-not-log-this-0123456789";
    let wrong = api
        .send(
            api.http
                .get(format!("{}/api/v1/rollouts", api.base))
                .bearer_auth(secret),
        )
        .await;
    assert_eq!(wrong.0, 401);
    let logs = server.proc.logs();
    assert!(
        logs.contains("authentication failed") && logs.contains("unknown_or_revoked"),
        "{logs}"
    );
    assert!(
        logs.contains("forbidden") && logs.contains("token=\"viewer\""),
        "{logs}"
    );
    assert!(
        !logs.contains(secret) && !logs.contains(&viewer),
        "a secret reached the log:\n{logs}"
    );

    // Events: without the key, with a wrong key, then valid, partly invalid, malformed, too big.
    let batch = |events: Value| serde_json::to_vec(&json!({ "events": events })).unwrap();
    let good = batch(json!([{"unit": "u1", "name": "conversion"}]));
    assert_eq!(api.events(good.clone(), None).await.0, 401);
    assert_eq!(api.events(good.clone(), Some("nope")).await.0, 401);
    let units: Vec<Value> = (0..10)
        .map(|i| json!({"unit": format!("user-{i}"), "name": "conversion"}))
        .collect();
    let (status, report) = api
        .events(batch(Value::Array(units)), Some(INGEST_KEY))
        .await;
    assert_eq!(
        (status, report["accepted"].as_u64()),
        (200, Some(10)),
        "{report}"
    );
    let mixed = batch(json!([
        {"unit": "user-10", "name": "conversion"},
        {"unit": "user-11", "name": "Not A Name"},
        {"unit": "user-12", "name": "conversion", "version": "v7"},
    ]));
    let (status, report) = api.events(mixed, Some(INGEST_KEY)).await;
    assert_eq!(status, 200);
    assert_eq!(report["accepted"], 1, "{report}");
    let fields: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "version"]);
    assert_eq!(
        api.events(b"{\"events\": [".to_vec(), Some(INGEST_KEY))
            .await
            .0,
        400
    );
    let big: Vec<Value> = (0..15)
        .map(|i| json!({"unit": format!("user-{i}"), "name": "conversion", "attributes": {"headers": {"x-pad": "p".repeat(100)}}}))
        .collect();
    assert_eq!(
        api.events(batch(Value::Array(big)), Some(INGEST_KEY))
            .await
            .0,
        413
    );
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"unit": format!("user-{i}"), "name": "conversion"}))
        .collect();
    assert_eq!(
        api.events(batch(Value::Array(many)), Some(INGEST_KEY))
            .await
            .0,
        413
    );

    // The 11 accepted conversions reach the windows (closed once a second), split by cohort.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (canary, rest) = api.conversions(&viewer).await;
        if canary + rest >= 11.0 {
            assert_eq!(canary + rest, 11.0);
            assert!(canary > 0.0 && rest > 0.0, "canary {canary}, others {rest}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "events never reached the windows: {canary} + {rest}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
