//! The dashboard over a real control plane (built-in metrics, simulated time) through the
//! same router `rollgate serve` mounts: sign-in and sessions, every page with real data,
//! the buttons with their confirmations, CSRF and origin refusals, viewers, revocation.
#![allow(clippy::unwrap_used)]

#[path = "support/fixture.rs"]
mod fixture;

use std::sync::Arc;

use axum::http::{StatusCode, header};
use fixture::{Browser, CONFIG, Fixture, Traffic};
use rollgate_core::model::{Action, Actor, Phase};
use rollgate_dashboard::DashboardOptions;
use rollgate_store::{DecisionQuery, MemStore, Order};

async fn fixture() -> Fixture {
    let f = Fixture::new(
        CONFIG,
        Arc::new(MemStore::new()),
        DashboardOptions::default(),
    )
    .await;
    f.run(30, Traffic::default()).await;
    f
}

async fn last_decision(f: &Fixture) -> rollgate_core::model::DecisionRecord {
    let page = f
        .plane
        .decisions(&DecisionQuery {
            rollout: Some("shop-v2".into()),
            limit: Some(1),
            order: Order::NewestFirst,
            ..DecisionQuery::default()
        })
        .await
        .unwrap();
    page.decisions.into_iter().next().unwrap()
}

#[tokio::test]
async fn sign_in_gives_a_session_cookie_never_the_token() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    let page = b.get("/rollouts/shop-v2").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?next=%2Frollouts%2Fshop-v2");

    let form = b.get("/login").await;
    let login_cookie = form
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));
    let nonce = form.hidden("nonce").unwrap();

    let wrong = b
        .post(
            "/login",
            &[("token", "rg_0000"), ("nonce", &nonce), ("next", "/")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("unknown or revoked"), "{}", wrong.body);
    assert!(!b.cookies.contains_key("rg_session"));

    // A form without the nonce of its cookie (another site posting a sign-in) is refused.
    let forged = b
        .post(
            "/login",
            &[("token", &f.operator), ("nonce", "x"), ("next", "/")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let ok = b.login(&f.operator).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/");
    let set: Vec<&str> = ok
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = set.iter().find(|c| c.starts_with("rg_session=")).unwrap();
    assert!(
        session.contains("; Path=/; HttpOnly; SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP here");
    assert!(
        !session.contains(&f.operator),
        "the token never goes into the cookie"
    );
    let id = b.cookies["rg_session"].clone();
    assert_eq!(id.len(), 64);

    let list = b.get("/").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(r#"data-rollout="shop-v2""#),
        "{}",
        list.body
    );
    assert!(list.body.contains("alice") && list.body.contains("operator"));
    let csp = list.headers.get(header::CONTENT_SECURITY_POLICY).unwrap();
    assert!(csp.to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(list.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");

    // Signing out ends the session on the server, not just in the browser.
    let csrf = list.hidden("csrf").unwrap();
    let kept = id;
    let out = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    b.cookies.insert("rg_session".into(), kept);
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_rollout_page_shows_live_charts_verdicts_and_decisions() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    b.login(&f.operator).await;
    let page = b.get("/rollouts/shop-v2").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    for metric in ["error_rate", "p99_latency", "conversion_rate"] {
        let marker = format!(r#"data-metric="{metric}" data-points=""#);
        let at = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no {metric} chart"));
        let n: usize = html[at + marker.len()..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // 30 s of windows over a chart of the rollout's life: a point per window.
        assert!(n >= 2 * 29, "{metric}: {n} points drawn");
    }
    assert!(
        html.contains("errors: fails when error_rate &gt; 5%"),
        "threshold drawn"
    );
    assert!(html.contains("latency: fails when p99_latency &gt; 1.5 * baseline.p99_latency"));
    assert!(html.contains(r#"class="line canary""#) && html.contains(r#"class="line baseline""#));
    assert!(
        html.contains(r#"data-metric="weight" data-decisions="1""#),
        "the start"
    );
    assert!(html.contains(r#"data-condition="errors""#), "verdict table");
    assert!(
        html.contains("error_rate</code> = "),
        "numbers of the verdict"
    );
    assert!(html.contains(r#"data-action="start""#), "decision log");
    assert!(html.contains(r#"data-phase="progressing""#));
    assert!(
        html.contains(r#"class="act pause""#),
        "an operator gets the buttons"
    );

    let live = b.live("/rollouts/shop-v2/live").await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(
        live.body.starts_with(r#"<div id="live""#),
        "{}",
        &live.body[..80]
    );
    assert!(!live.body.contains("<html"));
    let list = b.live("/live/rollouts").await;
    assert!(list.body.contains(r#"data-rollout="shop-v2""#));
}

#[tokio::test]
async fn pause_needs_csrf_then_confirmation_and_is_recorded_as_the_user() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    b.login(&f.operator).await;
    let page = b.get("/rollouts/shop-v2").await;
    let csrf = page.hidden("csrf").unwrap();
    let before = last_decision(&f).await;

    for form in [
        vec![("confirmed", "1")],
        vec![("confirmed", "1"), ("csrf", "0123")],
    ] {
        let forged = b.post("/rollouts/shop-v2/pause", &form).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(forged.body.contains("CSRF"), "{}", forged.body);
    }
    b.origin = Some("http://evil.test".into());
    let cross = b
        .post(
            "/rollouts/shop-v2/pause",
            &[("csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    b.origin = Some("http://dash.test".into());
    assert_eq!(
        f.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::Progressing
    );
    assert_eq!(last_decision(&f).await, before, "nothing was recorded");

    // Without JavaScript: a confirmation page that says what will happen.
    let confirm = b.post("/rollouts/shop-v2/pause", &[("csrf", &csrf)]).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains(
            "Pause shop-v2 at 10%: v2 keeps serving 10% of users and the controller stops ramping"
        ),
        "{}",
        confirm.body
    );
    assert_eq!(
        f.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::Progressing
    );

    let done = b
        .post(
            "/rollouts/shop-v2/pause",
            &[("csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/rollouts/shop-v2");
    assert_eq!(
        f.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::Paused
    );
    let d = last_decision(&f).await;
    assert_eq!(
        (d.action, d.actor),
        (Action::Pause, Actor::User("alice".into()))
    );
    let after = b.get("/rollouts/shop-v2").await;
    assert!(
        after
            .body
            .contains("shop-v2: pause done; the rollout is paused at 10%.")
    );
    assert!(
        after.body.contains(r#"class="act resume""#)
            && !after.body.contains(r#"class="act pause""#)
    );

    // A refused command (already paused) is a notice, and changes nothing.
    let again = b
        .post(
            "/rollouts/shop-v2/pause",
            &[("csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let shown = b.get("/rollouts/shop-v2").await;
    assert!(
        shown.body.contains("cannot pause rollout"),
        "{}",
        shown.body
    );

    // Set weight: confirmed on its own page with the numbers.
    let w = b
        .post(
            "/rollouts/shop-v2/weight",
            &[("csrf", &csrf), ("weight", "25")],
        )
        .await;
    assert!(
        w.body.contains(
            "Set the canary weight of shop-v2 from 10% to 25%: 15% more of users move to v2."
        ),
        "{}",
        w.body
    );
    assert_eq!(w.hidden("weight").as_deref(), Some("25%"));
    b.post(
        "/rollouts/shop-v2/weight",
        &[("csrf", &csrf), ("weight", "25%"), ("confirmed", "1")],
    )
    .await;
    let view = f.plane.rollout("shop-v2").await.unwrap();
    assert_eq!(view.weight.to_string(), "25%");
    let bad = b
        .post(
            "/rollouts/shop-v2/weight",
            &[("csrf", &csrf), ("weight", "250"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn viewers_see_everything_but_no_buttons_and_cannot_post() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    b.login(&f.viewer).await;
    for path in [
        "/",
        "/rollouts/shop-v2",
        "/services",
        "/services/shop",
        "/experiments",
        "/experiments/ranker",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains(r#"<form class="action"#),
            "{path} shows an action"
        );
        assert!(!page.body.contains("data-confirm"), "{path}");
    }
    let page = b.get("/rollouts/shop-v2").await;
    assert!(page.body.contains(r#"data-metric="error_rate""#));
    let csrf = page.hidden("csrf").unwrap();
    let refused = b
        .post(
            "/rollouts/shop-v2/abort",
            &[("csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("viewer role"), "{}", refused.body);
    let restore = b
        .post(
            "/services/shop/versions/v2/restore",
            &[("csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(restore.status, StatusCode::FORBIDDEN);
    assert_eq!(
        f.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::Progressing
    );
}

#[tokio::test]
async fn a_revoked_token_ends_its_sessions_at_the_next_request() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    b.login(&f.operator).await;
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    f.store.revoke_token("alice", f.now()).await.unwrap();
    assert_eq!(
        b.live("/rollouts/shop-v2/live").await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = b.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");
}

#[tokio::test]
async fn versions_history_and_restore() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    b.login(&f.operator).await;
    let page = b.get("/services/shop").await;
    assert!(
        page.body.contains(r#"data-version="v1""#) && page.body.contains(r#"data-version="v2""#)
    );
    assert!(page.body.contains("stable now"));
    assert_eq!(
        page.body.matches(r#"class="act restore""#).count(),
        1,
        "only v2 can be restored"
    );
    let csrf = page.hidden("csrf").unwrap();
    let confirm = b
        .post("/services/shop/versions/v2/restore", &[("csrf", &csrf)])
        .await;
    assert!(
        confirm.body.contains("Make v2 the stable version of shop again: every user of shop outside a rollout gets v2 instead of v1 now. The running rollout shop-v2 is aborted first"),
        "{}",
        confirm.body
    );
    let done = b
        .post(
            "/services/shop/versions/v2/restore",
            &[("csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(done.location(), "/services/shop");
    let after = b.get("/services/shop").await;
    assert!(
        after
            .body
            .contains("shop: v2 is the stable version again (was v1); shop-v2 was aborted."),
        "{}",
        after.body
    );
    assert_eq!(
        f.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::Aborted
    );
    assert!(after.body.contains("user:alice"), "the history names who");
}

#[tokio::test]
async fn experiments_show_variants_with_intervals() {
    let f = fixture().await;
    let mut b = Browser::new(&f.app);
    b.login(&f.viewer).await;
    let list = b.get("/experiments").await;
    assert!(list.body.contains("ranker") && list.body.contains("control 50%"));
    let page = b.get("/experiments/ranker").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"data-variant="treatment""#));
    // 30 s × 30 requests per version, with a confidence interval for the ratio and p99.
    assert!(page.body.contains("n=900"), "{}", page.body);
    assert!(
        page.body.matches(r#"class="ci""#).count() >= 4,
        "{}",
        page.body
    );
    assert_eq!(
        b.get("/experiments/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_rolled_back_rollout_shows_the_failure() {
    let f = fixture().await;
    let failing = Traffic {
        canary_error_share: 0.3,
        ..Traffic::default()
    };
    f.run(10, failing).await;
    assert_eq!(
        f.plane.rollout("shop-v2").await.unwrap().phase,
        Phase::RolledBack
    );
    let mut b = Browser::new(&f.app);
    b.login(&f.operator).await;
    let page = b.get("/rollouts/shop-v2").await;
    assert!(page.body.contains(r#"class="badge phase rolled_back""#));
    assert!(page.body.contains("marker retreat"), "the rollback marker");
    assert!(page.body.contains(r#"data-action="rollback""#));
    assert!(
        page.body.contains("<summary>numbers</summary>"),
        "the verdict behind it"
    );
    assert!(
        page.body.contains("Metrics per cohort, since "),
        "a young rollout: its whole life"
    );
    assert!(page.body.contains(r#"class="act retry""#));
    assert!(!page.body.contains(r#"class="act pause""#));
}
