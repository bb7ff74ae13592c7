//! Leader election against a real etcd: one leader at a time, a follower takes over at once
//! when the leader resigns and within the lease's time to live when it dies, and a leader
//! learns it lost — by the key changing hands or by etcd going away.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use rollgate_etcd::{ClusterKeys, Election, Etcd, EtcdStore, LocalEtcd};
use rollgate_store::Store;

const TTL: Duration = Duration::from_secs(2);

fn election(etcd: &LocalEtcd) -> (Etcd, Election) {
    let c = support::client(etcd);
    let e = Election::new(c.clone(), ClusterKeys::new("/rg")).with_ttl(TTL);
    (c, e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_and_a_fast_handover() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let (c, e) = election(&etcd);
    let a = e.campaign("a", Some("http://127.0.0.1:1".into())).await;
    assert!(a.is_leader());
    assert_eq!(e.leader().await.unwrap().map(|l| l.id), Some("a".into()));

    let e2 = e.clone();
    let b = tokio::spawn(async move { e2.campaign("b", None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b.is_finished(), "b waits while a leads");

    let resigned = Instant::now();
    a.resign().await.unwrap();
    let b = tokio::time::timeout(Duration::from_secs(5), b)
        .await
        .unwrap()
        .unwrap();
    eprintln!("handover after a resignation: {:?}", resigned.elapsed());
    assert!(b.is_leader());
    assert_eq!(e.leader().await.unwrap().map(|l| l.id), Some("b".into()));

    // The leader key deleted by hand: b learns it lost.
    c.delete(&ClusterKeys::new("/rg").leader()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), b.lost())
        .await
        .unwrap();
    assert!(!b.is_leader());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_leader_is_replaced_within_its_ttl_and_fenced() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let (c, e) = election(&etcd);
    let store = EtcdStore::new(c.clone(), "/rg");
    let a = e.campaign("a", None).await;
    let a_store = store.with_guard(a.guard());
    a_store.put_meta("owner", "a").await.unwrap();

    let e2 = e.clone();
    let b = tokio::spawn(async move { e2.campaign("b", None).await });
    // "a" dies: its lease is no longer renewed (the process is gone).
    let died = Instant::now();
    drop(a);
    let b = tokio::time::timeout(TTL * 4, b).await.unwrap().unwrap();
    let took = died.elapsed();
    eprintln!("handover after the leader died (ttl {TTL:?}): {took:?}");
    assert!(
        took >= TTL / 2,
        "not before the lease could expire: {took:?}"
    );

    let err = a_store.put_meta("owner", "a, late").await.unwrap_err();
    assert!(err.to_string().contains("no longer the leader"), "{err}");
    store
        .with_guard(b.guard())
        .put_meta("owner", "b")
        .await
        .unwrap();
    assert_eq!(store.get_meta("owner").await.unwrap().as_deref(), Some("b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_from_etcd_steps_down_within_its_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let mut etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let (_c, e) = election(&etcd);
    let a = e.campaign("a", None).await;
    let cut = Instant::now();
    etcd.kill();
    tokio::time::timeout(TTL * 3, a.lost()).await.unwrap();
    eprintln!("leader noticed it was cut off after {:?}", cut.elapsed());
    assert!(!a.is_leader());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_forward_to_the_leader_and_switch_roles_in_place() {
    use axum::http::HeaderMap;
    use axum::routing::post;
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let (c, e) = election(&etcd);
    let keys = ClusterKeys::new("/rg");
    let serve = |router: axum::Router| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(axum::serve(listener, router).into_future());
        url
    };
    // The leader's API echoes what it received.
    let leader_api = serve(axum::Router::new().route(
        "/api/v1/x",
        post(
            |h: HeaderMap, uri: axum::http::Uri, body: String| async move {
                let auth = h
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                let header = |n: &str| h.get(n).map(|v| v.to_str().unwrap().to_owned());
                let (via, host) = (
                    header(rollgate_etcd::FORWARDED_BY),
                    header("x-forwarded-host"),
                );
                (
                    axum::http::StatusCode::CREATED,
                    format!("{auth:?} {via:?} {host:?} {uri} {body}"),
                )
            },
        ),
    ))
    .await;
    let switch = rollgate_etcd::RouterSwitch::new(
        rollgate_etcd::follower_router(c.clone(), keys, "b").unwrap(),
    );
    let follower = serve(switch.router()).await;
    let http = reqwest::Client::new();
    let send = || {
        http.post(format!("{follower}/api/v1/x?y=1"))
            .bearer_auth("rg_secret")
            .body("payload")
            .send()
    };

    let none = send().await.unwrap();
    assert_eq!(none.status(), 503, "no leader yet");
    assert_eq!(none.headers()["retry-after"], "1");

    let a = e.campaign("a", Some(format!("{leader_api}/"))).await;
    let forwarded = send().await.unwrap();
    assert_eq!(forwarded.status(), 201);
    assert_eq!(
        forwarded.text().await.unwrap(),
        format!(
            r#"Some("Bearer rg_secret") Some("b") Some("{}") /api/v1/x?y=1 payload"#,
            follower.trim_start_matches("http://")
        )
    );

    // "b" becomes leader: the same listener now serves its own API.
    a.resign().await.unwrap();
    let _b = e.campaign("b", Some(follower.clone())).await;
    switch.set(axum::Router::new().route("/api/v1/x", post(|| async { "leader b" })));
    assert_eq!(send().await.unwrap().text().await.unwrap(), "leader b");
}
