//! The admin endpoints.

use serde_json::json;

use crate::harness::{Harness, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints_report_health_readiness_metrics_and_routing() {
    let h = Harness::start(|s, c| spec(s, c, "100%", json!({}), json!({}))).await;
    let get = |path: &str| h.client.get(h.admin_url(path)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    assert_eq!(get("/nope").await.unwrap().status(), 404);
    for _ in 0..7 {
        assert_eq!(h.get_as("rae", "/").await.0, 200);
    }
    let m = h.metrics().await;
    let line = m
        .lines()
        .find(|l| {
            l.starts_with("rollgate_requests_total{")
                && l.contains("version=\"v2\"")
                && l.contains("cohort=\"canary\"")
                && l.contains("code_class=\"2xx\"")
        })
        .unwrap_or_else(|| panic!("no canary series in {m}"));
    assert!(line.contains("rollout=\"shop-v2\""), "{line}");
    assert!(line.ends_with(" 7"), "{line}");
    assert!(
        m.contains("rollgate_edge_endpoint_healthy{service=\"shop\",version=\"v2\",endpoint=\""),
        "{m}"
    );
    let debug: serde_json::Value = get("/debug/routing").await.unwrap().json().await.unwrap();
    assert_eq!(debug["spec"]["services"][0]["name"], "shop");
    assert_eq!(debug["breakers"][1]["version"], "v2");
    assert_eq!(debug["breakers"][1]["state"], "closed");
    assert_eq!(debug["endpoints"][0]["healthy"], true);
    h.shutdown().await;
}
