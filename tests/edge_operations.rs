//! End to end: the real `rollgate edge` binary under failures and operations — a killed
//! canary, reloads under load, invalid configs, 100 MB bodies, SIGTERM.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use support::config::write;
use support::shop::ShopEdge;

/// GET `url` as `user`.
async fn get(client: &reqwest::Client, url: &str, user: &str) -> reqwest::Response {
    client
        .get(url)
        .header("X-User-Id", user)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_canary_opens_the_breaker_and_gets_still_succeed_via_stable() {
    let breaker = r#"breaker = { consecutive_failures = 3, error_ratio = "50%", window = "10s", min_requests = 20, cool_down = "1m", half_open_probes = 1 }"#;
    let s = ShopEdge::start("50%", None, breaker).await;
    let (client, url) = (reqwest::Client::new(), s.edge.url("/"));
    let mut canary_users = Vec::new();
    for i in 0..200 {
        let user = format!("c{i}");
        if get(&client, &url, &user).await.headers()["x-version"] == "v2" {
            canary_users.push(user);
        }
    }
    assert!(canary_users.len() > 50);
    s.canary.stop().await;
    for user in &canary_users {
        let r = get(&client, &url, user).await;
        assert_eq!(r.status(), 200, "{user}");
        assert_eq!(r.headers()["x-version"], "v1", "{user}");
        assert_eq!(r.text().await.unwrap().trim(), "v1");
    }
    let m = s.edge.metrics().await;
    assert!(
        m.contains("rollgate_edge_breaker_state{service=\"shop\",version=\"v2\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("rollgate_edge_breaker_state{service=\"shop\",version=\"v1\"} 0"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_continuous_load_drop_no_request_and_bad_configs_are_rejected() {
    let s = ShopEdge::start("0%", None, "").await;
    let running = Arc::new(AtomicBool::new(true));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (url, running, ok, failed) =
            (s.edge.url("/"), running.clone(), ok.clone(), failed.clone());
        load.spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0u64;
            while running.load(Ordering::Relaxed) {
                let r = client
                    .get(&url)
                    .header("X-User-Id", format!("w{worker}-{i}"))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    other => {
                        eprintln!("failed: {other:?}");
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
                i += 1;
            }
        });
    }
    let before = s.edge.swaps().await;
    for round in 0..10u64 {
        write(
            &s.edge.config,
            &s.config(if round % 2 == 0 { "100%" } else { "0%" }, None, ""),
        );
        s.edge.proc.signal("HUP");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // A broken file: rejected with its errors logged, the last good table keeps serving.
    write(
        &s.edge.config,
        &s.config("0%", None, "")
            .replace("name = \"v2\"", "name = \"v 2\""),
    );
    s.edge.proc.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.store(false, Ordering::Relaxed);
    load.join_all().await;
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during reloads"
    );
    assert!(
        ok.load(Ordering::Relaxed) > 200,
        "{}",
        ok.load(Ordering::Relaxed)
    );
    assert!(
        s.edge.swaps().await >= before + 5,
        "the reloads did not happen"
    );
    let logs = s.edge.proc.logs();
    assert!(logs.contains("new configuration rejected"), "{logs}");
    assert!(
        logs.contains("services[0].versions[1].name"),
        "the error names its path: {logs}"
    );
    let client = reqwest::Client::new();
    let r = get(&client, &s.edge.url("/"), "after").await;
    assert_eq!(
        r.headers()["x-version"],
        "v1",
        "the last good table (0%) serves"
    );

    // A change of the file alone (no signal) reloads too.
    let n = s.edge.swaps().await;
    write(&s.edge.config, &s.config("100%", None, ""));
    assert!(
        s.edge.swapped_since(n).await,
        "a file change did not reload: {}",
        s.edge.proc.logs()
    );
    let r = get(&client, &s.edge.url("/"), "after").await;
    assert_eq!(r.headers()["x-version"], "v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_100_mb_each_way_keeps_the_proxy_memory_bounded() {
    let s = ShopEdge::start("0%", None, "").await;
    let client = reqwest::Client::new();
    // Warm up (first connections, first table), then take the baseline.
    for _ in 0..20 {
        get(&client, &s.edge.url("/"), "m")
            .await
            .bytes()
            .await
            .unwrap();
    }
    let baseline = s.edge.proc.memory_kb("VmHWM");
    const SIZE: u64 = 100 * 1024 * 1024;

    let mut r = get(&client, &s.edge.url(&format!("/bytes/{SIZE}")), "m").await;
    assert_eq!(r.status(), 200);
    let mut got = 0u64;
    while let Some(chunk) = r.chunk().await.unwrap() {
        got += chunk.len() as u64;
    }
    assert_eq!(got, SIZE);

    let upload = vec![b'u'; SIZE as usize];
    let r = client
        .post(s.edge.url("/upload"))
        .header("X-User-Id", "m")
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().trim(), SIZE.to_string());

    let peak = s.edge.proc.memory_kb("VmHWM");
    let growth_mb = (peak.saturating_sub(baseline)) as f64 / 1024.0;
    eprintln!(
        "proxy VmHWM: baseline {baseline} kB, after 2 x 100 MB {peak} kB (+{growth_mb:.1} MB)"
    );
    assert!(
        growth_mb < 64.0,
        "the proxy grew by {growth_mb:.1} MB while streaming 100 MB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_requests_in_flight_and_exits_0() {
    let mut s = ShopEdge::start("0%", None, "").await;
    let url = s.edge.url("/slow/700");
    let slow = tokio::spawn(async move {
        let r = get(&reqwest::Client::new(), &url, "t").await;
        (r.status().as_u16(), r.text().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.edge.proc.signal("TERM");
    let (status, body) = slow.await.unwrap();
    assert_eq!(
        (status, body.trim()),
        (200, "v1"),
        "the request in flight was cut"
    );
    let exit = s
        .edge
        .proc
        .wait(Duration::from_secs(10))
        .expect("rollgate did not exit after SIGTERM");
    assert!(
        exit.success(),
        "exit status {exit:?}: {}",
        s.edge.proc.logs()
    );
}
