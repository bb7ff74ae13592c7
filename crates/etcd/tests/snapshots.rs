//! Snapshot distribution against a real etcd: the publisher writes only newer snapshots,
//! edges follow every change, refuse a bad one, keep serving through an etcd outage, start
//! from their disk copy when etcd is down, and report the revision they serve.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rollgate_control::{Snapshot, SnapshotPublisher};
use rollgate_core::{EdgeContext, Ppm, RoutingSpec, RoutingTable};
use rollgate_edge::{Edge, ProxySettings, TableHandle, Telemetry};
use rollgate_etcd::{
    ClusterKeys, Etcd, EtcdPublisher, LocalEtcd, Registration, SnapshotFile, SnapshotSource,
    SnapshotWatcher, WriteGuard, fleet,
};
use rollgate_metrics::{Recorder, RecorderConfig};
use tokio::sync::watch;

fn spec(weight: &str) -> RoutingSpec {
    rollgate_config::parse(&support::shop(Some(weight)), "test")
        .unwrap()
        .routing
}

/// An edge (not listening) and its table handle.
fn edge(table: Option<Arc<RoutingTable>>) -> (Edge, TableHandle) {
    let empty =
        || Arc::new(RoutingTable::build(&RoutingSpec::default(), &EdgeContext::default()).unwrap());
    let telemetry = Telemetry {
        recorder: Arc::new(Recorder::new(RecorderConfig::default(), [])),
        exposition: None,
    };
    let e = Edge::new(
        ProxySettings::new("127.0.0.1:0".parse().unwrap()),
        table.unwrap_or_else(empty),
        telemetry,
    );
    let h = e.table_handle();
    (e, h)
}

fn weight(handle: &TableHandle) -> Option<Ppm> {
    handle.current().spec().rollouts.first().map(|r| r.weight)
}

async fn eventually(what: &str, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if ok() {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{what}: not within 10 s");
}

struct Follower {
    handle: TableHandle,
    status: watch::Receiver<rollgate_etcd::EdgeStatus>,
    stop: watch::Sender<bool>,
    _edge: Edge,
}

async fn follower(etcd: &Etcd, keys: &ClusterKeys, id: &str, dir: &std::path::Path) -> Follower {
    let watcher = SnapshotWatcher::new(
        etcd.clone(),
        keys.clone(),
        id,
        EdgeContext::default(),
        SnapshotFile::in_dir(&dir.join(id)),
    );
    let table = watcher.bootstrap(Duration::from_secs(1)).await;
    let (e, handle) = edge(table);
    let status = watcher.status();
    let (stop, rx) = watch::channel(false);
    let stopped = support::stopped;
    tokio::spawn(watcher.run(handle.clone(), stopped(rx.clone())));
    let registration =
        Registration::new(etcd.clone(), keys.clone()).with_ttl(Duration::from_secs(2));
    tokio::spawn(registration.run(status.clone(), stopped(rx)));
    Follower {
        handle,
        status,
        stop,
        _edge: e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_follow_every_published_snapshot_and_report_it() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client(&etcd);
    let keys = ClusterKeys::new("/rg");
    let publisher = EtcdPublisher::new(c.clone(), keys.clone());
    publisher
        .publish(&Snapshot::new(1, spec("10%")))
        .await
        .unwrap();

    let edges = [
        follower(&c, &keys, "pop-a", dir.path()).await,
        follower(&c, &keys, "pop-b", dir.path()).await,
        follower(&c, &keys, "pop-c", dir.path()).await,
    ];
    for e in &edges {
        assert_eq!(
            weight(&e.handle),
            Some(Ppm::percent(10)),
            "bootstrapped from etcd"
        );
    }
    eventually("three edges registered", || {
        futures_now(fleet(&c, &keys))
            .is_some_and(|f| f.edges.len() == 3 && f.edges.iter().all(|e| !e.stale))
    })
    .await;

    for (revision, w) in [(2, 25), (3, 50)] {
        let published = Instant::now();
        publisher
            .publish(&Snapshot::new(revision, spec(&format!("{w}%"))))
            .await
            .unwrap();
        for e in &edges {
            eventually("the new weight", || {
                weight(&e.handle) == Some(Ppm::percent(w))
            })
            .await;
        }
        eprintln!(
            "revision {revision}: all 3 edges swapped {:?} after the publish",
            published.elapsed()
        );
        eventually("the status follows the swap", || {
            let s = edges[0].status.borrow();
            (s.revision, s.source) == (revision, SnapshotSource::Etcd)
        })
        .await;
    }
    eventually("every edge reports revision 3", || {
        futures_now(fleet(&c, &keys)).is_some_and(|f| {
            f.snapshot_revision == 3 && f.edges.iter().all(|e| e.status.revision == 3 && !e.stale)
        })
    })
    .await;

    // A stopped edge removes its registration.
    edges[2].stop.send(true).unwrap();
    eventually("pop-c deregistered", || {
        futures_now(fleet(&c, &keys))
            .is_some_and(|f| f.edges.iter().all(|e| e.status.edge_id != "pop-c"))
    })
    .await;
}

/// Runs a future to completion from synchronous polling code (the test's `eventually`).
fn futures_now<T>(f: impl Future<Output = Result<T, rollgate_etcd::EtcdError>>) -> Option<T> {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f)).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_never_goes_back_and_stops_when_deposed() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client(&etcd);
    let keys = ClusterKeys::new("/rg");
    let publisher = EtcdPublisher::new(c.clone(), keys.clone());
    let s5 = Snapshot::new(5, spec("5%"));
    publisher.publish(&s5).await.unwrap();
    publisher.publish(&s5).await.unwrap();
    let older = publisher
        .publish(&Snapshot::new(4, spec("4%")))
        .await
        .unwrap_err();
    assert!(older.reason.contains("already holds snapshot 5"), "{older}");
    let clash = publisher
        .publish(&Snapshot::new(5, spec("6%")))
        .await
        .unwrap_err();
    assert!(clash.reason.contains("another control plane"), "{clash}");
    assert_eq!(publisher.current().await.unwrap(), Some(s5.clone()));

    let leader = b"/rg/leader".to_vec();
    let rev = c.put(&leader, b"me", 0).await.unwrap().header.revision;
    let guarded = publisher.clone().with_guard(WriteGuard {
        key: leader.clone(),
        create_revision: rev,
    });
    guarded
        .publish(&Snapshot::new(6, spec("6%")))
        .await
        .unwrap();
    c.delete(&leader).await.unwrap();
    let deposed = guarded
        .publish(&Snapshot::new(7, spec("7%")))
        .await
        .unwrap_err();
    assert!(deposed.reason.contains("no longer the leader"), "{deposed}");
    assert_eq!(
        publisher.current().await.unwrap().map(|s| s.revision),
        Some(6)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_snapshot_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client(&etcd);
    let keys = ClusterKeys::new("/rg");
    EtcdPublisher::new(c.clone(), keys.clone())
        .publish(&Snapshot::new(1, spec("10%")))
        .await
        .unwrap();
    let e = follower(&c, &keys, "pop-a", dir.path()).await;

    // Tampered: the checksum does not match the spec.
    let mut tampered = Snapshot::new(2, spec("90%"));
    tampered.checksum = Snapshot::new(2, spec("10%")).checksum;
    c.put(&keys.snapshot(), &serde_json::to_vec(&tampered).unwrap(), 0)
        .await
        .unwrap();
    eventually("the tampered snapshot is refused", || {
        e.status
            .borrow()
            .rejected
            .as_ref()
            .is_some_and(|r| r.revision == 2 && r.reason.contains("checksum"))
    })
    .await;
    // Invalid: the canary names a version the service does not have.
    let mut broken = spec("20%");
    broken.rollouts[0].canary = "v9".into();
    c.put(
        &keys.snapshot(),
        &serde_json::to_vec(&Snapshot::new(3, broken)).unwrap(),
        0,
    )
    .await
    .unwrap();
    eventually("the invalid snapshot is refused", || {
        e.status
            .borrow()
            .rejected
            .as_ref()
            .is_some_and(|r| r.revision == 3)
    })
    .await;
    assert_eq!(
        weight(&e.handle),
        Some(Ppm::percent(10)),
        "the good one keeps serving"
    );
    assert_eq!(e.status.borrow().revision, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_keep_serving_without_etcd_and_start_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client(&etcd);
    let keys = ClusterKeys::new("/rg");
    let publisher = EtcdPublisher::new(c.clone(), keys.clone());
    publisher
        .publish(&Snapshot::new(1, spec("30%")))
        .await
        .unwrap();
    let running = follower(&c, &keys, "pop-a", dir.path()).await;
    eventually("connected", || running.status.borrow().connected).await;

    etcd.kill();
    eventually("the watch notices", || !running.status.borrow().connected).await;
    assert_eq!(
        weight(&running.handle),
        Some(Ppm::percent(30)),
        "still serving"
    );

    // A new edge process with the same state directory starts from its disk copy.
    let restarted = follower(&c, &keys, "pop-a", dir.path()).await;
    assert_eq!(weight(&restarted.handle), Some(Ppm::percent(30)));
    assert_eq!(restarted.status.borrow().source, SnapshotSource::Disk);
    // One that never saw a snapshot has nothing to serve.
    let fresh = follower(&c, &keys, "pop-new", dir.path()).await;
    assert_eq!(weight(&fresh.handle), None);

    etcd.restart().unwrap();
    publisher
        .publish(&Snapshot::new(2, spec("40%")))
        .await
        .unwrap();
    for e in [&running, &restarted, &fresh] {
        eventually("caught up after etcd came back", || {
            weight(&e.handle) == Some(Ppm::percent(40))
        })
        .await;
        eventually("reconnected and reporting revision 2 from etcd", || {
            let s = e.status.borrow();
            s.connected && s.revision == 2 && s.source == SnapshotSource::Etcd
        })
        .await;
    }
}
