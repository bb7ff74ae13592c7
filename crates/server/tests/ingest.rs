//! `POST /v1/events` over real HTTP: valid, partly invalid, malformed, over-size and
//! over-count batches, the ingest key, and events landing in the rollout's windows by cohort.
#![allow(clippy::unwrap_used)]

#[path = "support/app.rs"]
mod app;

use app::App;
use reqwest::Method;
use rollgate_control::testing::T0;
use rollgate_core::AttributesView;
use rollgate_server::ServerOptions;
use serde_json::{Value, json};

async fn post_events(
    app: &App,
    body: &[u8],
    ct: &str,
    key: Option<&str>,
    query: &str,
) -> app::Answer {
    let mut headers = vec![("content-type", ct)];
    if let Some(k) = key {
        headers.push(("x-rollgate-ingest-key", k));
    }
    app.raw(
        Method::POST,
        &format!("/v1/events{query}"),
        &headers,
        Some(body.to_vec()),
    )
    .await
}

fn batch(events: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "events": events })).unwrap()
}

/// The `metric` counts per cohort over the first two windows.
async fn counts(app: &App, metric: &str) -> (f64, f64, f64) {
    let path = format!(
        "/api/v1/rollouts/shop-v2/metrics?from={}&to={}",
        T0,
        T0 + 2_000
    );
    let m = app.get(&path, Some(&app.viewer)).await;
    let m = m.ok();
    let read = |c: &str| {
        m["cohorts"][c]["metrics"][metric]["value"]
            .as_f64()
            .unwrap_or(0.0)
    };
    (read("canary"), read("baseline"), read("stable"))
}

#[tokio::test]
async fn valid_events_land_in_their_cohort() {
    let app = App::start().await;
    let table = app.plane.routing();
    let mut expected = (0.0, 0.0, 0.0);
    let mut events = Vec::new();
    for i in 0..300 {
        let unit = format!("user-{i}");
        match table
            .assign("shop", &unit, &AttributesView::new())
            .unwrap()
            .cohort()
            .as_str()
        {
            "canary" => expected.0 += 1.0,
            "baseline" => expected.1 += 1.0,
            _ => expected.2 += 1.0,
        }
        events.push(json!({"unit": unit, "name": "conversion"}));
        events.push(
            json!({"unit": unit, "name": "page_load_ms", "value": 800 + i, "service": "shop"}),
        );
    }
    let answer = post_events(
        &app,
        &batch(Value::Array(events)),
        "application/json",
        None,
        "",
    )
    .await;
    assert_eq!(
        answer.ok(),
        &json!({"accepted": 600, "rejected": 0, "errors": []})
    );
    app.advance(2_000).await;
    assert_eq!(counts(&app, "conversion").await, expected);
    assert!(expected.0 > 10.0 && expected.1 > 10.0, "{expected:?}");
}

#[tokio::test]
async fn a_partly_invalid_batch_keeps_the_valid_events() {
    let app = App::start().await;
    let events = json!([
        {"unit": "u1", "name": "conversion"},
        {"unit": "u2", "name": "Bad Name"},
        {"unit": "", "name": "click"},
        {"unit": "u4", "name": "click", "value": "fast"},
        {"unit": "u5", "name": "click", "colour": "red"},
        {"unit": "u6", "name": "click", "version": "v9"},
        {"unit": "u7", "name": "click", "service": "nope"},
        {"unit": "u8", "name": "click", "timestamp": T0 + 3_600_000},
        {"unit": "u9", "name": "click", "attributes": {"ip": "x"}},
        {"unit": "u10", "name": "click", "version": "v2", "attributes": {"country": "DE"}},
    ]);
    let answer = post_events(&app, &batch(events), "application/json", None, "").await;
    let a = answer.ok();
    assert_eq!(a["accepted"], 2, "{a:#}");
    assert_eq!(a["rejected"], 8);
    let got: Vec<(u64, &str)> = a["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "name"),
            (2, "unit"),
            (3, "value"),
            (4, "colour"),
            (5, "version"),
            (6, "service"),
            (7, "timestamp"),
            (8, "attributes.ip")
        ]
    );
    assert!(a["errors"][4]["reason"].as_str().unwrap().contains("v9"));
}

#[tokio::test]
async fn malformed_over_size_and_over_count_batches_record_nothing() {
    let opts = ServerOptions {
        max_event_batch_bytes: 4096,
        max_event_batch_events: 10,
        ..ServerOptions::default()
    };
    let app = App::start_with(app::CONFIG, opts).await;
    let json = "application/json";
    post_events(&app, b"{\"events\": [", json, None, "")
        .await
        .problem(400);
    post_events(&app, b"[]", json, None, "").await.problem(422);
    post_events(&app, br#"{"events": [], "extra": 1}"#, json, None, "")
        .await
        .problem(422);
    post_events(&app, br#"{"events": []}"#, "application/xml", None, "")
        .await
        .problem(415);
    let many: Vec<Value> = (0..11)
        .map(|i| json!({"unit": format!("u{i}"), "name": "conversion"}))
        .collect();
    let p = post_events(&app, &batch(Value::Array(many)), json, None, "").await;
    assert!(
        p.problem(413)["detail"]
            .as_str()
            .unwrap()
            .contains("11 events")
    );
    let padded =
        json!([{"unit": "u1", "name": "conversion", "attributes": {"pad": "x".repeat(5000)}}]);
    post_events(&app, &batch(padded), json, None, "")
        .await
        .problem(413);
    let all_bad = post_events(
        &app,
        &batch(json!([{"unit": "u1", "name": "BAD"}])),
        json,
        None,
        "",
    )
    .await;
    assert_eq!(all_bad.status, 422);
    assert_eq!(all_bad.body["accepted"], 0);
    let empty = post_events(&app, &batch(json!([])), json, None, "").await;
    assert_eq!(empty.ok()["accepted"], 0);
    app.advance(2_000).await;
    assert_eq!(counts(&app, "conversion").await, (0.0, 0.0, 0.0));
}

#[tokio::test]
async fn the_ingest_key_is_required_when_configured_and_opens_nothing_else() {
    let app = App::start_with(
        app::CONFIG,
        ServerOptions::default().with_ingest_key("k3y-abc"),
    )
    .await;
    let body = batch(json!([{"unit": "u1", "name": "conversion"}]));
    let json = "application/json";
    post_events(&app, &body, json, None, "").await.problem(401);
    post_events(&app, &body, json, Some("wrong"), "")
        .await
        .problem(401);
    post_events(&app, &body, json, None, "?key=wrong")
        .await
        .problem(401);
    assert_eq!(
        post_events(&app, &body, json, Some("k3y-abc"), "")
            .await
            .ok()["accepted"],
        1
    );
    // sendBeacon: text/plain and the key in the query string.
    assert_eq!(
        post_events(
            &app,
            &body,
            "text/plain;charset=UTF-8",
            None,
            "?key=k3y-abc"
        )
        .await
        .ok()["accepted"],
        1
    );
    // The ingest key is not a token.
    let a = app
        .send(Method::GET, "/api/v1/rollouts", Some("k3y-abc"), None)
        .await;
    a.problem(401);
    let res = app
        .http
        .get(format!("{}/api/v1/rollouts", app.base))
        .header("x-rollgate-ingest-key", "k3y-abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
