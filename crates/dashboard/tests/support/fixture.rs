//! A control plane on a store of the test's choice with the built-in metric provider, a
//! hand-moved clock and an edge recorder the test fills with traffic; the API router with the
//! dashboard merged in (as `rollgate serve` mounts them); and a cookie-keeping client that
//! calls the router in process. Shared by the integration tests and the page bench.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use rollgate_control::ControlPlane;
use rollgate_control::testing::{T0, TestPlane};
use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;
use rollgate_dashboard::DashboardOptions;
use rollgate_metrics::{Recorder, RequestRecord, SeriesKey};
use rollgate_store::{Role, Store};
use tower::ServiceExt;

/// `shop` (v1 → v2 at 10%, guarded by an absolute and a relative condition, with a declared
/// business metric) and `search` (an experiment whose variants route to versions a and b).
pub const CONFIG: &str = r#"
[control]
window = "1s"

[[metrics]]
name = "conversion_rate"
ratio = { numerator = "conversion", denominator = "exposure" }

[[services]]
name = "shop"
hosts = ["shop.test"]

[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:1"]

[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:2"]

[[services]]
name = "search"
hosts = ["search.test"]

[[services.versions]]
name = "a"
endpoints = ["127.0.0.1:3"]

[[services.versions]]
name = "b"
endpoints = ["127.0.0.1:4"]

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"

[rollouts.strategy]
steps = [{ weight = "10%", min_duration = "10m" }, { weight = "100%" }]

[rollouts.analysis]
min_samples = 50

[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > 5%"
immediate = true

[[rollouts.analysis.conditions]]
name = "latency"
fail_when = "p99_latency > 1.5 * baseline.p99_latency"

[[experiments]]
name = "ranker"
service = "search"
allocation = "100%"
variants = [
  { name = "control", weight = "50%", version = "a" },
  { name = "treatment", weight = "50%", version = "b" },
]
"#;

/// Requests per second each cohort gets in [`Fixture::second`], and the canary's behaviour.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    pub canary: u64,
    pub baseline: u64,
    pub stable: u64,
    pub canary_error_share: f64,
}

impl Default for Traffic {
    fn default() -> Traffic {
        Traffic {
            canary: 20,
            baseline: 20,
            stable: 160,
            canary_error_share: 0.0,
        }
    }
}

/// The control plane, its clock and edge recorder, the app, and two token secrets.
pub struct Fixture {
    pub plane: ControlPlane,
    pub time: Arc<AtomicI64>,
    pub edge: Arc<Recorder>,
    pub app: Router,
    pub store: Arc<dyn Store>,
    /// An operator token named `alice`.
    pub operator: String,
    /// A viewer token named `bob`.
    pub viewer: String,
}

impl Fixture {
    /// Starts the control plane of `config` on `store` at [`T0`], with tokens `alice`
    /// (operator) and `bob` (viewer), and runs the first tick.
    pub async fn new(config: &str, store: Arc<dyn Store>, opts: DashboardOptions) -> Fixture {
        let TestPlane {
            plane, clock, edge, ..
        } = TestPlane::builder(config)
            .store(Arc::clone(&store))
            .start()
            .await;
        let (_, operator) = store
            .create_token("alice", Role::Operator, T0)
            .await
            .unwrap();
        let (_, viewer) = store.create_token("bob", Role::Viewer, T0).await.unwrap();
        let app = rollgate_server::router(plane.clone(), rollgate_server::ServerOptions::default())
            .merge(rollgate_dashboard::router(plane.clone(), opts));
        plane.tick(T0).await;
        Fixture {
            plane,
            time: clock,
            edge,
            app,
            store,
            operator: operator.expose().to_string(),
            viewer: viewer.expose().to_string(),
        }
    }

    /// Now, by the fixture's clock.
    pub fn now(&self) -> UnixMillis {
        self.time.load(Ordering::SeqCst)
    }

    /// `seconds` of traffic, one window each: the rollout's cohorts as `traffic` says, the
    /// experiment's versions (b slower and with more conversions), then the loop's tick.
    pub async fn run(&self, seconds: i64, traffic: Traffic) {
        for _ in 0..seconds {
            let start = self.now();
            self.second(start, traffic);
            let now = start + 1_000;
            self.time.store(now, Ordering::SeqCst);
            let report = self.plane.ingest_windows(self.edge.close_until(now));
            assert!(report.refused.is_empty(), "{report:?}");
            self.plane.tick(now).await;
        }
    }

    fn second(&self, start: UnixMillis, t: Traffic) {
        let reg = self.edge.registry();
        let key = |svc: &str, rollout: &str, version: &str, cohort| {
            reg.series(&SeriesKey::new(svc, rollout, version, cohort))
                .unwrap()
        };
        let groups = [
            (
                key("shop", "shop-v2", "v2", Cohort::Canary),
                t.canary,
                t.canary_error_share,
                12_000,
            ),
            (
                key("shop", "shop-v2", "v1", Cohort::Baseline),
                t.baseline,
                0.0,
                10_000,
            ),
            (
                key("shop", "shop-v2", "v1", Cohort::Stable),
                t.stable,
                0.0,
                10_000,
            ),
            (key("search", "", "a", Cohort::Stable), 30, 0.0, 20_000),
            (key("search", "", "b", Cohort::Stable), 30, 0.0, 26_000),
        ];
        for (series, n, errors, latency_us) in groups {
            let failing = (n as f64 * errors).round() as u64;
            for i in 0..n {
                let at = start + (i * 1_000 / n.max(1)) as i64;
                let record = RequestRecord {
                    series,
                    status: if i < failing { 500 } else { 200 },
                    latency_us: latency_us + (i % 10) * 500,
                    bytes_out: 100,
                    error: None,
                };
                self.edge.record_request(at, &record);
            }
        }
        for (version, cohort, conversions) in
            [("v2", Cohort::Canary, 3), ("v1", Cohort::Baseline, 2)]
        {
            let series = SeriesKey::new("shop", "shop-v2", version, cohort);
            for i in 0..20 {
                self.edge
                    .record_event_named(start + i * 40, &series, "exposure", None)
                    .unwrap();
                if i < conversions {
                    self.edge
                        .record_event_named(start + i * 40, &series, "conversion", None)
                        .unwrap();
                }
            }
        }
    }
}

/// What the app answered.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the hidden field `name` in the page (the first one).
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&marker)? + marker.len();
        let end = self.body[at..].find('"')?;
        Some(self.body[at..at + end].to_string())
    }
}

/// A browser without JavaScript: keeps cookies, sends forms.
pub struct Browser {
    app: Router,
    pub cookies: BTreeMap<String, String>,
    /// The `Host` header sent (an `Origin` is sent on POSTs when set).
    pub origin: Option<String>,
}

impl Browser {
    pub fn new(app: &Router) -> Browser {
        Browser {
            app: app.clone(),
            cookies: BTreeMap::new(),
            origin: None,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None, &[]).await
    }

    /// A GET as the page script sends it.
    pub async fn live(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None, &[("x-rollgate-live", "1")])
            .await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", rollgate_server::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// Signs in with `token` through the form, as a person would.
    pub async fn login(&mut self, token: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let nonce = form.hidden("nonce").unwrap();
        self.post(
            "/login",
            &[("token", token), ("nonce", &nonce), ("next", "/")],
        )
        .await
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<String>,
        extra: &[(&str, &str)],
    ) -> Page {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::HOST, "dash.test");
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(header::COOKIE, cookie);
        }
        if method == Method::POST {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(origin) = &self.origin {
                req = req.header(header::ORIGIN, origin.as_str());
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(form.unwrap_or_default())).unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        for v in parts.headers.get_all(header::SET_COOKIE) {
            let text = v.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Page {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }
}
