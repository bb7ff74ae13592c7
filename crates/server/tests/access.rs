//! Every route of the access table against every kind of caller, over real HTTP: no token, a
//! wrong token, a malformed header and every role too weak get 401/403 as a problem document
//! and change nothing (the store is read back directly); the weakest role allowed succeeds.
#![allow(clippy::unwrap_used)]

#[path = "support/app.rs"]
mod app;

use app::App;
use reqwest::Method;
use rollgate_server::{Need, RULES, Rule};
use rollgate_store::Role;
use serde_json::{Value, json};

/// The route with its parameters filled in (and the query it needs).
fn concrete(path: &str) -> String {
    let query = match path {
        "/api/v1/rollouts/{rollout}/series" => "?metric=error_rate",
        "/api/v1/assign" => "?unit=u1&service=shop",
        _ => "",
    };
    let path = format!("{path}{query}");
    path.replace("{service}", "shop")
        .replace("{version}", "v3")
        .replace("{rollout}", "shop-v2")
        .replace("{experiment}", "button")
        .replace("{token}", "viewer")
        .replace("{key}", "shop-v2")
}

/// A body that the route accepts.
fn body(rule: &Rule) -> Option<Value> {
    let v = match (rule.method.as_str(), rule.path) {
        ("POST", "/api/v1/services/{service}/versions") => {
            json!({"name": "v4", "endpoints": ["127.0.0.1:4"], "labels": {"commit": "abc"}})
        }
        ("POST", "/api/v1/rollouts") => json!({
            "name": "cart-v2", "service": "cart", "stable": "v1", "canary": "v2",
            "strategy": {"steps": [{"weight": "10%"}, {"weight": "100%"}]}
        }),
        ("POST", "/api/v1/rollouts/{rollout}/weight") => json!({"weight": "20%"}),
        ("POST", "/api/v1/experiments") => json!({
            "name": "banner", "service": "cart", "allocation": "10%",
            "variants": [{"name": "a", "weight": "50%"}, {"name": "b", "weight": "50%"}]
        }),
        ("POST", "/api/v1/tokens") => json!({"name": "ci", "role": "viewer"}),
        ("POST", p) if p.starts_with("/ofrep/") => json!({"context": {"targetingKey": "u1"}}),
        ("POST", _) => return None,
        _ => return None,
    };
    Some(v)
}

/// Puts the rollout where the route's command is allowed, so a refusal can only come from
/// access control.
async fn prepare(app: &App, rule: &Rule) {
    let op = Some(app.operator.as_str());
    match rule.path {
        "/api/v1/rollouts/{rollout}/resume" => {
            app.post("/api/v1/rollouts/shop-v2/pause", op, &json!(null))
                .await
                .ok();
        }
        "/api/v1/rollouts/{rollout}/retry" => {
            app.post("/api/v1/rollouts/shop-v2/abort", op, &json!(null))
                .await
                .ok();
        }
        _ => {}
    }
}

async fn call(app: &App, rule: &Rule, auth: Option<&str>) -> app::Answer {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = auth {
        headers.push(("authorization", a));
    }
    let body = body(rule).map(|b| serde_json::to_vec(&b).unwrap());
    app.raw(rule.method.clone(), &concrete(rule.path), &headers, body)
        .await
}

#[tokio::test]
async fn every_route_refuses_callers_without_the_role_and_changes_nothing() {
    let mut checked = 0;
    for rule in RULES {
        let Need::Role(required) = rule.need else {
            continue;
        };
        let app = App::start().await;
        prepare(&app, rule).await;
        let before = app.state().await;
        let bad_auth = [
            None,
            Some(
                "Bearer rg_0000000000000000000000000000000000000000000000000000000000000000"
                    .to_owned(),
            ),
            Some("Basic dXNlcjpwYXNz".to_owned()),
            Some("Bearer".to_owned()),
        ];
        for auth in &bad_auth {
            let answer = call(&app, rule, auth.as_deref()).await;
            let p = answer.problem(401);
            assert_eq!(
                answer.headers["www-authenticate"],
                "Bearer realm=\"rollgate\""
            );
            assert_eq!(
                p["type"], "urn:rollgate:problem:unauthorized",
                "{} {}",
                rule.method, rule.path
            );
            assert_eq!(
                app.state().await,
                before,
                "{} {} with {auth:?}",
                rule.method,
                rule.path
            );
        }
        for role in Role::ALL.into_iter().filter(|r| !r.allows(required)) {
            let auth = format!("Bearer {}", app.token(role));
            let answer = call(&app, rule, Some(&auth)).await;
            let p = answer.problem(403);
            assert!(
                p["detail"].as_str().unwrap().contains(required.as_str()),
                "{p:#}"
            );
            assert_eq!(
                app.state().await,
                before,
                "{} {} as {role}",
                rule.method,
                rule.path
            );
        }
        let auth = format!("Bearer {}", app.token(required));
        let answer = call(&app, rule, Some(&auth)).await;
        assert!(
            answer.status.is_success(),
            "{} {} as {required}: {} {:#}",
            rule.method,
            rule.path,
            answer.status,
            answer.body
        );
        if rule.method != Method::GET && !rule.path.starts_with("/ofrep/") {
            assert_ne!(
                app.state().await,
                before,
                "{} {} as {required} changed nothing",
                rule.method,
                rule.path
            );
        }
        checked += 1;
    }
    assert!(checked >= 28, "only {checked} routes need a role");
}

#[tokio::test]
async fn writes_are_recorded_with_the_token_name_as_actor() {
    let app = App::start().await;
    app.post(
        "/api/v1/rollouts/shop-v2/pause",
        Some(&app.operator),
        &json!(null),
    )
    .await
    .ok();
    let page = app
        .get(
            "/api/v1/decisions?rollout=shop-v2&order=desc&limit=1",
            Some(&app.viewer),
        )
        .await;
    let last = &page.ok()["decisions"][0];
    assert_eq!(last["action"], "pause");
    assert_eq!(last["actor"], json!({"kind": "user", "name": "operator"}));
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = App::start().await;
    app.get("/api/v1/whoami", Some(&app.operator)).await.ok();
    let revoked = app
        .send(
            Method::DELETE,
            "/api/v1/tokens/operator",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.ok()["name"], "operator");
    assert!(revoked.body["revoked_at"].is_i64());
    app.get("/api/v1/whoami", Some(&app.operator))
        .await
        .problem(401);
}

#[tokio::test]
async fn the_openapi_document_is_public_and_unknown_api_paths_are_problems() {
    let app = App::start().await;
    let doc = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.ok()["info"]["title"], "Rollgate API");
    app.get("/api/v1/nothing/here", Some(&app.admin))
        .await
        .problem(404);
}
