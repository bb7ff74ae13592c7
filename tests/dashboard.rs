//! The dashboard in a real browser: headless Chromium (Debian `chromium` + `chromium-driver`)
//! driven over WebDriver against the real `rollgate serve`, with real upstreams, real HTTP
//! load through the edge and real SDK events, so the charts draw measured data. In order:
//!
//! 1. an operator signs in with an API token and sees both rollouts in the list;
//! 2. the healthy rollout's page draws its charts (canary, baseline, stable lines, thresholds,
//!    the weight steps with decision markers) and refreshes itself; a screenshot is saved;
//! 3. the failing rollout was rolled back by the controller; its page says so; screenshot;
//! 4. the operator clicks pause, confirms the dialog (which says what will happen) and sees
//!    the phase change in the page and through the API, recorded as `user:alice`;
//! 5. a forged POST without the CSRF token — from the signed-in page itself, and with the
//!    stolen session cookie from outside — is refused, and changes nothing;
//! 6. a viewer signs in: everything is there but no button, and its POSTs are refused.
//!
//! Screenshots `rollout-healthy.png` and `rollout-rolled-back.png` go to `target/screenshots/`
//! (overwritten at every run, so a test run leaves the tree clean), or to the directory in
//! `ROLLGATE_SCREENSHOT_DIR` — `ROLLGATE_SCREENSHOT_DIR=docs/img` refreshes the ones the docs
//! show. Page timings as Chromium measured them are printed.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "dashboard/browser.rs"]
mod browser;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use support::serve::Serve;
use support::upstream::Upstream;
use support::{cli, load};

const CONFIG: &str = r#"
[edge]
drain_timeout = "2s"
version_header = "X-Version"

[control]
window = "1s"

[[metrics]]
name = "conversion_rate"
ratio = { numerator = "conversion", denominator = "exposure" }

[[services]]
name = "shop"
path_prefix = "/shop"
unit = { header = "X-User-Id" }
[[services.versions]]
name = "v1"
endpoints = ["SHOP_V1"]
[[services.versions]]
name = "v2"
endpoints = ["SHOP_V2"]

[[services]]
name = "cart"
path_prefix = "/cart"
unit = { header = "X-User-Id" }
[[services.versions]]
name = "v1"
endpoints = ["CART_V1"]
[[services.versions]]
name = "v2"
endpoints = ["CART_V2"]

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"
[rollouts.strategy]
steps = [
  { weight = "5%", min_duration = "4s" },
  { weight = "20%", min_duration = "10m" },
  { weight = "100%" },
]
[rollouts.analysis]
min_samples = 20
[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > 5%"
immediate = true
[[rollouts.analysis.conditions]]
name = "latency"
fail_when = "p99_latency > 2 * baseline.p99_latency + 50ms"

[[rollouts]]
name = "cart-v2"
service = "cart"
stable = "v1"
canary = "v2"
[rollouts.strategy]
steps = [{ weight = "20%", min_duration = "10m" }, { weight = "100%" }]
[rollouts.analysis]
min_samples = 30
[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > 5%"
immediate = true
"#;

/// The REST API, as a script would use it.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn rollout(&self, name: &str) -> Value {
        self.get(&format!("/api/v1/rollouts/{name}")).await
    }
}

/// Polls `check` every 200 ms until it gives a value, for at most `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Client events for `shop`: exposures of 40 units every 500 ms, a conversion for one in eight.
async fn send_events(url: String, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    let mut n: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        let mut events = Vec::new();
        for _ in 0..40 {
            let unit = format!("e-{n}");
            events.push(json!({"service": "shop", "unit": unit, "name": "exposure"}));
            if n.is_multiple_of(8) {
                events.push(json!({"service": "shop", "unit": unit, "name": "conversion"}));
            }
            n += 1;
        }
        let _ = http
            .post(&url)
            .json(&json!({ "events": events }))
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The text of `css`, or `None` while the page is (re)loading.
async fn try_text(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// A POST to resume `shop-v2` sent from outside the browser with a stolen session cookie.
async fn forged(base: &str, cookie: &str, body: &str, origin: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/rollouts/shop-v2/resume"))
        .header("Cookie", cookie)
        .header("Origin", origin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.unwrap().len()
}

/// `responseEnd - requestStart` and DOMContentLoaded of the current page, in ms, as Chromium
/// measured them.
async fn timing(c: &Client) -> (f64, f64) {
    let v = c
        .execute(
            "const e = performance.getEntriesByType('navigation')[0]; \
             return [e.responseEnd - e.requestStart, e.domContentLoadedEventEnd - e.startTime];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

async fn sign_in(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    c.find(Locator::Css("form#login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("table.rollouts"))
        .await
        .unwrap();
}

/// Waits until the chart of `metric` has drawn at least `points` points with a visible
/// canary line.
async fn chart_drawn(c: &Client, metric: &str, points: usize) {
    let css = format!(r#"svg[data-metric="{metric}"]"#);
    eventually(
        Duration::from_secs(30),
        &format!("the {metric} chart"),
        || async {
            let svg = c.find(Locator::Css(&css)).await.ok()?;
            let n: usize = svg.attr("data-points").await.ok()??.parse().ok()?;
            let line = svg.find(Locator::Css("path.line.canary")).await.ok()?;
            let d = line.attr("d").await.ok()??;
            (n >= points && d.starts_with('M') && d.contains('L')).then_some(())
        },
    )
    .await;
}

fn screenshot_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("ROLLGATE_SCREENSHOT_DIR")
        .map_or_else(|| root.join("target/screenshots"), |d| root.join(d));
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_a_real_browser() {
    let driver = browser::Driver::start();
    let shop_v1 = Upstream::start("shop-v1").await;
    let shop_v2 = Upstream::start("shop-v2").await;
    let cart_v1 = Upstream::start("cart-v1").await;
    let cart_v2 = Upstream::start("cart-v2").await;
    cart_v2.set_error_rate(300_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollgate.toml");
    let config = CONFIG
        .replace("SHOP_V1", &shop_v1.endpoint())
        .replace("SHOP_V2", &shop_v2.endpoint())
        .replace("CART_V1", &cart_v1.endpoint())
        .replace("CART_V2", &cart_v2.endpoint());
    std::fs::write(&path, config).unwrap();
    let serve = Serve::start(&path, &dir.path().join("data"));
    let started = Instant::now();
    let base = format!("http://{}", serve.api);
    let operator = cli::offline_token(&serve.data_dir, "alice", "operator");
    let viewer = cli::offline_token(&serve.data_dir, "bob", "viewer");
    let api = Api {
        http: reqwest::Client::new(),
        base: base.clone(),
        token: operator.clone(),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let until = |s: &Arc<AtomicBool>| {
        let s = Arc::clone(s);
        move |_: &[load::Sample]| s.load(Ordering::SeqCst)
    };
    let (shop_url, shop_until) = (serve.url("/shop/"), until(&stop));
    let shop_load = tokio::spawn(async move {
        load::run(&shop_url, 120, "s", Duration::from_secs(150), shop_until).await
    });
    let (cart_url, cart_until) = (serve.url("/cart/"), until(&stop));
    let cart_load = tokio::spawn(async move {
        load::run(&cart_url, 80, "c", Duration::from_secs(150), cart_until).await
    });
    let events = tokio::spawn(send_events(format!("{base}/v1/events"), Arc::clone(&stop)));

    // The controller does its part: the failing canary is rolled back, the healthy one ramps.
    eventually(Duration::from_secs(60), "cart-v2 rolled back", || async {
        (api.rollout("cart-v2").await["phase"] == "rolled_back").then_some(())
    })
    .await;
    eventually(Duration::from_secs(60), "shop-v2 at 20%", || async {
        (api.rollout("shop-v2").await["weight"] == "20%").then_some(())
    })
    .await;

    // Half a minute of data, so the screenshots show lines rather than a few points.
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(started.elapsed())).await;

    let c = driver.client().await;
    // 1. Sign in; the list shows both rollouts.
    sign_in(&c, &base, &operator).await;
    let (list_ms, _) = timing(&c).await;
    let row = text(&c, r#"tr[data-rollout="shop-v2"]"#).await;
    assert!(row.contains("progressing") && row.contains("20%"), "{row}");
    let row = text(&c, r#"tr[data-rollout="cart-v2"]"#).await;
    assert!(row.contains("rolled back") && row.contains("fail"), "{row}");
    let cookie = c.get_named_cookie("rg_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert!(
        !cookie.value().contains(&operator),
        "the token never goes into the cookie"
    );

    // 2. The healthy rollout: charts with measured data, refreshed live.
    c.goto(&format!("{base}/rollouts/shop-v2")).await.unwrap();
    let (rollout_ms, rollout_dcl) = timing(&c).await;
    for metric in ["error_rate", "p99_latency", "conversion_rate"] {
        chart_drawn(&c, metric, 10).await;
    }
    assert!(count(&c, r#"svg[data-metric="error_rate"] path.line.baseline"#).await == 1);
    assert!(count(&c, r#"svg[data-metric="error_rate"] g.threshold"#).await == 1);
    assert!(count(&c, r#"svg[data-metric="p99_latency"] g.threshold"#).await == 1);
    assert!(
        count(&c, r#"svg[data-metric="weight"] .marker"#).await >= 2,
        "start and ramp"
    );
    assert!(count(&c, r#"tr[data-condition="errors"]"#).await == 1);
    let as_of = text(&c, "#as-of").await;
    eventually(Duration::from_secs(15), "a live refresh", || async {
        (try_text(&c, "#as-of").await? != as_of).then_some(())
    })
    .await;
    std::fs::write(
        screenshot_path("rollout-healthy.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // 3. The rolled-back rollout.
    c.goto(&format!("{base}/rollouts/cart-v2")).await.unwrap();
    chart_drawn(&c, "error_rate", 5).await;
    assert_eq!(text(&c, "#phase").await, "rolled back");
    assert!(count(&c, r#"svg[data-metric="weight"] .marker.retreat"#).await == 1);
    assert!(count(&c, r#"tr[data-action="rollback"]"#).await == 1);
    std::fs::write(
        screenshot_path("rollout-rolled-back.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // 4. Pause, confirmed in the dialog, seen in the page and through the API.
    c.goto(&format!("{base}/rollouts/shop-v2")).await.unwrap();
    c.find(Locator::Css("button.act.pause"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let question = c.get_alert_text().await.unwrap();
    assert!(
        question.starts_with("Pause shop-v2 at 20%: v2 keeps serving 20% of users"),
        "{question}"
    );
    c.accept_alert().await.unwrap();
    eventually(
        Duration::from_secs(10),
        "the paused phase on the page",
        || async { (try_text(&c, "#phase").await? == "paused").then_some(()) },
    )
    .await;
    assert!(
        text(&c, "p.notice.ok")
            .await
            .contains("shop-v2: pause done")
    );
    assert!(count(&c, "button.act.resume").await == 1 && count(&c, "button.act.pause").await == 0);
    assert_eq!(api.rollout("shop-v2").await["phase"], "paused");
    let log = api
        .get("/api/v1/decisions?rollout=shop-v2&order=desc&limit=1")
        .await;
    assert_eq!(log["decisions"][0]["action"], "pause");
    assert_eq!(
        log["decisions"][0]["actor"],
        json!({"kind": "user", "name": "alice"})
    );

    // 5. Forged POSTs without the CSRF token change nothing.
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/rollouts/shop-v2/resume', {method: 'POST', credentials: 'same-origin', \
               headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'confirmed=1'}) \
             .then(r => done(r.status), e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403), "in-page forged POST");
    let stolen = format!("rg_session={}", cookie.value());
    let csrf = c
        .find(Locator::Css(r#"form.logout input[name="csrf"]"#))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let ours = format!("http://{}", serve.api);
    let no_token = forged(&base, &stolen, "confirmed=1", &ours).await;
    assert_eq!(no_token, 403, "no CSRF token");
    let wrong = forged(&base, &stolen, "confirmed=1&csrf=00ff", &ours).await;
    assert_eq!(wrong, 403, "another session's or a made-up CSRF token");
    let body = format!("confirmed=1&csrf={csrf}");
    let cross_site = forged(&base, &stolen, &body, "http://evil.example").await;
    assert_eq!(cross_site, 403, "another origin, even with the token");
    assert_eq!(
        api.rollout("shop-v2").await["phase"],
        "paused",
        "nothing changed"
    );

    // 6. A viewer sees everything and no button; its POSTs are refused too.
    c.find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form#login"))
        .await
        .unwrap();
    sign_in(&c, &base, &viewer).await;
    c.goto(&format!("{base}/rollouts/shop-v2")).await.unwrap();
    chart_drawn(&c, "error_rate", 10).await;
    assert_eq!(count(&c, "#actions").await, 0);
    assert_eq!(count(&c, "form.action").await, 0);
    assert_eq!(count(&c, "button.act").await, 0);
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const csrf = document.querySelector('form.logout input[name=csrf]').value; \
             fetch('/rollouts/shop-v2/resume', {method: 'POST', credentials: 'same-origin', \
               headers: {'Content-Type': 'application/x-www-form-urlencoded'}, \
               body: 'confirmed=1&csrf=' + encodeURIComponent(csrf)}) \
             .then(r => done(r.status), e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        status,
        json!(403),
        "a viewer's POST with its own CSRF token"
    );
    assert_eq!(api.rollout("shop-v2").await["phase"], "paused");

    println!(
        "Chromium timings (debug build of rollgate serve): rollouts list {list_ms:.1} ms to the last byte; \
         rollout page {rollout_ms:.1} ms to the last byte, DOMContentLoaded at {rollout_dcl:.1} ms"
    );
    c.close().await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let _ = shop_load.await;
    let _ = cart_load.await;
    let _ = events.await;
    drop(serve);
}
