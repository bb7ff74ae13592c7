//! End to end: a real Prometheus server (`/usr/bin/prometheus`, Debian package `prometheus`)
//! scrapes a real `rollgate edge` every second; real traffic goes through the edge to two
//! recording upstreams; the `PrometheusProvider` must then report exactly what the upstreams
//! served — requests, 5xx and error rate per cohort — and the p99 Prometheus itself computes
//! from the same histogram. A second test runs the whole path: `rollgate serve` configured
//! with `[control.provider.prometheus]` answers its metrics API from Prometheus, and shows the
//! provider's error on the rollout when Prometheus stops. Each test starts and stops its own
//! Prometheus (by PID) in a temporary directory on an ephemeral 127.0.0.1 port.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rollgate_analysis::RolloutMetrics;
use rollgate_config::PrometheusSpec;
use rollgate_control::{MetricProvider, MetricQuery};
use rollgate_core::{Cohort, DurationSpec, Ppm};
use rollgate_metrics::{Catalog, SufficientStats};
use rollgate_prometheus::PrometheusProvider;
use serde_json::Value;
use support::cli::offline_token;
use support::config::{shop, write};
use support::edge::Edge;
use support::process::{Proc, free_port, now_ms};
use support::recording::{Recording, class, drive, plan, served_counts};
use support::serve::Serve;

/// The scrape job, matched by the provider's configured matchers.
const JOB: &str = "rollgate-edge";

/// A breaker that never opens: every 503 must stay on the version that answered it.
const BREAKER: &str = r#"breaker = { consecutive_failures = 1000, error_ratio = "100%" }"#;

/// Requests sent through the edge.
const N: usize = 520;

/// Upstream sleeps (ms), each well inside one histogram bucket (5, 10, 25, 50, 100, 250 ms).
const SLEEPS: [u64; 7] = [0, 6, 14, 30, 60, 140, 160];

/// A Prometheus server of this test: its own config, data directory and port.
struct Prometheus {
    proc: Proc,
    url: String,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target`'s `/metrics` every second and waits until it is
    /// ready. Retries on another port if the one picked was taken meanwhile.
    async fn start(target: SocketAddr) -> Prometheus {
        for _ in 0..3 {
            if let Some(p) = Prometheus::try_start(target, free_port()).await {
                return p;
            }
        }
        panic!("Prometheus did not start on three ports");
    }

    /// As [`Prometheus::start`], on `port` (chosen before, for a config that names it).
    async fn start_on(target: SocketAddr, port: u16) -> Prometheus {
        match Prometheus::try_start(target, port).await {
            Some(p) => p,
            None => panic!("Prometheus did not start on port {port}"),
        }
    }

    async fn try_start(target: SocketAddr, port: u16) -> Option<Prometheus> {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let log = dir.path().join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("run prometheus (Debian package `prometheus`)");
        let mut p = Prometheus {
            proc: Proc::new(child, log),
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if p.proc.exited().is_some() {
                eprintln!("Prometheus exited early:\n{}", p.proc.logs());
                return None;
            }
            let ready = reqwest::get(format!("{}/-/ready", p.url)).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Some(p);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Prometheus not ready after 30 s:\n{}", p.proc.logs());
    }

    /// Evaluates `promql` at `at` (Unix seconds), straight through the HTTP API: the result
    /// vector.
    async fn query(&self, promql: &str, at: f64) -> Vec<Value> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query", self.url),
            &[("query", promql), ("time", &format!("{at:.3}"))],
        )
        .unwrap();
        let answer: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        answer["data"]["result"].as_array().unwrap().clone()
    }

    /// Waits until Prometheus holds a scrape of the edge that started after `after` (Unix
    /// seconds).
    async fn wait_for_scrape_after(&self, after: f64) {
        // `timestamp()` of a plain selector is the scrape's time; of an expression such as
        // `up == 1` it would be the evaluation time. So: the latest scrape's time, and that
        // it succeeded, read at one instant.
        let up = format!("up{{job=\"{JOB}\"}}");
        let scraped = format!("timestamp({up})");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let at = now_ms() as f64 / 1000.0;
            let (time, ok) = (self.query(&scraped, at).await, self.query(&up, at).await);
            if time.first().is_some_and(|r| value(r) > after)
                && ok.first().is_some_and(|r| value(r) == 1.0)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "no scrape of the edge after {after} within 20 s:\n{}",
            self.proc.logs()
        );
    }

    /// Stops the server: SIGTERM by PID, then SIGKILL if it has not exited within 10 s.
    fn stop(&mut self) {
        if self.proc.stop(Duration::from_secs(10)).is_none() {
            self.proc.kill9();
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value of one vector sample.
fn value(sample: &Value) -> f64 {
    sample["value"][1].as_str().unwrap().parse().unwrap()
}

/// The total of `rollgate_requests_total` on the edge's own `/metrics`.
async fn exposed_requests(admin: SocketAddr) -> u64 {
    let text = reqwest::get(format!("http://{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("rollgate_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}

/// Waits until the edge's `/metrics` on `admin` shows `n` requests (windows close every
/// second); `logs` are shown if it never does.
async fn wait_for_exposed(admin: SocketAddr, n: u64, logs: impl Fn() -> String) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if exposed_requests(admin).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the edge's /metrics did not reach {n} requests:\n{}",
        logs()
    );
}

/// Asserts that `doc` holds, per cohort, exactly the requests, statuses and errors the
/// upstreams served (`served`, per version, cohort and class), and `n` requests in all.
fn assert_exact(doc: &RolloutMetrics, served: &BTreeMap<(String, String, String), u64>, n: usize) {
    let expect = |version: &str, cohort: Cohort, class: &str| {
        served
            .get(&(
                version.to_string(),
                cohort.as_str().to_string(),
                class.to_string(),
            ))
            .copied()
            .unwrap_or(0)
    };
    let mut total = 0;
    for cohort in Cohort::ALL {
        let version = if cohort == Cohort::Canary { "v2" } else { "v1" };
        let counts = &doc.cohorts[&cohort];
        assert_eq!(counts.version, version);
        let get = |m: &str| counts.metrics[m].samples;
        let (ok, not_found, errors) = (
            expect(version, cohort, "2xx"),
            expect(version, cohort, "4xx"),
            expect(version, cohort, "5xx"),
        );
        assert!(
            ok > 0 && not_found > 0 && errors > 0,
            "{cohort:?} got every kind of answer: {served:?}"
        );
        assert_eq!(get("requests"), ok + not_found + errors, "{cohort:?}");
        assert_eq!(get("http_2xx"), ok, "{cohort:?}");
        assert_eq!(get("http_4xx"), not_found, "{cohort:?}");
        assert_eq!(get("http_5xx"), errors, "{cohort:?}");
        assert_eq!(get("version_errors"), errors, "{cohort:?}");
        assert_eq!(
            counts.metrics["error_rate"].stats,
            SufficientStats::Ratio {
                numerator: errors,
                denominator: ok + not_found + errors
            },
            "{cohort:?}"
        );
        total += get("requests");
    }
    assert_eq!(total, n as u64, "every request counted once, in one cohort");
}

fn provider(prometheus: &Prometheus) -> PrometheusProvider {
    let spec = PrometheusSpec {
        url: prometheus.url.clone(),
        timeout: DurationSpec::from_secs(5),
        matchers: [("job".to_string(), JOB.to_string())].into_iter().collect(),
    };
    PrometheusProvider::new(&spec, Arc::new(Catalog::builtin())).unwrap()
}

fn query(from: i64, to: i64) -> MetricQuery {
    let metrics = [
        "requests",
        "http_2xx",
        "http_4xx",
        "http_5xx",
        "version_errors",
        "error_rate",
        "p99_latency",
        "avg_latency",
    ];
    MetricQuery {
        rollout: "shop-v2".into(),
        service: "shop".into(),
        stable: "v1".into(),
        canary: "v2".into(),
        weight: Ppm::percent(30),
        cohorts: Cohort::ALL.to_vec(),
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        from,
        to,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_prometheus_provider_reports_exact_counts_of_real_traffic() {
    let (v1, v2) = (Recording::start().await, Recording::start().await);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rollgate.toml");
    write(
        &config,
        &shop(&v1.endpoint(), &v2.endpoint(), "30%", None, BREAKER),
    );
    let edge = Edge::start(&config);
    let mut prometheus = Prometheus::start(edge.admin).await;
    let provider = provider(&prometheus);

    // A first half, scraped before `from`: the counters start the range well above zero, as
    // they do in a running fleet. The range then holds exactly the second half.
    let plan = plan(N, &SLEEPS);
    let (first, second) = plan.split_at(N / 2);
    drive(&edge.url(""), first, 48).await;
    wait_for_exposed(edge.admin, first.len() as u64, || edge.proc.logs()).await;
    prometheus
        .wait_for_scrape_after(now_ms() as f64 / 1000.0)
        .await;
    let from = now_ms();
    let (served_before, canary_before) = (
        served_counts(&[("v1", &v1), ("v2", &v2)]),
        v2.served().len(),
    );
    let seen = drive(&edge.url(""), second, 48).await;
    assert!(
        seen.iter().zip(second).all(|(s, p)| s.status == p.status),
        "every status came through"
    );
    wait_for_exposed(edge.admin, N as u64, || edge.proc.logs()).await;
    prometheus
        .wait_for_scrape_after(now_ms() as f64 / 1000.0)
        .await;
    let to = now_ms();

    let doc = provider.rollout_metrics(&query(from, to)).await.unwrap();
    let mut served = served_counts(&[("v1", &v1), ("v2", &v2)]);
    for (key, n) in &served_before {
        *served.get_mut(key).unwrap() -= n;
    }
    assert_exact(&doc, &served, second.len());
    let by_class: u64 = served
        .iter()
        .filter(|((v, _, c), _)| v == "v2" && *c == class(503))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        by_class,
        seen.iter()
            .filter(|s| s.version == "v2" && s.status == 503)
            .count() as u64,
        "the client agrees with the upstream"
    );

    // p99 of the canary: exactly what Prometheus' own histogram_quantile makes of the same
    // buckets, and in the bucket range the real latencies put it in.
    let p99 = doc.cohorts[&Cohort::Canary].metrics["p99_latency"]
        .value
        .unwrap();
    let buckets = format!(
        "rollgate_request_duration_seconds_bucket{{job=\"{JOB}\",rollout=\"shop-v2\",cohort=\"canary\",version=\"v2\"}}"
    );
    let promql = format!(
        "histogram_quantile(0.99, sum by (le) ({buckets} - {buckets} offset {}ms))",
        to - from
    );
    let theirs = value(&prometheus.query(&promql, to as f64 / 1000.0).await[0]) * 1000.0;
    assert!(
        (p99 - theirs).abs() <= 1e-9 * theirs,
        "provider {p99} ms, Prometheus {theirs} ms"
    );
    let upstream: Vec<u64> = v2.served()[canary_before..]
        .iter()
        .map(|s| s.micros)
        .collect();
    let client: Vec<u64> = seen
        .iter()
        .filter(|s| s.version == "v2")
        .map(|s| s.micros)
        .collect();
    let (low, high) = (
        bucket(rank_value(&upstream, 0.99)).0,
        bucket(rank_value(&client, 0.99)).1,
    );
    assert!(
        low <= p99 && p99 <= high,
        "p99 {p99} ms outside the buckets of the exact p99s [{low}, {high}] ms"
    );
    eprintln!(
        "canary: {} requests; p99 {p99:.3} ms (Prometheus {theirs:.3} ms); exact p99 {:.3} ms upstream, {:.3} ms client",
        doc.cohorts[&Cohort::Canary].metrics["requests"].samples,
        rank_value(&upstream, 0.99) as f64 / 1000.0,
        rank_value(&client, 0.99) as f64 / 1000.0
    );
    let avg = doc.cohorts[&Cohort::Canary].metrics["avg_latency"]
        .value
        .unwrap();
    let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len() as f64 / 1000.0;
    assert!(
        mean(&upstream) <= avg && avg <= mean(&client),
        "avg {avg} ms outside [{}, {}]",
        mean(&upstream),
        mean(&client)
    );

    // A later range without traffic counts nothing.
    let quiet = provider
        .rollout_metrics(&query(to, now_ms()))
        .await
        .unwrap();
    assert!(
        quiet
            .cohorts
            .values()
            .all(|c| c.metrics["requests"].samples == 0),
        "{quiet:?}"
    );

    // Prometheus down: an error naming the query, which the control plane logs and shows
    // while the rollout holds.
    prometheus.stop();
    let err = provider
        .rollout_metrics(&query(from, to))
        .await
        .unwrap_err();
    assert_eq!(err.provider, "prometheus");
    assert!(
        err.reason
            .contains("rollout=\"shop-v2\",job=\"rollgate-edge\"}` at "),
        "{err}"
    );
    assert!(err.reason.contains("cannot reach Prometheus"), "{err}");
    let data = prometheus.dir.path().to_path_buf();
    drop(prometheus);
    assert!(
        !Path::new(&data).exists(),
        "the temporary directory is removed"
    );
}

/// `GET <path>` on the API of `server` with `token`: the status and the JSON body.
async fn api(server: &Serve, token: &str, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("http://{}{path}", server.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollgate_serve_judges_its_rollout_on_prometheus() {
    let (v1, v2) = (Recording::start().await, Recording::start().await);
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = (dir.path().join("rollgate.toml"), dir.path().join("data"));
    // Prometheus' port is chosen first: the control plane's config names it.
    let port = free_port();
    let provider = format!(
        "\n[control.provider.prometheus]\nurl = \"http://127.0.0.1:{port}\"\ntimeout = \"2s\"\nmatchers = {{ job = \"{JOB}\" }}\n"
    );
    let text = shop(&v1.endpoint(), &v2.endpoint(), "30%", None, BREAKER) + &provider;
    write(&config, &text);
    let token = offline_token(&data, "prometheus-e2e", "viewer");
    let server = Serve::start(&config, &data);
    let admin = server.admin.unwrap();
    let mut prometheus = Prometheus::start_on(admin, port).await;

    let from = now_ms();
    let plan = plan(N, &SLEEPS);
    let seen = drive(&server.url(""), &plan, 48).await;
    assert!(seen.iter().zip(&plan).all(|(s, p)| s.status == p.status));
    wait_for_exposed(admin, N as u64, || server.proc.logs()).await;
    prometheus
        .wait_for_scrape_after(now_ms() as f64 / 1000.0)
        .await;
    let to = now_ms();

    // The metrics API answers from the configured provider: Prometheus.
    let path = format!("/api/v1/rollouts/shop-v2/metrics?from={from}&to={to}");
    let (status, body) = api(&server, &token, &path).await;
    assert_eq!(status, 200, "{body}");
    let doc: RolloutMetrics = serde_json::from_value(body).unwrap();
    assert_exact(&doc, &served_counts(&[("v1", &v1), ("v2", &v2)]), N);

    // Prometheus stops: the API says the metrics are unavailable, naming the query, and the
    // control loop shows the provider's error on the rollout, which holds.
    prometheus.stop();
    let (status, body) = api(&server, &token, &path).await;
    assert_eq!(status, 503, "{body}");
    let detail = body.to_string();
    assert!(
        detail.contains("cannot reach Prometheus") && detail.contains("rollout=\\\"shop-v2\\\""),
        "{detail}"
    );
    let started = Instant::now();
    loop {
        let (status, view) = api(&server, &token, "/api/v1/rollouts/shop-v2").await;
        assert_eq!(status, 200, "{view}");
        let problem = view["problem"].as_str().unwrap_or_default().to_string();
        if problem.starts_with("metrics unavailable: prometheus: query `") {
            assert!(problem.contains("cannot reach Prometheus"), "{problem}");
            assert_eq!(view["phase"], "paused", "{view}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no provider error on the rollout: {view}\n{}",
            server.proc.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        server
            .proc
            .logs()
            .contains("metrics unavailable; the rollout holds"),
        "{}",
        server.proc.logs()
    );
}

/// The value at 1-based rank `⌈q·n⌉` (µs): the observation `histogram_quantile` interpolates
/// towards, whose bucket it lands in.
fn rank_value(values: &[u64], q: f64) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The bounds (ms) of the exposed histogram bucket holding `micros`.
fn bucket(micros: u64) -> (f64, f64) {
    let bounds = rollgate_metrics::LATENCY_BUCKETS_US;
    let i = rollgate_metrics::latency_bucket(micros);
    let lo = i.checked_sub(1).map_or(0, |j| bounds[j]);
    let hi = bounds.get(i).copied().unwrap_or(u64::MAX);
    (lo as f64 / 1000.0, hi as f64 / 1000.0)
}
