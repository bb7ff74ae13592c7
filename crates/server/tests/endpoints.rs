//! The happy path of every endpoint over real HTTP, checked against the control plane's own
//! answers.
#![allow(clippy::unwrap_used)]

#[path = "support/app.rs"]
mod app;

use app::App;
use reqwest::Method;
use rollgate_control::testing::T0;
use rollgate_core::AttributesView;
use serde_json::json;

#[tokio::test]
async fn services_and_versions() {
    let app = App::start().await;
    let admin = Some(app.admin.as_str());
    let services = app.get("/api/v1/services", admin).await;
    let names: Vec<&str> = services.ok()["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cart", "shop"]);
    let shop = app.get("/api/v1/services/shop", admin).await;
    assert_eq!(shop.ok()["stable"]["version"], "v1");
    assert_eq!(shop.body["rollout"], "shop-v2");

    let created = app
        .post(
            "/api/v1/services/shop/versions",
            admin,
            &json!({"name": "v4", "endpoints": ["127.0.0.1:4"], "labels": {"commit": "abc"}}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["created_by"], "admin");
    assert_eq!(created.body["labels"]["commit"], "abc");
    let list = app.get("/api/v1/services/shop/versions", admin).await;
    let versions: Vec<(&str, bool)> = list.ok()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["stable"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        versions,
        [("v1", true), ("v2", false), ("v3", false), ("v4", false)]
    );
    let v4 = app.get("/api/v1/services/shop/versions/v4", admin).await;
    assert_eq!(v4.ok()["endpoints"], json!(["127.0.0.1:4"]));

    let restored = app
        .post(
            "/api/v1/services/shop/versions/v3/restore",
            Some(&app.operator),
            &json!(null),
        )
        .await;
    let r = restored.ok();
    assert_eq!(
        (r["stable"].as_str(), r["previous"].as_str()),
        (Some("v3"), Some("v1"))
    );
    assert_eq!(r["aborted"]["name"], "shop-v2");
    assert_eq!(r["aborted"]["phase"], "aborted");
    let shop = app.get("/api/v1/services/shop", admin).await;
    assert_eq!(shop.ok()["stable"]["version"], "v3");
    assert_eq!(
        shop.body["stable"]["actor"],
        json!({"kind": "user", "name": "operator"})
    );
}

#[tokio::test]
async fn a_rollout_through_every_command() {
    let app = App::start().await;
    let op = Some(app.operator.as_str());
    let created = app
        .post(
            "/api/v1/rollouts",
            Some(&app.admin),
            &json!({"name": "cart-v2", "service": "cart", "stable": "v1", "canary": "v2",
                    "strategy": {"steps": [{"weight": "10%", "min_duration": "1h"}, {"weight": "100%"}]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["phase"], "pending");
    app.advance(1_000).await;
    let get = app.get("/api/v1/rollouts/cart-v2", op).await;
    assert_eq!(get.ok()["phase"], "progressing");
    assert_eq!(get.body["weight"], "10%");
    assert_eq!(get.body["weight_ppm"], 100_000);

    let steps = [
        ("pause", json!(null), "paused", "10%"),
        ("resume", json!(null), "progressing", "10%"),
        ("weight", json!({"weight": "25%"}), "paused", "25%"),
        // Resuming goes on from 25% to the next step above it.
        ("resume", json!(null), "progressing", "100%"),
        ("abort", json!(null), "aborted", "0%"),
        ("retry", json!(null), "progressing", "10%"),
        ("promote", json!(null), "promoted", "100%"),
    ];
    for (command, body, phase, weight) in steps {
        let answer = app
            .post(&format!("/api/v1/rollouts/cart-v2/{command}"), op, &body)
            .await;
        let r = answer.ok();
        assert_eq!(
            (r["phase"].as_str(), r["weight"].as_str()),
            (Some(phase), Some(weight)),
            "{command}: {r:#}"
        );
    }
    let active = app.get("/api/v1/rollouts?active=true", op).await;
    let names: Vec<&str> = active.ok()["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop-v2"]);
    let cart = app.get("/api/v1/rollouts?service=cart", op).await;
    assert_eq!(cart.ok()["rollouts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_decision_log_pages_with_next_links() {
    let app = App::start().await;
    let op = Some(app.operator.as_str());
    for c in ["pause", "resume", "pause", "resume"] {
        app.post(&format!("/api/v1/rollouts/shop-v2/{c}"), op, &json!(null))
            .await
            .ok();
    }
    let all = app.get("/api/v1/decisions?rollout=shop-v2", op).await;
    let total = all.ok()["total"].as_u64().unwrap();
    assert_eq!(total, 5, "{:#}", all.body); // start + 4 commands
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/decisions?rollout=shop-v2&limit=2".to_owned());
    while let Some(url) = next {
        let page = app.get(&url, op).await;
        let p = page.ok();
        assert_eq!(p["total"], total);
        seen.extend(
            p["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_i64().unwrap()),
        );
        next = p["next"].as_str().map(str::to_owned);
        assert!(seen.len() <= 6, "paging does not end");
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    let newest = app.get("/api/v1/decisions?order=desc&limit=1", op).await;
    assert_eq!(newest.ok()["decisions"][0]["id"], *seen.last().unwrap());
    assert_eq!(newest.body["decisions"][0]["action"], "resume");
    let later = app
        .get(&format!("/api/v1/decisions?since={}", T0 + 1), op)
        .await;
    assert_eq!(later.ok()["decisions"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn metrics_verdict_and_series() {
    let app = App::start().await;
    let v = Some(app.viewer.as_str());
    let metrics = app.get("/api/v1/rollouts/shop-v2/metrics", v).await;
    let m = metrics.ok();
    assert_eq!(m["rollout"], "shop-v2");
    assert_eq!(m["to"], T0);
    assert_eq!(m["from"], T0 - 300_000);
    assert_eq!(m["cohorts"]["canary"]["version"], "v2");
    let parsed: rollgate_analysis::RolloutMetrics = serde_json::from_value(m.clone()).unwrap();
    assert_eq!(parsed.rollout, "shop-v2");
    let verdict = app.get("/api/v1/rollouts/shop-v2/verdict", v).await;
    assert!(verdict.ok().as_object().unwrap().contains_key("verdict"));
    let series = app
        .get(
            &format!(
                "/api/v1/rollouts/shop-v2/series?metric=error_rate&from={}&to={}",
                T0 - 10_000,
                T0
            ),
            v,
        )
        .await;
    let s = series.ok();
    assert_eq!(s["unit"], "ratio");
    assert_eq!(s["cohorts"]["canary"].as_array().unwrap().len(), 10);
    app.get("/api/v1/rollouts/shop-v2/series?metric=nope", v)
        .await
        .problem(404);
}

#[tokio::test]
async fn experiments() {
    let app = App::start().await;
    let list = app.get("/api/v1/experiments", Some(&app.viewer)).await;
    assert_eq!(list.ok()["experiments"][0]["name"], "button");
    let created = app
        .post(
            "/api/v1/experiments",
            Some(&app.admin),
            &json!({"name": "banner", "service": "cart", "allocation": "10%",
                    "variants": [{"name": "a", "weight": "50%"}, {"name": "b", "weight": "50%"}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["state"], "running");
    let stopped = app
        .post(
            "/api/v1/experiments/banner/stop",
            Some(&app.operator),
            &json!(null),
        )
        .await;
    assert_eq!(stopped.ok()["state"], "stopped");
    assert!(stopped.body["stopped_at"].is_i64());
    let got = app
        .get("/api/v1/experiments/banner", Some(&app.viewer))
        .await;
    assert_eq!(got.ok()["state"], "stopped");
}

#[tokio::test]
async fn assignment_matches_the_routing_table() {
    let app = App::start().await;
    let table = app.plane.routing();
    for i in 0..200 {
        let unit = format!("user-{i}");
        let answer = app
            .get(
                &format!("/api/v1/assign?service=shop&unit={unit}&country=DE&header.X-Beta=1"),
                Some(&app.viewer),
            )
            .await;
        let a = answer.ok();
        let view = AttributesView::new()
            .with_country("DE")
            .with_header("X-Beta", "1");
        let want = table.assign("shop", &unit, &view).unwrap().summary();
        assert_eq!(a["version"], want.version.as_str());
        assert_eq!(a["cohort"], want.cohort.as_str());
        assert_eq!(a["bucket"], json!(want.bucket));
        let variants: Vec<&str> = a["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["variant"].as_str().unwrap())
            .collect();
        let want_variants: Vec<&str> = want
            .experiments
            .iter()
            .map(|v| v.variant.as_str())
            .collect();
        assert_eq!(variants, want_variants);
    }
    let p = app
        .get("/api/v1/assign?service=shop", Some(&app.viewer))
        .await;
    assert_eq!(p.problem(422)["errors"][0]["path"], "unit");
    app.get("/api/v1/assign?unit=u&service=nope", Some(&app.viewer))
        .await
        .problem(404);
    app.get("/api/v1/assign?unit=u", Some(&app.viewer))
        .await
        .problem(422);
}

#[tokio::test]
async fn tokens() {
    let app = App::start().await;
    let admin = Some(app.admin.as_str());
    let created = app
        .post(
            "/api/v1/tokens",
            admin,
            &json!({"name": "ci", "role": "operator"}),
        )
        .await;
    assert_eq!(created.status, 201);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rg_"));
    let me = app.get("/api/v1/whoami", Some(&secret)).await;
    assert_eq!(me.ok()["name"], "ci");
    assert_eq!(me.body["role"], "operator");
    let list = app.get("/api/v1/tokens", admin).await;
    let text = list.ok().to_string();
    assert!(
        text.contains("\"ci\"") && !text.contains(&secret) && !text.contains("hash"),
        "{text}"
    );
    app.post(
        "/api/v1/tokens",
        admin,
        &json!({"name": "ci", "role": "viewer"}),
    )
    .await
    .problem(409);
    app.post(
        "/api/v1/tokens",
        admin,
        &json!({"name": " ", "role": "viewer"}),
    )
    .await
    .problem(422);
    let revoked = app
        .send(Method::DELETE, "/api/v1/tokens/ci", admin, None)
        .await;
    assert_eq!(revoked.ok()["name"], "ci");
    app.get("/api/v1/whoami", Some(&secret)).await.problem(401);
    app.send(Method::DELETE, "/api/v1/tokens/ci", admin, None)
        .await
        .problem(404);
}
