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

/// A client that trusts only `cert` and opens a new connection for every request.
fn trusting(
    cert: &rcgen::CertifiedKey<rcgen::KeyPair>,
    addr: std::net::SocketAddr,
) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", addr)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Replaces `path` by renaming a new file over it, as certbot and cert-manager do.
fn replace(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_served_without_a_restart_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, first.cert.pem()).unwrap();
    std::fs::write(&files.key, first.signing_key.serialize_pem()).unwrap();
    let tls = files.clone();
    let h = Harness::start_with(
        |s, c| spec(s, c, "0%", json!({}), json!({})),
        |s| s.tls = Some(tls),
    )
    .await;
    let url = format!("https://localhost:{}/", h.addr.port());
    let old = trusting(&first, h.addr);
    assert_eq!(old.get(&url).send().await.unwrap().status(), 200);

    // Renewal: the key first, then the chain. In between, the pair does not match and is
    // refused; once both are in place the new certificate is served to new connections.
    let second = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let new = trusting(&second, h.addr);
    replace(&files.key, &second.signing_key.serialize_pem());
    replace(&files.cert, &second.cert.pem());
    let mut served = false;
    for _ in 0..100 {
        if new.get(&url).send().await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(served, "the renewed certificate was not served within 5 s");
    // (A fresh client: `old` may resume its TLS session, which needs no certificate.)
    assert!(
        trusting(&first, h.addr).get(&url).send().await.is_err(),
        "new connections no longer get the old certificate"
    );

    // A broken chain, then a key that does not match: refused, the renewed one keeps serving.
    replace(
        &files.cert,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let fresh = trusting(&second, h.addr);
    assert_eq!(fresh.get(&url).send().await.unwrap().status(), 200);
    replace(&files.cert, &second.cert.pem());
    replace(&files.key, &first.signing_key.serialize_pem());
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let fresh = trusting(&second, h.addr);
    assert_eq!(fresh.get(&url).send().await.unwrap().status(), 200);
    h.shutdown().await;
}
