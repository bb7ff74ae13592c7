//! End to end: the real `rollgate edge` binary between a real client and two real upstreams.
//! Splits, stickiness, ramps, audience rules, version tagging and anonymous units.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use support::edge::Edge;
use support::shop::ShopEdge;

/// The version each of users `u0 … u{n-1}` gets, asked by 8 concurrent keep-alive clients.
async fn versions(edge: &Edge, n: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let url = Arc::new(edge.url("/"));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (client, url) = (client.clone(), url.clone());
        tasks.spawn(async move {
            let mut out = Vec::new();
            for i in (worker..n).step_by(8) {
                let r = client
                    .get(url.as_str())
                    .header("X-User-Id", format!("u{i}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let v = r.headers()["x-version"].to_str().unwrap().to_string();
                assert_eq!(
                    r.text().await.unwrap().trim(),
                    v,
                    "the header names the version that answered"
                );
                out.push((i, v));
            }
            out
        });
    }
    let mut all = vec![String::new(); n];
    for (i, v) in tasks.join_all().await.into_iter().flatten() {
        all[i] = v;
    }
    all
}

fn share(vs: &[String]) -> f64 {
    vs.iter().filter(|v| *v == "v2").count() as f64 / vs.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_split_10000_users_exactly_and_ramps_keep_canary_users() {
    let s = ShopEdge::start("0%", None, "").await;
    let (edge, cfg) = (&s.edge, |w: &str| s.config(w, None, ""));
    const USERS: usize = 10_000;

    assert_eq!(share(&versions(edge, USERS).await), 0.0);

    s.reload(&cfg("30%")).await;
    let at30 = versions(edge, USERS).await;
    assert!((share(&at30) - 0.30).abs() <= 0.02, "30%: {}", share(&at30));
    let again = versions(edge, 1000).await;
    assert_eq!(again[..], at30[..1000], "the same users got other versions");

    // The ramp: 4 000 users are enough to hold ~400 canary users to their group.
    const RAMP: usize = 4_000;
    s.reload(&cfg("10%")).await;
    let at10 = versions(edge, RAMP).await;
    assert!((share(&at10) - 0.10).abs() <= 0.02, "10%: {}", share(&at10));
    s.reload(&cfg("20%")).await;
    let at20 = versions(edge, RAMP).await;
    assert!((share(&at20) - 0.20).abs() <= 0.02, "20%: {}", share(&at20));
    let left: Vec<usize> = (0..RAMP)
        .filter(|&i| at10[i] == "v2" && at20[i] != "v2")
        .collect();
    assert!(
        left.is_empty(),
        "{} users left the canary when the weight went up",
        left.len()
    );

    s.reload(&cfg("100%")).await;
    assert_eq!(share(&versions(edge, USERS).await), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audience_rules_route_by_header_cookie_device_country_and_ip() {
    let s = ShopEdge::start(
        "100%",
        Some(r#"{ header = { name = "X-Beta", equals = "1" } }"#),
        "",
    )
    .await;
    let (edge, cfg) = (&s.edge, |rule: &str| s.config("100%", Some(rule), ""));
    let client = reqwest::Client::new();
    let version = |r: reqwest::Response| r.headers()["x-version"].to_str().unwrap().to_string();
    let get = || client.get(edge.url("/")).header("X-User-Id", "ana");

    assert_eq!(
        version(get().header("X-Beta", "1").send().await.unwrap()),
        "v2"
    );
    assert_eq!(version(get().send().await.unwrap()), "v1");

    s.reload(&cfg(r#"{ cookie = { name = "beta", equals = "yes" } }"#))
        .await;
    assert_eq!(
        version(get().header("Cookie", "beta=yes").send().await.unwrap()),
        "v2"
    );
    assert_eq!(
        version(get().header("Cookie", "beta=no").send().await.unwrap()),
        "v1"
    );

    s.reload(&cfg(r#"{ device = ["mobile"] }"#)).await;
    let phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
    let desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    assert_eq!(
        version(get().header("User-Agent", phone).send().await.unwrap()),
        "v2"
    );
    assert_eq!(
        version(get().header("User-Agent", desktop).send().await.unwrap()),
        "v1"
    );

    s.reload(&cfg(r#"{ country = ["DE", "FR", "NL"] }"#)).await;
    assert_eq!(
        version(get().header("CF-IPCountry", "NL").send().await.unwrap()),
        "v2"
    );
    assert_eq!(
        version(get().header("CF-IPCountry", "BR").send().await.unwrap()),
        "v1"
    );

    s.reload(&cfg(r#"{ ip = ["127.0.0.2/32", "10.0.0.0/8"] }"#))
        .await;
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let via = |c: reqwest::Client| c.get(edge.url("/")).header("X-User-Id", "ana").send();
    assert_eq!(version(via(from([127, 0, 0, 2])).await.unwrap()), "v2");
    assert_eq!(version(via(from([127, 0, 0, 3])).await.unwrap()), "v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_header_is_always_present_and_never_spoofed() {
    let s = ShopEdge::start("50%", None, "").await;
    let edge = &s.edge;
    let client = reqwest::Client::new();
    let mut seen = HashSet::new();
    for i in 0..200 {
        let r = client
            .get(edge.url("/"))
            .header("X-User-Id", format!("spoofer-{i}"))
            .header("X-Version", "v9")
            .header("X-Rollgate-Version", "v9")
            .send()
            .await
            .unwrap();
        let tag = r
            .headers()
            .get_all("x-version")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>();
        assert_eq!(tag.len(), 1, "{tag:?}");
        // The upstream sent its own X-Version ("spoofed-by-upstream"): overwritten.
        assert_eq!(r.text().await.unwrap().trim(), tag[0]);
        seen.insert(tag[0].clone());
    }
    assert_eq!(seen, HashSet::from(["v1".to_string(), "v2".to_string()]));
    let echo = client
        .get(edge.url("/echo"))
        .header("X-User-Id", "x")
        .header("X-Rollgate-Version", "v9")
        .send()
        .await
        .unwrap();
    let echo = echo.text().await.unwrap();
    assert!(
        !echo.contains("v9"),
        "a client-supplied version reached the upstream: {echo}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_users_get_a_cookie_and_stay_in_their_group() {
    let s = ShopEdge::start("50%", None, "").await;
    let edge = &s.edge;
    let mut groups = HashSet::new();
    let browser = reqwest::Client::new();
    for _ in 0..30 {
        let first = browser.get(edge.url("/")).send().await.unwrap();
        let cookie = first.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.starts_with("rg_uid=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        // What a browser sends back: the name=value pair.
        let jar = cookie.split(';').next().unwrap().to_string();
        let version = first.headers()["x-version"].to_str().unwrap().to_string();
        for _ in 0..5 {
            let next = browser
                .get(edge.url("/"))
                .header("Cookie", jar.as_str())
                .send()
                .await
                .unwrap();
            assert!(
                next.headers().get("set-cookie").is_none(),
                "the cookie was minted again"
            );
            assert_eq!(next.headers()["x-version"].to_str().unwrap(), version);
        }
        groups.insert(version);
    }
    assert_eq!(
        groups.len(),
        2,
        "30 anonymous users at 50% all landed in one group"
    );
}
