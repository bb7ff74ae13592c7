//! End to end, distributed: a real etcd (Debian's `etcd-server`) on 127.0.0.1 with a temporary
//! data directory, two `rollgate control --etcd` replicas and three `rollgate edge --etcd`
//! edges (the real binary), two real upstreams, real HTTP load. One scenario, in order:
//!
//! 1. a weight set through the API (sent to the follower, which redirects to the leader)
//!    reaches all three edges within 1 s, and every edge reports the new revision;
//! 2. the leader's merged windows equal the sum of what each edge served, per cohort;
//! 3. the rollout resumes; the leader is killed (`SIGKILL`); the other replica takes over
//!    within a few seconds and the rollout continues to its pause step, with a decision log
//!    that has every seq once;
//! 4. etcd is stopped: every edge keeps serving the last snapshot, and an edge restarted while
//!    etcd is down serves from its disk copy, routing every unit exactly as before;
//! 5. etcd comes back, the canary starts failing, and it is rolled back on all three edges.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "distributed/cluster.rs"]
mod cluster;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cluster::{Control, Edge};
use rollgate_core::{Ppm, RoutingSpec};
use rollgate_etcd::{ClusterKeys, Etcd, EtcdConfig, EtcdStore, LocalEtcd, leader_info};
use rollgate_store::{Role, Store};
use serde_json::{Value, json};
use support::upstream::Upstream;
use support::{config, load};

const ROLLOUT: &str = "shop-v2";

/// The rollout's strategy and analysis: four ramp steps, then a pause; one error condition.
const ROLLOUT_TABLES: &str = r#"
[rollouts.strategy]
steps = [
  { weight = "10%", min_duration = "2s" },
  { weight = "40%", min_duration = "2s" },
  { weight = "60%", min_duration = "2s" },
  { weight = "80%", min_duration = "1s" },
  { pause = {} },
  { weight = "100%" },
]

[rollouts.analysis]
min_samples = 20

[[rollouts.analysis.conditions]]
name = "errors-fast"
fail_when = "error_rate > 5%"
immediate = true
"#;

/// The REST API with an admin token; any replica (followers redirect to the leader).
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// A call, repeated while the replicas answer 503 (no leader yet, or one still starting:
    /// they say `Retry-After: 1`), for at most 20 s.
    async fn retrying(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let start = Instant::now();
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            if resp.status() != 503 || start.elapsed() > Duration::from_secs(20) {
                let status = resp.status();
                let text = resp.text().await.unwrap();
                assert!(status.is_success(), "{path}: {status} {text}");
                return serde_json::from_str(&text).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.retrying(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.retrying(reqwest::Method::POST, path, Some(body)).await
    }
}

/// The weight of the rollout in the snapshot an edge routes by (`None`: not routed).
async fn edge_weight(http: &reqwest::Client, edge: &Edge) -> Option<Ppm> {
    let doc: Value = http
        .get(edge.admin_url("/debug/routing"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let spec: RoutingSpec = serde_json::from_value(doc["spec"].clone()).ok()?;
    spec.rollouts
        .iter()
        .find(|r| r.name == ROLLOUT)
        .map(|r| r.weight)
}

/// Polls every 10 ms (at most `limit`) until every edge routes at `want`; returns how long.
async fn until_edges(
    http: &reqwest::Client,
    edges: &[&Edge],
    want: Option<Ppm>,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let mut all = true;
        for e in edges {
            all &= edge_weight(http, e).await == want;
        }
        if all {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "edges not at {want:?} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (at most `limit`) until `ok` holds for the rollout as the API shows it.
async fn until_rollout(
    api: &Api,
    limit: Duration,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let r = api.get(&format!("/api/v1/rollouts/{ROLLOUT}")).await;
        if ok(&r) {
            return r;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn leader(etcd: &Etcd) -> Option<String> {
    leader_info(etcd, &ClusterKeys::default())
        .await
        .ok()
        .flatten()
        .map(|l| l.id)
}

/// `rollgate_requests_total` of one edge, per cohort of the rollout.
async fn edge_requests(http: &reqwest::Client, edge: &Edge) -> BTreeMap<String, u64> {
    let text = http
        .get(edge.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("rollgate_requests_total{"))
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        if !series.contains(&format!("rollout=\"{ROLLOUT}\"")) {
            continue;
        }
        let cohort = series
            .split("cohort=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        *out.entry(cohort.to_owned()).or_default() += value.parse::<f64>().unwrap() as u64;
    }
    out
}

/// Load through every edge until `stop` is set: `rps` requests per second each.
fn background_load(
    edges: &[&Edge],
    rps: u32,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<load::Sample>>> {
    edges
        .iter()
        .map(|e| {
            let (url, stop, prefix) = (
                e.url("/"),
                Arc::clone(stop),
                format!("{}-{}", e.id, rand_tag()),
            );
            tokio::spawn(async move {
                load::run(&url, rps, &prefix, Duration::from_secs(90), |_| {
                    stop.load(Ordering::Relaxed)
                })
                .await
            })
        })
        .collect()
}

fn rand_tag() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// The version each of `users` is routed to through `edge` (one request each).
async fn versions_of(http: &reqwest::Client, edge: &Edge, users: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let r = http
            .get(edge.url("/"))
            .header("x-user-id", u)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", edge.proc.logs());
        out.push(r.headers()["x-version"].to_str().unwrap().to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_edges_one_brain() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut etcd = LocalEtcd::start(&dir.path().join("etcd")).unwrap();
    let url = etcd.url();
    let client = Etcd::new(EtcdConfig::new([url.clone()])).unwrap();
    let (stable, canary) = (Upstream::start("v1").await, Upstream::start("v2").await);
    let config_path = dir.path().join("rollgate.toml");
    std::fs::write(
        &config_path,
        config::served(&stable.endpoint(), &canary.endpoint(), ROLLOUT_TABLES),
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    // Two replicas: the first one leads. The token lives in the shared store.
    let mut c1 = Control::start(dir.path(), &config_path, &url, "control-1");
    let deadline = Instant::now() + Duration::from_secs(15);
    while leader(&client).await.as_deref() != Some(c1.id.as_str()) {
        assert!(Instant::now() < deadline, "no leader:\n{}", c1.proc.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c2 = Control::start(dir.path(), &config_path, &url, "control-2");
    let (_, secret) = EtcdStore::new(client.clone(), "/rollgate")
        .create_token("e2e", Role::Admin, 0)
        .await
        .unwrap();
    let api = Api {
        http: http.clone(),
        base: c2.url(""),
        token: secret.expose().to_owned(),
    };
    let mut edges: Vec<Edge> = ["pop-a", "pop-b", "pop-c"]
        .iter()
        .map(|id| Edge::start(dir.path(), &url, id))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let fleet = api.get("/api/v1/edges").await;
        let live = fleet["edges"].as_array().unwrap();
        if live.len() == 3
            && live
                .iter()
                .all(|e| e["revision"].as_u64() > Some(0) && e["connected"] == true)
        {
            break;
        }
        assert!(Instant::now() < deadline, "edges not registered: {fleet}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("cluster up in {:?}", started.elapsed());

    // 1. A weight change reaches every edge within 1 s.
    let refs: Vec<&Edge> = edges.iter().collect();
    api.post(
        &format!("/api/v1/rollouts/{ROLLOUT}/weight"),
        json!({ "weight": "30%" }),
    )
    .await;
    let took = until_edges(&http, &refs, Some(Ppm::percent(30)), Duration::from_secs(5)).await;
    println!("weight 30% on all 3 edges {took:?} after the API answered");
    assert!(took <= Duration::from_secs(1), "took {took:?}");
    let fleet = api.get("/api/v1/edges").await;
    let revision = fleet["snapshot_revision"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let fleet = api.get("/api/v1/edges").await;
        let edges_now = fleet["edges"].as_array().unwrap().clone();
        if edges_now
            .iter()
            .all(|e| e["revision"].as_u64() >= Some(revision) && e["stale"] == false)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "edges report an old revision: {fleet}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 2. The merged windows equal the sum of what each edge served.
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = background_load(&refs, 40, &stop);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = answers(tasks).await;
    all_served(&sent, "steady load");
    let sent = sent.len();
    let deadline = Instant::now() + Duration::from_secs(15);
    let (served, merged) = loop {
        let mut served: BTreeMap<String, u64> = BTreeMap::new();
        for e in &edges {
            for (cohort, n) in edge_requests(&http, e).await {
                *served.entry(cohort).or_default() += n;
            }
        }
        let to = rollgate_control::system_now() + 1_000;
        let doc = api
            .get(&format!(
                "/api/v1/rollouts/{ROLLOUT}/metrics?from=0&to={to}"
            ))
            .await;
        let merged: BTreeMap<String, u64> = doc["cohorts"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(c, m)| {
                (
                    c.clone(),
                    m["metrics"]["requests"]["samples"].as_u64().unwrap_or(0),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        if served.values().sum::<u64>() == sent as u64 && merged == served {
            break (served, merged);
        }
        assert!(
            Instant::now() < deadline,
            "sent {sent}, edges served {served:?}, leader merged {merged:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!("{sent} requests: edges served {served:?}, the leader merged {merged:?}");

    // 3. Resume; kill the leader while the rollout ramps; it continues under control-2.
    api.post(&format!("/api/v1/rollouts/{ROLLOUT}/resume"), json!({}))
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = background_load(&refs, 40, &stop);
    until_edges(
        &http,
        &refs,
        Some(Ppm::percent(40)),
        Duration::from_secs(10),
    )
    .await;
    let (killed, killed_ms) = (Instant::now(), rollgate_control::system_now());
    c1.proc.kill9();
    let deadline = Instant::now() + Duration::from_secs(15);
    while leader(&client).await.as_deref() != Some(c2.id.as_str()) {
        assert!(
            Instant::now() < deadline,
            "no handover:\n{}",
            c2.proc.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "control-2 leads {:?} after control-1 was killed",
        killed.elapsed()
    );
    let paused = until_rollout(
        &api,
        Duration::from_secs(30),
        "the rollout continues to its pause step",
        |r| r["phase"] == "paused" && r["weight"] == "80%",
    )
    .await;
    until_edges(&http, &refs, Some(Ppm::percent(80)), Duration::from_secs(5)).await;
    println!(
        "rollout at {} ({}) {:?} after the kill",
        paused["weight"],
        paused["phase"],
        killed.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    let during = answers(tasks).await;
    all_served(&during, "load through the leader's death");
    println!(
        "{} requests through the handover, every one served",
        during.len()
    );
    let log = api
        .get(&format!("/api/v1/decisions?rollout={ROLLOUT}&limit=1000"))
        .await;
    let decisions = log["decisions"].as_array().unwrap();
    let seqs: Vec<u64> = decisions
        .iter()
        .map(|d| d["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (0..seqs.len() as u64).collect::<Vec<_>>(),
        "every decision once: {log}"
    );
    let after_kill: Vec<&Value> = decisions
        .iter()
        .filter(|d| d["at"].as_i64() > Some(killed_ms))
        .collect();
    assert!(
        after_kill
            .iter()
            .any(|d| d["action"] == "ramp" && d["weight_after"] == "80%"),
        "the new leader ramped on to 80%: {log}"
    );
    println!(
        "{} decisions, seqs 0..{}; {} made by control-2 after the kill",
        seqs.len(),
        seqs.len(),
        after_kill.len()
    );

    // 4. etcd down: edges keep serving the last snapshot; a restarted edge serves from disk.
    let users: Vec<String> = (0..60).map(|i| format!("fixed-{i}")).collect();
    let before = versions_of(&http, &edges[2], &users).await;
    assert!(
        before.iter().any(|v| v == "v1") && before.iter().any(|v| v == "v2"),
        "{before:?}"
    );
    etcd.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for e in &edges {
        assert_eq!(
            versions_of(&http, e, &users).await,
            before,
            "{} with etcd down",
            e.id
        );
    }
    assert!(
        edges[2]
            .proc
            .stop(Duration::from_secs(15))
            .is_some_and(|s| s.success()),
        "pop-c drains and exits 0"
    );
    edges[2] = Edge::start(dir.path(), &url, "pop-c");
    assert_eq!(
        edge_weight(&http, &edges[2]).await,
        Some(Ppm::percent(80)),
        "from its disk copy"
    );
    assert_eq!(
        versions_of(&http, &edges[2], &users).await,
        before,
        "the restarted edge routes as before"
    );
    println!("etcd down: 3 edges kept serving; pop-c restarted from its disk copy");

    // 5. etcd back; the canary fails; it is rolled back on every edge.
    etcd.restart().unwrap();
    let refs: Vec<&Edge> = edges.iter().collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = match leader(&client).await {
            Some(_) => {
                let fleet = api.get("/api/v1/edges").await;
                let live = fleet["edges"].as_array().unwrap().clone();
                live.len() == 3
                    && live
                        .iter()
                        .all(|e| e["connected"] == true && e["stale"] == false)
            }
            None => false,
        };
        if ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cluster not back after etcd restarted:\n{}",
            c2.proc.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    canary.set_error_rate(1_000_000);
    let failing = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = background_load(&refs, 40, &stop);
    until_rollout(
        &api,
        Duration::from_secs(30),
        "the failing canary is rolled back",
        |r| r["phase"] == "rolled_back",
    )
    .await;
    until_edges(&http, &refs, None, Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    answers(tasks).await;
    println!(
        "canary rolled back on all 3 edges {:?} after it started failing",
        failing.elapsed()
    );
    for e in &edges {
        assert!(
            versions_of(&http, e, &users)
                .await
                .iter()
                .all(|v| v == "v1"),
            "{}",
            e.id
        );
    }
    println!("scenario done in {:?}", started.elapsed());
}

/// Waits for the load tasks; returns every answer.
async fn answers(tasks: Vec<tokio::task::JoinHandle<Vec<load::Sample>>>) -> Vec<load::Sample> {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Panics unless every answer was a 200 from one of the versions.
fn all_served(samples: &[load::Sample], what: &str) {
    let failed: Vec<&load::Sample> = samples
        .iter()
        .filter(|s| s.status != 200 || !(s.version == "v1" || s.version == "v2"))
        .collect();
    assert!(
        failed.is_empty(),
        "{what}: {} of {} requests failed: {:?}",
        failed.len(),
        samples.len(),
        failed.first()
    );
}
