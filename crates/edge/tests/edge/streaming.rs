//! Bodies stream through the proxy both ways.

use serde_json::json;

use crate::harness::{Harness, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_stream_both_ways() {
    let h = Harness::start(|s, c| spec(s, c, "0%", json!({}), json!({}))).await;
    let size: usize = 20 * 1024 * 1024;
    let r = h
        .client
        .get(h.url(&format!("/bytes/{size}")))
        .header("X-User-Id", "max")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.content_length(),
        Some(size as u64),
        "the length passes through"
    );
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), size);

    let upload = vec![b'y'; size];
    let r = h
        .client
        .post(h.url("/upload"))
        .header("X-User-Id", "max")
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().trim(), size.to_string());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_empty_responses_complete() {
    let h = Harness::start(|s, c| spec(s, c, "0%", json!({}), json!({}))).await;
    for _ in 0..3 {
        let r = h
            .client
            .head(h.url("/bytes/100"))
            .header("X-User-Id", "nia")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-length"], "100");
        let r = h
            .client
            .get(h.url("/status/204"))
            .header("X-User-Id", "nia")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let m = h.metrics().await;
    let requests: u64 = m
        .lines()
        .filter(|l| l.starts_with("rollgate_requests_total{") && l.contains("version=\"v1\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(requests, 6, "every request is recorded once: {m}");
    h.shutdown().await;
}
