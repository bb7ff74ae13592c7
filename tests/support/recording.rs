//! An upstream that records what it served, for the exact-count end-to-end tests
//! (`metrics_e2e.rs`, `prometheus_e2e.rs`): `GET /work/<status>/<sleep ms>` sleeps, answers
//! `<status>`, and records the cohort the edge assigned (the `x-rollgate-cohort` header it
//! forwards), the status and how long the upstream itself took. `/healthz` answers 200 and is
//! not recorded.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// One request the upstream served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// The unit (`X-User-Id`) the request came from.
    pub user: String,
    /// The cohort the edge put the request in.
    pub cohort: String,
    /// The status answered.
    pub status: u16,
    /// From the request head to the response, as the upstream measured it (µs).
    pub micros: u64,
}

/// A running recording upstream; dropping it stops it.
pub struct Recording {
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Served>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recording {
    /// Starts on 127.0.0.1, port chosen by the OS.
    pub async fn start() -> Recording {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the upstream");
        let addr = listener.local_addr().expect("the upstream's address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(serve(listener, Arc::clone(&log)));
        Recording { addr, log, task }
    }

    /// `host:port`, as the config lists endpoints.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Everything served so far.
    pub fn served(&self) -> Vec<Served> {
        self.log.lock().expect("the log").clone()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The path that makes the upstream answer `status` after `sleep_ms`.
pub fn path(status: u16, sleep_ms: u64) -> String {
    format!("/work/{status}/{sleep_ms}")
}

async fn serve(listener: TcpListener, log: Arc<Mutex<Vec<Served>>>) {
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let log = Arc::clone(&log);
        conns.spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&log), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

async fn answer(
    log: Arc<Mutex<Vec<Served>>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let mut parts = req.uri().path().trim_start_matches('/').split('/');
    let (status, sleep_ms) = match (parts.next(), parts.next(), parts.next()) {
        (Some("work"), Some(s), Some(ms)) => (s.parse().unwrap_or(200), ms.parse().unwrap_or(0)),
        _ => return Ok(Response::new(Full::new(Bytes::from_static(b"ok\n")))),
    };
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (user, cohort) = (header("x-user-id"), header("x-rollgate-cohort"));
    tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    let mut response = Response::new(Full::new(Bytes::from_static(b"done\n")));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    log.lock().expect("the log").push(Served {
        user,
        cohort,
        status,
        micros,
    });
    Ok(response)
}

/// One request of a test's traffic: the unit it comes from, and what the upstream does.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The `X-User-Id` (the edge buckets on it).
    pub user: String,
    /// The status the upstream answers.
    pub status: u16,
    /// How long the upstream sleeps first.
    pub sleep_ms: u64,
}

/// What the client saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The status.
    pub status: u16,
    /// The `X-Version` header the edge set.
    pub version: String,
    /// From sending the request to the end of the body, as the client measured it (µs).
    pub micros: u64,
}

/// Sends every planned request to `base` (the edge's URL), `concurrency` at a time, and
/// returns what the client saw, in plan order. Panics on a failed request: the tests count
/// only requests that were answered.
pub async fn drive(base: &str, plan: &[Planned], concurrency: usize) -> Vec<Seen> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client");
    let plan = Arc::new(plan.to_vec());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, plan, next, base) = (
            client.clone(),
            Arc::clone(&plan),
            Arc::clone(&next),
            base.to_string(),
        );
        workers.spawn(async move {
            let mut seen = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(p) = plan.get(i) else { break };
                let started = Instant::now();
                let response = client
                    .get(format!("{base}{}", path(p.status, p.sleep_ms)))
                    .header("X-User-Id", &p.user)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("request {i}: {e}"));
                let status = response.status().as_u16();
                let version = response
                    .headers()
                    .get("x-version")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                response
                    .bytes()
                    .await
                    .unwrap_or_else(|e| panic!("body of request {i}: {e}"));
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                seen.push((
                    i,
                    Seen {
                        status,
                        version,
                        micros,
                    },
                ));
            }
            seen
        });
    }
    let mut all: Vec<(usize, Seen)> = workers.join_all().await.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, s)| s).collect()
}

/// `n` requests from `n` users; every 13th is a 503, every 7th a 404 (never both at once),
/// and the upstream sleeps `sleeps[i % sleeps.len()]` ms.
pub fn plan(n: usize, sleeps: &[u64]) -> Vec<Planned> {
    (0..n)
        .map(|i| Planned {
            user: format!("user-{i}"),
            status: if i % 13 == 0 {
                503
            } else if i % 7 == 0 {
                404
            } else {
                200
            },
            sleep_ms: sleeps[i % sleeps.len()],
        })
        .collect()
}

/// The status class label of a status (`2xx`).
pub fn class(status: u16) -> String {
    format!("{}xx", status / 100)
}

/// Requests per `(version, cohort, code class)` as the upstreams recorded them, each upstream
/// serving the version it is paired with.
pub fn served_counts(
    upstreams: &[(&str, &Recording)],
) -> std::collections::BTreeMap<(String, String, String), u64> {
    let mut counts = std::collections::BTreeMap::new();
    for (version, upstream) in upstreams {
        for s in upstream.served() {
            *counts
                .entry((version.to_string(), s.cohort.clone(), class(s.status)))
                .or_insert(0) += 1;
        }
    }
    counts
}

/// The `rank`-based quantile the latency sketch reports: the value at 0-based rank
/// `⌊q·(n − 1)⌋` of the sorted values.
pub fn exact_quantile(values: &[u64], q: f64) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (q * (sorted.len() - 1) as f64).floor() as usize;
    sorted[rank]
}

/// The `(version, cohort)` each user's request was served in, from the upstreams' logs.
pub fn served_as(
    upstreams: &[(&str, &Recording)],
) -> std::collections::HashMap<String, (String, String)> {
    upstreams
        .iter()
        .flat_map(|(version, upstream)| {
            upstream
                .served()
                .into_iter()
                .map(move |s| (s.user, (version.to_string(), s.cohort)))
        })
        .collect()
}
