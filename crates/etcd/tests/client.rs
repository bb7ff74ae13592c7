//! The client against a real etcd: reads, writes and transactions, paging, watches (with
//! compaction), leases, endpoint failover, and a member that goes away and comes back.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use rollgate_etcd::wire::{
    CompareResult, EventType, RangeRequest, RequestOp, TxnCompare, TxnRequest, WatchCreateRequest,
};
use rollgate_etcd::{EtcdError, LocalEtcd, local::free_port};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_pages_and_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client_for(&[etcd.url()]);

    assert_eq!(c.get(b"/a/missing").await.unwrap(), None);
    let put = c.put(b"/a/k", b"v1", 0).await.unwrap();
    let kv = c.get(b"/a/k").await.unwrap().unwrap();
    assert_eq!((kv.value.as_slice(), kv.version), (&b"v1"[..], 1));
    assert_eq!(kv.mod_revision, put.header.revision);

    // More keys than one page (256): all come back, in order, once.
    for i in 0..300 {
        c.put(format!("/p/{i:04}").as_bytes(), b"x", 0)
            .await
            .unwrap();
    }
    let all = c.get_prefix(b"/p/").await.unwrap();
    let keys: Vec<String> = all.iter().map(|kv| kv.key_lossy()).collect();
    assert_eq!(
        keys,
        (0..300).map(|i| format!("/p/{i:04}")).collect::<Vec<_>>()
    );

    // A compare that holds runs `success`; one that does not runs `failure`.
    let guarded = |rev: i64| TxnRequest {
        compare: vec![TxnCompare::mod_revision(
            b"/a/k".to_vec(),
            CompareResult::Equal,
            rev,
        )],
        success: vec![RequestOp::put(b"/a/k".to_vec(), b"v2".to_vec())],
        failure: vec![RequestOp::range(RangeRequest::key(b"/a/k".to_vec()))],
    };
    assert!(c.txn(&guarded(kv.mod_revision)).await.unwrap().succeeded);
    let stale = c.txn(&guarded(kv.mod_revision)).await.unwrap();
    assert!(!stale.succeeded);
    let seen = stale.responses[0].clone().into_range().unwrap();
    assert_eq!(seen.kvs[0].value, b"v2");

    let both = c
        .read_many(vec![
            RangeRequest::key(b"/a/k".to_vec()),
            RangeRequest::prefix(b"/p/".to_vec()).limit(1).descending(),
        ])
        .await
        .unwrap();
    assert_eq!(both[0].kvs[0].version, 2);
    assert_eq!(both[1].kvs[0].key, b"/p/0299");
    assert!(both[1].more);
    assert_eq!(c.delete(b"/a/k").await.unwrap().deleted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_deliver_changes_in_order_and_report_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client_for(&[etcd.url()]);
    let first = c.put(b"/w/a", b"1", 0).await.unwrap().header.revision;
    c.put(b"/w/b", b"2", 0).await.unwrap();
    c.put(b"/other", b"x", 0).await.unwrap();

    let mut watch = c
        .watch(WatchCreateRequest {
            key: b"/w/".to_vec(),
            range_end: rollgate_etcd::keys::prefix_end(b"/w/"),
            start_revision: first,
            progress_notify: false,
        })
        .await
        .unwrap();
    c.delete(b"/w/a").await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.extend(msg.events.into_iter().map(|e| (e.kind, e.kv.key_lossy())));
    }
    assert_eq!(
        seen,
        [
            (EventType::Put, "/w/a".to_owned()),
            (EventType::Put, "/w/b".to_owned()),
            (EventType::Delete, "/w/a".to_owned()),
        ]
    );

    // Compact past `first`: a watch from there is refused with the oldest revision kept.
    let now = c.put(b"/w/c", b"3", 0).await.unwrap().header.revision;
    let _: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v3/kv/compaction", etcd.url()))
        .json(&serde_json::json!({ "revision": now.to_string(), "physical": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let from_first = WatchCreateRequest {
        key: b"/w/".to_vec(),
        range_end: rollgate_etcd::keys::prefix_end(b"/w/"),
        start_revision: first,
        progress_notify: false,
    };
    // etcd confirms the watch, then cancels it in the next message.
    let mut stale = c.watch(from_first).await.unwrap();
    match stale.next().await {
        Err(EtcdError::WatchEnded {
            compact_revision, ..
        }) => assert_eq!(compact_revision, now),
        other => panic!("expected a compaction error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_keep_keys_alive_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client_for(&[etcd.url()]);
    let lease = c.lease_grant(Duration::from_secs(30)).await.unwrap();
    assert!(lease.id != 0 && lease.ttl >= 30, "{lease:?}");
    c.put(b"/l/k", b"alive", lease.id).await.unwrap();
    assert_eq!(c.get(b"/l/k").await.unwrap().unwrap().lease, lease.id);
    assert!(c.lease_keep_alive(lease.id).await.unwrap() > 0);
    c.lease_revoke(lease.id).await.unwrap();
    assert_eq!(
        c.get(b"/l/k").await.unwrap(),
        None,
        "revoking deletes the lease's keys"
    );
    assert_eq!(
        c.lease_keep_alive(lease.id).await.unwrap(),
        0,
        "a revoked lease renews to 0"
    );
    c.lease_revoke(lease.id).await.unwrap();
    let err = c.put(b"/l/k", b"late", lease.id).await.unwrap_err();
    assert!(err.is_lease_not_found(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_over_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let dead = format!("http://{}", free_port().unwrap());
    let c = support::client_for(&[dead.clone(), etcd.url()]);
    c.put(b"/f/k", b"v", 0).await.unwrap();
    assert_eq!(
        c.preferred_endpoint(),
        etcd.url(),
        "the live endpoint is preferred"
    );

    etcd.kill();
    let err = c.get(b"/f/k").await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");

    etcd.restart().unwrap();
    let kv = c.get(b"/f/k").await.unwrap().unwrap();
    assert_eq!(kv.value, b"v", "the data survived the restart");
}
