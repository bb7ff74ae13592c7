//! HTTP/2 without TLS (h2c), and TLS termination with ALPN.

use serde_json::json;

use crate::harness::{Harness, spec};
use rollgate_edge::TlsFiles;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_clients_are_proxied_to_http1_upstreams() {
    let h = Harness::start(|s, c| spec(s, c, "100%", json!({}), json!({}))).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = client
        .get(h.url("/echo"))
        .header("X-User-Id", "olga")
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.headers()["x-version"], "v2");
    let seen = r.text().await.unwrap();
    assert!(
        seen.contains(&format!("host: {}\n", h.addr)),
        "the upstream gets a Host header: {seen}"
    );
    assert!(seen.contains("x-rollgate-version: v2\n"), "{seen}");
    // Many streams on one connection.
    let all = futures_like_join(&client, &h).await;
    assert!(all.iter().all(|v| v == "v2"), "{all:?}");
    h.shutdown().await;
}

async fn futures_like_join(client: &reqwest::Client, h: &Harness) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let req = client
            .get(h.url("/"))
            .header("X-User-Id", "olga")
            .header("X-N", i.to_string());
        tasks.spawn(async move {
            req.send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                .trim()
                .to_string()
        });
    }
    tasks.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_terminated_with_alpn_and_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, cert.cert.pem()).unwrap();
    std::fs::write(&files.key, cert.signing_key.serialize_pem()).unwrap();
    let tls = files.clone();
    let h = Harness::start_with(
        |s, c| spec(s, c, "0%", json!({}), json!({})),
        |s| s.tls = Some(tls),
    )
    .await;
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(root)
        .resolve("localhost", h.addr)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/echo", h.addr.port());
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_2, "ALPN offers h2");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let seen = r.text().await.unwrap();
    assert!(seen.contains("x-forwarded-proto: https\n"), "{seen}");
    let h1 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", h.addr)
        .http1_only()
        .build()
        .unwrap();
    let r = h1.get(&url).send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    assert_eq!(r.status(), 200);
    h.shutdown().await;
}
