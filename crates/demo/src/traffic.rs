//! The load generator: workers playing visits of users from the pool through the edge proxy,
//! at the rate the [`Pacer`] allows, with keep-alive connections. A visit only knows what the
//! proxy answered: the version (from `X-Version`), the status, the time it took, and whether
//! the checkout completed. Browser events go to the [`EventQueue`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::events::{BrowserEvent, EventQueue};
use crate::pacer::Pacer;
use crate::plan::{CANARY, GEO_HEADER, UNIT_HEADER, VERSION_HEADER};
use crate::users::{User, Users};
use crate::visit::Visit;

/// Longest a request may take before the user gives up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the load generator has done so far, as its clients saw it.
#[derive(Debug, Default)]
pub struct TrafficCounts {
    /// Requests that got an answer.
    pub answered: AtomicU64,
    /// Answers with a 5xx status.
    pub server_errors: AtomicU64,
    /// Requests that got no answer (connection refused, timeout).
    pub failed: AtomicU64,
    /// Visits played.
    pub visits: AtomicU64,
    /// When a user first got an answer from the canary (Unix milliseconds; 0: not yet).
    pub first_canary_ms: AtomicI64,
}

impl TrafficCounts {
    /// When a user first got an answer from the canary, if one did.
    pub fn first_canary(&self) -> Option<i64> {
        Some(self.first_canary_ms.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// One line for the summary: requests, 5xx answers, failures, visits.
    pub fn describe(&self) -> String {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{} requests answered ({} with a 5xx), {} without an answer, {} visits",
            n(&self.answered),
            n(&self.server_errors),
            n(&self.failed),
            n(&self.visits)
        )
    }
}

/// A running load generator; stops when its stop flag turns true.
#[derive(Debug)]
pub struct Traffic {
    workers: JoinSet<()>,
    counts: Arc<TrafficCounts>,
}

/// What every worker shares.
struct Shared {
    base: String,
    client: reqwest::Client,
    users: Users,
    pacer: Pacer,
    events: EventQueue,
    counts: Arc<TrafficCounts>,
}

/// One answer as the browser saw it.
struct Answer {
    ok: bool,
    version: Option<String>,
    took: Duration,
    body: String,
}

impl Traffic {
    /// Starts `workers` workers sending `rps` requests per second to the edge at `edge`.
    pub fn start(
        edge: SocketAddr,
        client: reqwest::Client,
        users: Users,
        rps: u32,
        events: EventQueue,
        seed: u64,
        stop: watch::Receiver<bool>,
    ) -> Traffic {
        let counts = Arc::new(TrafficCounts::default());
        let shared = Arc::new(Shared {
            base: format!("http://{edge}"),
            client,
            users,
            pacer: Pacer::new(rps),
            events,
            counts: Arc::clone(&counts),
        });
        let mut workers = JoinSet::new();
        for i in 0..workers_for(rps) {
            let shared = Arc::clone(&shared);
            let mut stop = stop.clone();
            let rng = SmallRng::seed_from_u64(seed.wrapping_add(u64::from(i)).wrapping_mul(31));
            workers.spawn(async move {
                tokio::select! {
                    () = shared.work(rng) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            });
        }
        Traffic { workers, counts }
    }

    /// The counts so far.
    pub fn counts(&self) -> &TrafficCounts {
        &self.counts
    }

    /// Waits for every worker to stop (after the stop flag turned true).
    pub async fn join(mut self) {
        while self.workers.join_next().await.is_some() {}
    }
}

/// Enough workers that slow answers (up to about a second) do not lower the rate.
fn workers_for(rps: u32) -> u32 {
    (rps / 2).clamp(32, 4_000)
}

impl Shared {
    async fn work(&self, mut rng: SmallRng) {
        loop {
            let Some(user) = self.users.any(&mut rng) else {
                return;
            };
            let visit = Visit::draw(user.device, &mut rng);
            self.visit(user, visit).await;
            self.counts.visits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One visit: the page; then, in a browser, the products, a click and a checkout.
    async fn visit(&self, user: &User, visit: Visit) {
        let page = self.request(user, Method::GET, "/").await;
        let (Some(page), true) = (page, visit.runs_script) else {
            return;
        };
        let Some(version) = page.version.clone().filter(|_| page.ok) else {
            return;
        };
        let event = |name, value| BrowserEvent {
            unit: user.id.clone(),
            name,
            version: version.clone(),
            value,
            user_agent: user.user_agent,
            country: user.country,
        };
        self.events.push(event("exposure", None));
        let Some(products) = self.request(user, Method::GET, "/api/products").await else {
            return;
        };
        if !products.ok {
            return;
        }
        let load_ms = (page.took + products.took).as_secs_f64() * 1e3;
        self.events.push(event("page_load_ms", Some(load_ms)));
        if visit.clicks {
            self.events.push(event("click", None));
        }
        if !visit.checks_out {
            return;
        }
        let checkout = self.request(user, Method::POST, "/api/checkout").await;
        if checkout.is_some_and(|c| c.ok && c.body.contains("\"completed\":true")) {
            self.events.push(event("conversion", None));
        }
    }

    async fn request(&self, user: &User, method: Method, path: &str) -> Option<Answer> {
        self.pacer.wait().await;
        let start = Instant::now();
        let sent = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(UNIT_HEADER, &user.id)
            .header(http::header::USER_AGENT, user.user_agent)
            .header(GEO_HEADER, user.country)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await;
        let answer = match sent {
            Ok(r) => {
                let ok = r.status().is_success();
                let version = r
                    .headers()
                    .get(VERSION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = r.text().await.unwrap_or_default();
                Answer {
                    ok,
                    version,
                    took: start.elapsed(),
                    body,
                }
            }
            Err(e) => {
                self.counts.failed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, path, "request failed");
                return None;
            }
        };
        self.counts.answered.fetch_add(1, Ordering::Relaxed);
        if answer.version.as_deref() == Some(CANARY) {
            let _ = self.counts.first_canary_ms.compare_exchange(
                0,
                rollgate_control::system_now(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        if !answer.ok {
            self.counts.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        Some(answer)
    }
}

/// The HTTP client of the users: keep-alive, no proxy from the environment.
pub fn client(rps: u32) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(workers_for(rps) as usize)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_workers_for_the_rate() {
        assert_eq!(workers_for(20), 32);
        assert_eq!(workers_for(300), 150);
        assert_eq!(workers_for(100_000), 4_000);
    }
}
