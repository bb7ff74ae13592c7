//! Bad input over real HTTP: malformed JSON, unknown fields, invalid values, wrong media
//! types, over-size bodies, unknown names and refused commands all get a problem document
//! naming the field and the reason, and change nothing (the store is read back).
#![allow(clippy::unwrap_used)]

#[path = "support/app.rs"]
mod app;

use app::App;
use reqwest::Method;
use serde_json::json;

async fn raw(
    app: &App,
    method: Method,
    path: &str,
    token: &str,
    body: &[u8],
    ct: &str,
) -> app::Answer {
    app.send(method, path, Some(token), Some((body.to_vec(), ct)))
        .await
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = App::start().await;
    let before = app.state().await;
    for (path, token) in [
        ("/api/v1/rollouts", &app.admin),
        ("/api/v1/rollouts/shop-v2/weight", &app.operator),
        ("/api/v1/tokens", &app.admin),
        ("/api/v1/services/shop/versions", &app.admin),
        ("/api/v1/experiments", &app.admin),
    ] {
        for body in [&b"{\""[..], b"not json", b"", b"\"abc", b"{,}"] {
            let a = raw(&app, Method::POST, path, token, body, "application/json").await;
            let p = a.problem(400);
            assert_eq!(p["type"], "urn:rollgate:problem:bad-request", "{path}");
        }
    }
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn unknown_fields_and_bad_values_name_their_path() {
    let app = App::start().await;
    let before = app.state().await;
    let cases = [
        (
            "/api/v1/rollouts/shop-v2/weight",
            &app.operator,
            json!({"weight": "20%", "colour": "red"}),
            "colour",
        ),
        (
            "/api/v1/rollouts/shop-v2/weight",
            &app.operator,
            json!({"weight": "150%"}),
            "weight",
        ),
        (
            "/api/v1/rollouts/shop-v2/weight",
            &app.operator,
            json!({}),
            "",
        ),
        (
            "/api/v1/tokens",
            &app.admin,
            json!({"name": "x", "role": "root"}),
            "role",
        ),
        (
            "/api/v1/services/shop/versions",
            &app.admin,
            json!({"name": "v9", "endpoints": "127.0.0.1:9"}),
            "endpoints",
        ),
        (
            "/api/v1/services/shop/versions",
            &app.admin,
            json!({"name": "v9", "endpoints": ["nohost"]}),
            "endpoints[0]",
        ),
        (
            "/api/v1/services/shop/versions",
            &app.admin,
            json!({"name": "v1", "endpoints": ["127.0.0.1:99"]}),
            "name",
        ),
    ];
    for (path, token, body, field) in cases {
        let a = app.post(path, Some(token), &body).await;
        let p = a.problem(422);
        let paths: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap())
            .collect();
        assert!(paths.contains(&field), "{body}: {p:#}");
        assert!(!p["errors"][0]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn an_invalid_rollout_spec_names_the_field() {
    let app = App::start().await;
    let before = app.state().await;
    let spec = |strategy: serde_json::Value, condition: &str| {
        json!({"name": "cart-v9", "service": "cart", "stable": "v1", "canary": "v2",
               "strategy": strategy,
               "analysis": {"conditions": [{"name": "e", "fail_when": condition}]}})
    };
    let cases = [
        (
            spec(json!({"steps": [{"weight": "500%"}]}), "error_rate > 5%"),
            "strategy.steps[0].weight",
        ),
        (
            spec(json!({"steps": [{"weight": "5%"}]}), "eror_rate > 5%"),
            "analysis.conditions[0].fail_when",
        ),
        (
            spec(
                json!({"steps": [{"weight": "5%"}], "colour": 1}),
                "error_rate > 5%",
            ),
            "strategy",
        ),
    ];
    for (body, field) in cases {
        let a = app.post("/api/v1/rollouts", Some(&app.admin), &body).await;
        let p = a.problem(422);
        assert!(p.to_string().contains(field), "{field}: {p:#}");
    }
    // Independent mistakes are reported together, each at its path, not one per attempt.
    let mut body = spec(
        json!({"steps": [{"weight": "500%"}, {"weight": "5%", "min_duraton": "30s"}]}),
        "eror_rate > 5%",
    );
    body["colour"] = json!("red");
    let a = app.post("/api/v1/rollouts", Some(&app.admin), &body).await;
    let p = a.problem(422);
    let paths: Vec<&str> = p["errors"]
        .as_array()
        .expect("an error list")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    for field in [
        "colour",
        "strategy.steps[0].weight",
        "strategy.steps[1].min_duraton",
        "analysis.conditions[0].fail_when",
    ] {
        assert!(paths.contains(&field), "{field} not in {paths:?}: {p:#}");
    }
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn wrong_media_types_and_over_size_bodies() {
    let app = App::start().await;
    let before = app.state().await;
    let a = raw(
        &app,
        Method::POST,
        "/api/v1/rollouts/shop-v2/weight",
        &app.operator,
        b"weight=20%",
        "application/x-www-form-urlencoded",
    )
    .await;
    a.problem(415);
    let a = raw(
        &app,
        Method::POST,
        "/api/v1/rollouts/shop-v2/weight",
        &app.operator,
        br#"{"weight":"20%"}"#,
        "text/plain",
    )
    .await;
    a.problem(415);
    let big = format!(
        r#"{{"name": "v9", "endpoints": ["127.0.0.1:9"], "labels": {{"x": "{}"}}}}"#,
        "a".repeat(100_000)
    );
    let a = raw(
        &app,
        Method::POST,
        "/api/v1/services/shop/versions",
        &app.admin,
        big.as_bytes(),
        "application/json",
    )
    .await;
    assert_eq!(
        a.problem(413)["type"],
        "urn:rollgate:problem:payload-too-large"
    );
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn unknown_names_and_refused_commands() {
    let app = App::start().await;
    let before = app.state().await;
    let op = Some(app.operator.as_str());
    let p = app
        .post("/api/v1/rollouts/shop-v9/pause", op, &json!(null))
        .await;
    assert!(
        p.problem(404)["detail"]
            .as_str()
            .unwrap()
            .contains("shop-v2"),
        "did you mean: {:#}",
        p.body
    );
    let p = app
        .post("/api/v1/rollouts/shop-v2/resume", op, &json!(null))
        .await;
    assert!(
        p.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("not paused"),
        "{:#}",
        p.body
    );
    app.get("/api/v1/services/nope/versions", op)
        .await
        .problem(404);
    app.get("/api/v1/services/shop/versions/v9", op)
        .await
        .problem(404);
    app.get("/api/v1/experiments/nope", op).await.problem(404);
    app.post("/api/v1/experiments/nope/stop", op, &json!(null))
        .await
        .problem(404);
    app.post(
        "/api/v1/services/shop/versions/v9/restore",
        op,
        &json!(null),
    )
    .await
    .problem(404);
    app.get("/api/v1/decisions?limit=0&order=up", op)
        .await
        .problem(422);
    app.get("/api/v1/decisions?after_id=abc", op)
        .await
        .problem(400);
    app.get("/api/v1/rollouts?colour=red", op)
        .await
        .problem(400);
    assert_eq!(app.state().await, before);
}
