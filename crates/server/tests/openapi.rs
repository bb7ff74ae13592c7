//! The OpenAPI document stays in sync with the code: it lists exactly the routes of the access
//! table, every reference resolves, every operation documents the errors it can give, and real
//! answers of the server match the schemas they are documented with.
#![allow(clippy::unwrap_used)]

#[path = "support/app.rs"]
mod app;

use std::collections::BTreeSet;

use app::App;
use rollgate_server::{Need, RULES, openapi};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::to_value(openapi()).unwrap()
}

#[test]
fn the_document_lists_exactly_the_routes_of_the_access_table() {
    let doc = document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let ruled: BTreeSet<(String, String)> = RULES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, ruled);
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "{}", all.len());
    for r in all {
        let pointer = r.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[test]
fn every_operation_documents_its_errors() {
    let doc = document();
    for rule in RULES {
        let op = &doc["paths"][rule.path][rule.method.as_str().to_lowercase()];
        let responses = op["responses"].as_object().unwrap();
        let has = |s: &str| responses.contains_key(s);
        let what = format!("{} {}", rule.method, rule.path);
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{what}: no success"
        );
        if let Need::Role(_) = rule.need {
            assert!(has("401") && has("403"), "{what}: no 401/403");
            assert_eq!(op["security"], json!([{"bearer": []}]), "{what}");
        }
        if !op["requestBody"].is_null() {
            assert!(has("400") && has("413"), "{what}: no 400/413");
            if rule.path.starts_with("/api/") || rule.path == "/v1/events" {
                assert!(has("415") && has("422"), "{what}: no 415/422");
            }
        }
        if rule.path.contains('{') && rule.path.starts_with("/api/") {
            assert!(has("404"), "{what}: no 404");
        }
        for (status, r) in responses {
            if status.starts_with('4') && rule.path.starts_with("/api/") {
                let text = r.to_string();
                assert!(
                    text.contains("#/components/responses/"),
                    "{what} {status}: not a problem response"
                );
            }
        }
    }
}

/// Checks that `value` fits `schema` (objects: known properties only, required ones present;
/// arrays: each item), following references.
fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc.pointer(r.strip_prefix('#').unwrap()).unwrap();
        return fits(doc, target, value, at);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        // `Option<T>` is `oneOf: [null, T]`.
        if value.is_null() {
            return;
        }
        if let Some(o) = options
            .iter()
            .find(|o| o.get("type") != Some(&json!("null")))
        {
            return fits(doc, o, value, at);
        }
    }
    match value {
        Value::Object(map) if schema.get("properties").is_some() => {
            let props = schema["properties"].as_object().unwrap();
            for (k, v) in map {
                let prop = props
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} is not in the schema"));
                fits(doc, prop, v, &format!("{at}.{k}"));
            }
            for r in schema["required"].as_array().into_iter().flatten() {
                assert!(
                    map.contains_key(r.as_str().unwrap()),
                    "{at}.{r} is required but missing"
                );
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    fits(doc, item, v, &format!("{at}[{i}]"));
                }
            }
        }
        Value::String(s) => {
            if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
                assert!(
                    allowed.contains(&json!(s)),
                    "{at}: {s:?} is not in {allowed:?}"
                );
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn real_answers_fit_their_schemas() {
    let app = App::start().await;
    app.post(
        "/api/v1/rollouts/shop-v2/pause",
        Some(&app.operator),
        &json!(null),
    )
    .await
    .ok();
    let doc = document();
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let checks = [
        ("/api/v1/rollouts", "RolloutList"),
        ("/api/v1/rollouts/shop-v2", "Rollout"),
        ("/api/v1/decisions?rollout=shop-v2", "DecisionPage"),
        ("/api/v1/services", "ServiceList"),
        ("/api/v1/services/shop", "Service"),
        ("/api/v1/services/shop/versions", "VersionList"),
        ("/api/v1/services/shop/versions/v1", "Version"),
        ("/api/v1/experiments", "ExperimentList"),
        ("/api/v1/experiments/button", "Experiment"),
        (
            "/api/v1/assign?unit=u7&service=shop&country=DE",
            "Assignment",
        ),
        ("/api/v1/tokens", "TokenList"),
        ("/api/v1/whoami", "WhoAmI"),
        (
            "/api/v1/rollouts/shop-v2/series?metric=error_rate",
            "MetricSeries",
        ),
        ("/api/v1/rollouts/shop-v2/verdict", "VerdictAnswer"),
    ];
    for (path, name) in checks {
        let answer = app.get(path, Some(&app.admin)).await;
        fits(&doc, &schema(name), answer.ok(), name);
    }
    // The check can fail: a rollout is not a decision.
    let rollout = app.get("/api/v1/rollouts/shop-v2", Some(&app.admin)).await;
    let body = rollout.ok().clone();
    let wrong = std::panic::catch_unwind(|| fits(&doc, &schema("Decision"), &body, "x"));
    assert!(wrong.is_err());
    let problem = app.get("/api/v1/rollouts/nope", Some(&app.admin)).await;
    fits(&doc, &schema("Problem"), problem.problem(404), "Problem");
}
