//! Telemetry from many edges against a real etcd and a real control plane: three edges record
//! requests and push their windows to the leader found in etcd; the merged windows equal the
//! sum of what each edge recorded, and a repeated batch is acknowledged but counted once.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rollgate_control::{Builtin, ControlOptions, ControlPlane, Disabled};
use rollgate_core::{Cohort, EdgeContext};
use rollgate_etcd::{
    BatchReceipt, ClusterKeys, DistributedApi, EdgeStatus, Election, LocalEtcd, Registration,
    TelemetryPusher, WindowBatch,
};
use rollgate_metrics::{Recorder, RecorderConfig, RequestRecord, SeriesFilter, SeriesKey, Window};
use rollgate_store::MemStore;
use tokio::sync::watch;

fn total(plane: &ControlPlane) -> u64 {
    plane
        .options()
        .windows
        .aggregate(&SeriesFilter::all(), 0, i64::MAX)
        .stats
        .requests
        .requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_windows_equal_the_sum_of_every_edge() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let c = support::client(&etcd);
    let keys = ClusterKeys::new("/rg");

    let config = rollgate_config::parse(&support::shop(None), "test").unwrap();
    let opts = ControlOptions::new(&config, EdgeContext::default());
    let provider = Arc::new(Builtin::new(opts.windows.clone(), opts.catalog.clone()));
    let plane = ControlPlane::start(
        opts,
        Arc::new(MemStore::new()),
        Arc::new(Disabled),
        provider,
    )
    .await
    .unwrap();
    let api = DistributedApi::new(
        plane.clone(),
        c.clone(),
        keys.clone(),
        None,
        Duration::from_secs(1),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, api.router()).into_future());
    let (stop, stop_rx) = watch::channel(false);
    let stopped = support::stopped;
    tokio::spawn(api.clone().run(stopped(stop_rx.clone())));
    let _leader = Election::new(c.clone(), keys.clone())
        .campaign("control-1", Some(url.clone()))
        .await;

    // Three edges, each registered (so the leader waits for all three) and pushing.
    let mut pushers = Vec::new();
    let mut recorders = Vec::new();
    let mut edge_stops = Vec::new();
    for id in ["pop-a", "pop-b", "pop-c"] {
        let recorder = Arc::new(Recorder::new(RecorderConfig::default(), []));
        let (edge_stop, rx) = watch::channel(false);
        let status = watch::channel(EdgeStatus::starting(id, 0)).1;
        tokio::spawn(Registration::new(c.clone(), keys.clone()).run(status, stopped(rx.clone())));
        let pusher = TelemetryPusher::new(c.clone(), keys.clone(), id).unwrap();
        pushers.push(tokio::spawn(pusher.run(
            Arc::clone(&recorder),
            None,
            stopped(rx),
        )));
        recorders.push(recorder);
        edge_stops.push(edge_stop);
    }

    // About 2.5 s of traffic: edge i serves (i + 1) × 7 requests every 50 ms, on both versions.
    let mut sent = 0u64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2_500) {
        for (i, recorder) in recorders.iter().enumerate() {
            for (version, cohort) in [("v1", Cohort::Stable), ("v2", Cohort::Canary)] {
                let key = SeriesKey::new("shop", "shop-v2", version, cohort);
                let series = recorder.registry().series(&key).unwrap();
                for _ in 0..(i + 1) * 7 {
                    let record = RequestRecord {
                        series,
                        status: 200,
                        latency_us: 900,
                        bytes_out: 10,
                        error: None,
                    };
                    recorder.record_request(rollgate_control::system_now(), &record);
                    sent += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for s in &edge_stops {
        s.send(true).unwrap();
    }
    for p in pushers {
        p.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while total(&plane) != sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        total(&plane),
        sent,
        "the leader's windows hold every request once"
    );
    eprintln!("{sent} requests from 3 edges merged exactly");

    // A retried batch (same edge, incarnation and seq) is acknowledged, not counted again.
    let mut window = Window::new(
        Window::start_of(rollgate_control::system_now(), 1_000),
        1_000,
    );
    window
        .series
        .entry(SeriesKey::new("shop", "shop-v2", "v2", Cohort::Canary))
        .or_default()
        .requests
        .requests = 5;
    let batch = WindowBatch {
        edge_id: "pop-a".into(),
        incarnation: "manual".into(),
        seq: 0,
        closed_until: window.end(),
        windows: vec![window],
    };
    let http = reqwest::Client::new();
    let post = |b: WindowBatch| {
        let http = http.clone();
        let url = format!("{url}/v1/windows");
        async move {
            http.post(url)
                .json(&b)
                .send()
                .await
                .unwrap()
                .json::<BatchReceipt>()
                .await
                .unwrap()
        }
    };
    assert!(!post(batch.clone()).await.duplicate);
    assert!(post(batch).await.duplicate);
    let deadline = Instant::now() + Duration::from_secs(10);
    while total(&plane) != sent + 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(total(&plane), sent + 5, "the retry was not counted");
    stop.send(true).unwrap();
}
