//! Failures: dead, slow, failing and unhealthy upstreams, and clients that hang up.

use std::time::Duration;

use rollgate_edge::BreakerState;
use serde_json::json;

use crate::harness::{Harness, spec};
use crate::upstream::Upstream;

fn breaker(consecutive: u32, cool_down: &str) -> serde_json::Value {
    json!({"breaker": {"consecutive_failures": consecutive, "min_requests": 1000, "cool_down": cool_down, "half_open_probes": 1}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_canary_opens_its_breaker_and_gets_requests_retried_on_stable() {
    let h = Harness::start(|s, c| spec(s, c, "100%", breaker(3, "1m"), json!({}))).await;
    assert_eq!(h.get_as("erin", "/").await.1, "v2");
    h.canary.stop().await;
    for i in 0..20 {
        let (status, version, body) = h.get_as(&format!("user-{i}"), "/").await;
        assert_eq!(
            (status, version.as_str(), body.trim()),
            (200, "v1", "v1"),
            "request {i}"
        );
    }
    assert_eq!(h.breaker("v2").state, BreakerState::Open);
    assert_eq!(h.breaker("v1").state, BreakerState::Closed);
    let echo = h.text_as("erin", "/echo").await;
    assert!(
        echo.contains("x-rollgate-rerouted: breaker_open\n"),
        "{echo}"
    );
    assert!(
        echo.contains("x-rollgate-cohort: canary\n"),
        "the cohort is kept: {echo}"
    );
    let m = h.metrics().await;
    assert!(
        m.contains("rollgate_edge_breaker_state{service=\"shop\",version=\"v2\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("rollgate_edge_retried_total{service=\"shop\",version=\"v2\"} 3"),
        "{m}"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_safe_or_marked_requests_are_retried() {
    let h = Harness::start(|s, c| spec(s, c, "100%", breaker(100, "1m"), json!({}))).await;
    h.canary.stop().await;
    let post = || {
        h.client
            .post(h.url("/upload"))
            .header("X-User-Id", "fred")
            .body("hello")
    };
    let r = post().send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.headers()["x-version"],
        "v2",
        "the failure names the version that failed"
    );
    assert!(r.text().await.unwrap().contains("502 Bad Gateway"));
    let r = post()
        .header("Idempotency-Key", "k-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-version"], "v1");
    assert_eq!(r.text().await.unwrap().trim(), "5");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_probe_closes_the_breaker_once_the_canary_is_back() {
    let h = Harness::start(|s, c| spec(s, c, "100%", breaker(2, "300ms"), json!({}))).await;
    let addr = h.canary.addr;
    h.canary.stop().await;
    for _ in 0..4 {
        assert_eq!(h.get_as("gina", "/").await.1, "v1");
    }
    assert_eq!(h.breaker("v2").state, BreakerState::Open);
    let _revived = Upstream::start_on("v2", addr).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        h.get_as("gina", "/").await.1,
        "v2",
        "the probe reaches the canary"
    );
    assert_eq!(h.breaker("v2").state, BreakerState::Closed);
    assert_eq!(h.get_as("gina", "/").await.1, "v2");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_5xx_count_as_failures() {
    let h = Harness::start(|s, c| spec(s, c, "100%", breaker(3, "1m"), json!({}))).await;
    for _ in 0..3 {
        let (status, version, _) = h.get_as("hank", "/status/503").await;
        assert_eq!((status, version.as_str()), (503, "v2"));
    }
    assert_eq!(h.breaker("v2").state, BreakerState::Open);
    let (status, version, _) = h.get_as("hank", "/status/503").await;
    assert_eq!(
        (status, version.as_str()),
        (503, "v1"),
        "canary traffic goes to stable while the breaker is open"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_is_not_a_canary_failure() {
    let h = Harness::start(|s, c| spec(s, c, "100%", breaker(2, "1m"), json!({}))).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    for _ in 0..5 {
        let r = impatient
            .get(h.url("/slow/1000"))
            .header("X-User-Id", "ivy")
            .send()
            .await;
        assert!(r.is_err(), "the client should have given up");
    }
    // Let the proxy notice the hang-ups.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.breaker("v2").state, BreakerState::Closed);
    assert_eq!(h.get_as("ivy", "/").await.1, "v2");
    let m = h.metrics().await;
    let downstream = m
        .lines()
        .find(|l| {
            l.starts_with("rollgate_errors_total{")
                && l.contains("side=\"downstream\"")
                && l.contains("version=\"v2\"")
        })
        .unwrap_or_else(|| panic!("no downstream errors in {m}"));
    assert!(downstream.ends_with(" 5"), "{downstream}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstreams_get_a_504() {
    let timeouts = json!({"timeouts": {"connect": "500ms", "first_byte": "200ms", "total": "5s"}});
    let h = Harness::start(|s, c| spec(s, c, "0%", timeouts, json!({}))).await;
    let (status, version, body) = h.get_as("jack", "/slow/2000").await;
    assert_eq!((status, version.as_str()), (504, "v1"));
    assert!(body.contains("504 Gateway Timeout"), "{body}");
    assert_eq!(h.get_as("jack", "/slow/10").await.0, 200);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_health_checks_take_the_canary_out_and_bring_it_back() {
    let check = json!({"health_check": {"path": "/healthz", "interval": "50ms", "timeout": "40ms", "healthy_threshold": 1, "unhealthy_threshold": 1}});
    let h = Harness::start(|s, c| spec(s, c, "100%", check, json!({}))).await;
    assert_eq!(h.get_as("kim", "/").await.1, "v2");
    h.canary.set_healthy(false);
    let rerouted = wait_for(|| async { h.get_as("kim", "/").await.1 == "v1" }).await;
    assert!(rerouted, "the unhealthy canary kept getting traffic");
    let echo = h.text_as("kim", "/echo").await;
    assert!(
        echo.contains("x-rollgate-rerouted: no_healthy_endpoint\n"),
        "{echo}"
    );
    h.canary.set_healthy(true);
    assert!(
        wait_for(|| async { h.get_as("kim", "/").await.1 == "v2" }).await,
        "the canary never came back"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stable_version_without_endpoints_answers_503_and_is_not_ready() {
    let h = Harness::start(|s, c| spec(s, c, "0%", json!({}), json!({}))).await;
    assert_eq!(
        h.client
            .get(h.admin_url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    h.stable.stop().await;
    // Three refused connections eject the endpoint (passive ejection); then the edge answers
    // 503 without trying.
    for _ in 0..3 {
        assert_eq!(h.get_as("lou", "/").await.0, 502);
    }
    let (status, version, body) = h.get_as("lou", "/").await;
    assert_eq!((status, version.as_str()), (503, "v1"));
    assert!(body.contains("no healthy upstream"), "{body}");
    let ready = h.client.get(h.admin_url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(ready.text().await.unwrap().contains("shop/v1"));
    h.shutdown().await;
}

/// Polls `check` every 20 ms for up to 3 s.
async fn wait_for<F: Future<Output = bool>>(check: impl Fn() -> F) -> bool {
    for _ in 0..150 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
