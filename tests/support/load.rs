//! Open-loop HTTP load through the edge at a fixed request rate, each request from its own
//! unit (`X-User-Id`), recording when each answer came, its status and the `X-Version` that
//! served it. Bounded: it stops at its deadline or when the caller's check says so.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One answered (or failed) request.
#[derive(Clone, Debug)]
pub struct Sample {
    /// When the answer arrived.
    pub at: Instant,
    /// The status (0 when the request failed).
    pub status: u16,
    /// The version that served it (`X-Version`), empty when none.
    pub version: String,
}

/// Samples collected so far, shared with the load task.
#[derive(Clone, Default)]
pub struct Samples(Arc<Mutex<Vec<Sample>>>);

impl Samples {
    /// A copy of every sample so far.
    pub fn all(&self) -> Vec<Sample> {
        self.0.lock().expect("the sample list").clone()
    }

    fn push(&self, s: Sample) {
        self.0.lock().expect("the sample list").push(s);
    }
}

/// Sends `rps` requests per second to `url` until `until` returns true (checked every 100 ms
/// with the samples so far) or `limit` passes. Request `i` carries `X-User-Id: <prefix>-<i>`.
pub async fn run(
    url: &str,
    rps: u32,
    prefix: &str,
    limit: Duration,
    mut until: impl FnMut(&[Sample]) -> bool,
) -> Vec<Sample> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(64)
        .build()
        .expect("an HTTP client");
    let samples = Samples::default();
    let start = Instant::now();
    let mut every = tokio::time::interval(Duration::from_secs(1) / rps.max(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut check = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut i: u64 = 0;
    while start.elapsed() < limit {
        every.tick().await;
        let (client, url, sink) = (client.clone(), url.to_string(), samples.clone());
        let user = format!("{prefix}-{i}");
        i += 1;
        tasks.spawn(async move {
            let answer = client.get(&url).header("x-user-id", user).send().await;
            let (status, version) = match answer {
                Ok(r) => {
                    let v = r
                        .headers()
                        .get("x-version")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let status = r.status().as_u16();
                    let _ = r.bytes().await;
                    (status, v)
                }
                Err(_) => (0, String::new()),
            };
            sink.push(Sample {
                at: Instant::now(),
                status,
                version,
            });
        });
        while tasks.try_join_next().is_some() {}
        if check.elapsed() >= Duration::from_millis(100) {
            check = Instant::now();
            if until(&samples.all()) {
                break;
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    samples.all()
}
