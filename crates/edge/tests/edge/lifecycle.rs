//! Table swaps under load, and graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rollgate_edge::BreakerState;
use serde_json::json;

use crate::harness::{Harness, spec, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_tables_under_load_drops_no_request() {
    let h = Arc::new(Harness::start(|s, c| spec(s, c, "0%", json!({}), json!({}))).await);
    let running = Arc::new(AtomicBool::new(true));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (h, running, ok, failed) = (h.clone(), running.clone(), ok.clone(), failed.clone());
        load.spawn(async move {
            let mut i = 0u64;
            while running.load(Ordering::Relaxed) {
                let user = format!("w{worker}-{i}");
                match h
                    .client
                    .get(h.url("/"))
                    .header("X-User-Id", user)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        });
    }
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(15)).await;
        let weight = if round % 2 == 0 { "100%" } else { "0%" };
        h.handle.swap(table(&spec(
            &h.stable,
            &h.canary,
            weight,
            json!({}),
            json!({}),
        )));
    }
    running.store(false, Ordering::Relaxed);
    load.join_all().await;
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(
        ok.load(Ordering::Relaxed) > 100,
        "{}",
        ok.load(Ordering::Relaxed)
    );
    // The last table (0%) is the one serving.
    assert_eq!(h.get_as("zed", "/").await.1, "v1");
    let h = Arc::into_inner(h).unwrap();
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaps_keep_the_breaker_state_of_unchanged_versions() {
    let breaker = json!({"breaker": {"consecutive_failures": 2, "cool_down": "1m"}});
    let h = Harness::start(|s, c| spec(s, c, "100%", breaker.clone(), json!({}))).await;
    h.canary.stop().await;
    for _ in 0..3 {
        assert_eq!(h.get_as("pia", "/").await.1, "v1");
    }
    assert_eq!(h.breaker("v2").state, BreakerState::Open);
    h.handle.swap(table(&spec(
        &h.stable,
        &h.canary,
        "50%",
        breaker,
        json!({}),
    )));
    assert_eq!(
        h.breaker("v2").state,
        BreakerState::Open,
        "a new weight keeps the breaker"
    );
    let changed = json!({"breaker": {"consecutive_failures": 3, "cool_down": "1m"}});
    h.handle.swap(table(&spec(
        &h.stable,
        &h.canary,
        "50%",
        changed,
        json!({}),
    )));
    assert_eq!(
        h.breaker("v2").state,
        BreakerState::Closed,
        "a new breaker config starts closed"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_requests_in_flight_and_stops_accepting() {
    let h = Harness::start(|s, c| spec(s, c, "0%", json!({}), json!({}))).await;
    assert_drains_and_stops(h, "/slow/500").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_threads_share_the_port_and_drain_on_shutdown() {
    let h = Harness::start_with(
        |s, c| spec(s, c, "50%", json!({}), json!({})),
        |s| s.workers = Some(3),
    )
    .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        // A fresh client per request: new connections, spread over the workers by the kernel.
        let url = h.url("/");
        tasks.spawn(async move {
            let c = reqwest::Client::new();
            let r = c
                .get(url)
                .header("X-User-Id", format!("w{i}"))
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.headers()["x-version"].to_str().unwrap().to_string(),
            )
        });
    }
    let answers = tasks.join_all().await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert!(answers.iter().any(|(_, v)| v == "v1") && answers.iter().any(|(_, v)| v == "v2"));
    assert_drains_and_stops(h, "/slow/400").await;
}

/// Starts a slow request to `path`, shuts the edge down while it is in flight, and checks
/// that it finished and that the edge no longer accepts connections.
async fn assert_drains_and_stops(h: Harness, path: &str) {
    let url = h.url(path);
    let addr = h.addr;
    let slow = tokio::spawn({
        let c = h.client.clone();
        async move {
            c.get(url)
                .header("X-User-Id", "quinn")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.shutdown().await;
    let body = slow.await.unwrap();
    assert!(
        ["v1", "v2"].contains(&body.trim()),
        "the request in flight did not finish: {body:?}"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}
