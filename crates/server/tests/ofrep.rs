//! OFREP over real HTTP: single and bulk evaluation agree with the routing table, errors use
//! OFREP's codes and statuses, and the bulk answer's ETag gives 304 while nothing changed.
#![allow(clippy::unwrap_used)]

#[path = "support/app.rs"]
mod app;

use app::App;
use reqwest::Method;
use rollgate_core::AttributesView;
use serde_json::json;

#[tokio::test]
async fn flags_agree_with_the_routing_table() {
    let app = App::start().await;
    let table = app.plane.routing();
    let v = Some(app.viewer.as_str());
    for i in 0..200 {
        let unit = format!("u{i}");
        let ctx = json!({"context": {"targetingKey": unit, "country": "DE", "plan": "gold"}});
        let rollout = app.post("/ofrep/v1/evaluate/flags/shop-v2", v, &ctx).await;
        let r = rollout.ok();
        let attrs = AttributesView::new().with_country("DE");
        let want = table.assign("shop", &unit, &attrs).unwrap();
        assert_eq!(r["key"], "shop-v2");
        assert_eq!(r["value"], want.version());
        assert_eq!(r["variant"], want.cohort().as_str());
        assert_eq!(r["reason"], "SPLIT");
        assert_eq!(r["metadata"]["bucket"], want.bucket().unwrap());

        let exp = app.post("/ofrep/v1/evaluate/flags/button", v, &ctx).await;
        let e = exp.ok();
        match table.variant_of("button", &unit, &attrs).unwrap() {
            Some(a) => {
                assert_eq!(e["variant"], a.variant);
                assert_eq!(e["reason"], "SPLIT");
                let value = a.value.cloned().unwrap_or_else(|| json!(a.variant));
                assert_eq!(e["value"], value);
            }
            None => {
                assert_eq!(e["reason"], "DEFAULT");
                assert!(e.get("value").is_none(), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn errors_use_ofrep_codes() {
    let app = App::start().await;
    let v = Some(app.viewer.as_str());
    let a = app
        .post(
            "/ofrep/v1/evaluate/flags/nope",
            v,
            &json!({"context": {"targetingKey": "u"}}),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body,
        json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "no rollout or experiment is named \"nope\""})
    );
    for (body, code) in [
        (json!({}), "TARGETING_KEY_MISSING"),
        (
            json!({"context": {"country": "DE"}}),
            "TARGETING_KEY_MISSING",
        ),
        (json!({"context": {"targetingKey": 7}}), "INVALID_CONTEXT"),
        (
            json!({"context": {"targetingKey": "u", "ip": "x"}}),
            "INVALID_CONTEXT",
        ),
    ] {
        let a = app.post("/ofrep/v1/evaluate/flags/shop-v2", v, &body).await;
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(a.body["errorCode"], code, "{body}");
        assert_eq!(a.body["key"], "shop-v2");
    }
    let a = app
        .send(
            Method::POST,
            "/ofrep/v1/evaluate/flags/shop-v2",
            v,
            Some((b"{nope".to_vec(), "application/json")),
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.body["errorCode"].as_str()),
        (400, Some("PARSE_ERROR"))
    );
    let big = vec![b' '; 100_000];
    let a = app
        .send(
            Method::POST,
            "/ofrep/v1/evaluate/flags",
            v,
            Some((big, "application/json")),
        )
        .await;
    assert_eq!(a.status, 413);
    let a = app
        .post(
            "/ofrep/v1/evaluate/flags/shop-v2",
            None,
            &json!({"context": {"targetingKey": "u"}}),
        )
        .await;
    a.problem(401);
}

#[tokio::test]
async fn bulk_evaluation_with_etags() {
    let app = App::start().await;
    let v = Some(app.viewer.as_str());
    let ctx = json!({"context": {"targetingKey": "user-1"}});
    let first = app.post("/ofrep/v1/evaluate/flags", v, &ctx).await;
    let keys: Vec<&str> = first.ok()["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["shop-v2", "button"]);
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    let again = app
        .http
        .post(format!("{}/ofrep/v1/evaluate/flags", app.base))
        .bearer_auth(&app.viewer)
        .header("if-none-match", &etag)
        .json(&ctx)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    // Another unit, or a changed weight, changes the answer and its tag.
    let other = app
        .post(
            "/ofrep/v1/evaluate/flags",
            v,
            &json!({"context": {"targetingKey": "user-2"}}),
        )
        .await;
    assert_ne!(other.headers["etag"], etag.as_str());
    let weight = app
        .post(
            "/api/v1/rollouts/shop-v2/weight",
            Some(&app.operator),
            &json!({"weight": "100%"}),
        )
        .await;
    weight.ok();
    let after = app.post("/ofrep/v1/evaluate/flags", v, &ctx).await;
    assert_eq!(after.ok()["flags"][0]["value"], "v2");
    assert_ne!(after.headers["etag"], etag.as_str());
    let bad = app
        .post("/ofrep/v1/evaluate/flags", v, &json!({"context": {}}))
        .await;
    assert_eq!(
        (bad.status.as_u16(), bad.body["errorCode"].as_str()),
        (400, Some("TARGETING_KEY_MISSING"))
    );
}
