//! Routing: weights, stickiness, ramps, audience rules, version tagging, anonymous units.

use std::collections::HashSet;

use serde_json::json;

use crate::harness::{Harness, spec, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_split_users_and_every_user_sticks_to_a_version() {
    let h = Harness::start(|s, c| spec(s, c, "30%", json!({}), json!({}))).await;
    let mut canary = 0;
    for i in 0..2000 {
        let (status, version, body) = h.get_as(&format!("user-{i}"), "/").await;
        assert_eq!(status, 200);
        assert_eq!(
            body.trim(),
            version,
            "the body comes from the version the header names"
        );
        canary += usize::from(version == "v2");
    }
    let share = canary as f64 / 2000.0;
    assert!((share - 0.30).abs() < 0.04, "canary share {share}");
    for i in 0..50 {
        let user = format!("user-{i}");
        let first = h.get_as(&user, "/").await.1;
        for _ in 0..3 {
            assert_eq!(h.get_as(&user, "/").await.1, first, "{user} moved");
        }
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_the_weight_keeps_every_canary_user_on_the_canary() {
    let h = Harness::start(|s, c| spec(s, c, "10%", json!({}), json!({}))).await;
    let mut before = HashSet::new();
    for i in 0..1500 {
        if h.get_as(&format!("u{i}"), "/").await.1 == "v2" {
            before.insert(i);
        }
    }
    assert!(before.len() > 100, "{}", before.len());
    h.handle.swap(table(&spec(
        &h.stable,
        &h.canary,
        "20%",
        json!({}),
        json!({}),
    )));
    let mut after = 0;
    for i in 0..1500 {
        let v = h.get_as(&format!("u{i}"), "/").await.1;
        if before.contains(&i) {
            assert_eq!(v, "v2", "u{i} left the canary when the weight went up");
        }
        after += usize::from(v == "v2");
    }
    assert!(after > before.len() + 50, "{after} vs {}", before.len());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_is_tagged_both_ways_and_cannot_be_spoofed() {
    let h = Harness::start(|s, c| spec(s, c, "100%", json!({}), json!({}))).await;
    let r = h
        .client
        .get(h.url("/echo"))
        .header("X-User-Id", "alice")
        .header("X-Version", "v9")
        .header("X-Rollgate-Version", "v9")
        .header("X-Rollgate-Cohort", "stable")
        .header("X-Rollgate-Rerouted", "breaker_open")
        .header("X-Forwarded-For", "203.0.113.9")
        .header("Connection", "keep-alive, X-Hop")
        .header("X-Hop", "secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-version"], "v2");
    let seen = r.text().await.unwrap();
    assert!(seen.contains("x-rollgate-version: v2\n"), "{seen}");
    assert!(seen.contains("x-rollgate-cohort: canary\n"), "{seen}");
    assert!(
        seen.contains("x-forwarded-for: 203.0.113.9, 127.0.0.1\n"),
        "{seen}"
    );
    assert!(seen.contains("x-forwarded-proto: http\n"), "{seen}");
    assert!(
        seen.contains("forwarded: for=127.0.0.1;proto=http;host=127.0.0.1:"),
        "{seen}"
    );
    for banned in ["x-version:", "v9", "x-rollgate-rerouted", "x-hop", "stable"] {
        assert!(
            !seen.contains(banned),
            "{banned:?} reached the upstream: {seen}"
        );
    }
    // The upstream sends its own X-Version: the edge overwrites it.
    let (_, version, _) = h.get_as("alice", "/").await;
    assert_eq!(version, "v2");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_header_can_be_turned_off() {
    let h = Harness::start_with(
        |s, c| spec(s, c, "0%", json!({}), json!({})),
        |s| s.version_header = None,
    )
    .await;
    let (status, version, _) = h.get_as("bob", "/").await;
    assert_eq!(status, 200);
    assert_eq!(
        version, "spoofed-by-upstream",
        "with the header off, the upstream's own passes through"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_units_get_a_cookie_that_keeps_them_in_place() {
    let h = Harness::start(|s, c| spec(s, c, "50%", json!({}), json!({}))).await;
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let r = h.client.get(h.url("/")).send().await.unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        let version = r.headers()["x-version"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("rg_uid="), "{cookie}");
        assert!(
            cookie.ends_with("; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"),
            "{cookie}"
        );
        let id = cookie.split(';').next().unwrap().to_string();
        for _ in 0..5 {
            let again = h
                .client
                .get(h.url("/"))
                .header("Cookie", format!("a=b; {id}"))
                .send()
                .await
                .unwrap();
            assert!(
                again.headers().get("set-cookie").is_none(),
                "a known unit got a new cookie"
            );
            assert_eq!(again.headers()["x-version"], version.as_str(), "{id} moved");
        }
        seen.insert(version);
    }
    assert_eq!(
        seen.len(),
        2,
        "40 anonymous units at 50% all landed on one version"
    );
    // A unit cookie named in the spec counts as a unit id: nothing is minted.
    let r = h
        .client
        .get(h.url("/"))
        .header("Cookie", "uid=carol")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_no_service_get_a_404() {
    let h = Harness::start(|s, c| {
        spec(
            s,
            c,
            "0%",
            json!({"hosts": ["shop.example.com"]}),
            json!({}),
        )
    })
    .await;
    let r = h
        .client
        .get(h.url("/"))
        .header("Host", "other.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("no service"));
    let r = h
        .client
        .get(h.url("/"))
        .header("Host", "SHOP.example.com:80")
        .header("X-User-Id", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audience_rules_route_as_configured() {
    let h = Harness::start(|s, c| spec(s, c, "100%", json!({}), json!({}))).await;
    let with_rule = |rule| {
        table(&spec(
            &h.stable,
            &h.canary,
            "100%",
            json!({}),
            json!({"audience": rule}),
        ))
    };
    let version = |r: reqwest::Response| r.headers()["x-version"].to_str().unwrap().to_string();
    let get = || h.client.get(h.url("/")).header("X-User-Id", "dora");

    h.handle.swap(with_rule(
        json!({"header": {"name": "X-Beta", "equals": "1"}}),
    ));
    assert_eq!(
        version(get().header("X-Beta", "1").send().await.unwrap()),
        "v2"
    );
    assert_eq!(
        version(get().header("X-Beta", "0").send().await.unwrap()),
        "v1"
    );

    h.handle.swap(with_rule(
        json!({"cookie": {"name": "beta", "equals": "yes"}}),
    ));
    assert_eq!(
        version(get().header("Cookie", "beta=yes").send().await.unwrap()),
        "v2"
    );
    assert_eq!(version(get().send().await.unwrap()), "v1");

    h.handle.swap(with_rule(json!({"device": ["mobile"]})));
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    assert_eq!(
        version(get().header("User-Agent", iphone).send().await.unwrap()),
        "v2"
    );
    assert_eq!(
        version(get().header("User-Agent", desktop).send().await.unwrap()),
        "v1"
    );

    h.handle.swap(with_rule(json!({"country": ["DE", "FR"]})));
    assert_eq!(
        version(get().header("CF-IPCountry", "de").send().await.unwrap()),
        "v2"
    );
    assert_eq!(
        version(get().header("CF-IPCountry", "US").send().await.unwrap()),
        "v1"
    );

    h.handle.swap(with_rule(json!({"ip": ["127.0.0.2/32"]})));
    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let via = |c: reqwest::Client| c.get(h.url("/")).header("X-User-Id", "dora").send();
    assert_eq!(version(via(from("127.0.0.2")).await.unwrap()), "v2");
    assert_eq!(version(via(from("127.0.0.1")).await.unwrap()), "v1");
    h.shutdown().await;
}
