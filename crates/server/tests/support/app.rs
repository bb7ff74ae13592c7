//! The API over real HTTP: a control plane on `MemStore` with a hand-moved clock, the server's
//! router on an ephemeral 127.0.0.1 port, one token per role, and helpers that read the
//! store directly (not through the API) to check that refused requests changed nothing.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use rollgate_control::ControlPlane;
use rollgate_control::testing::{T0, TestPlane};
use rollgate_server::{ServerOptions, router};
use rollgate_store::{DecisionQuery, Role, RolloutFilter, Store};
use serde_json::{Value, json};

/// A service with three versions, a three-step rollout to v2 and an experiment; a second
/// service with two versions and no rollout.
pub const CONFIG: &str = r##"
[control]
window = "1s"

[[services]]
name = "shop"
hosts = ["shop.test"]

[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:1"]

[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:2"]

[[services.versions]]
name = "v3"
endpoints = ["127.0.0.1:3"]

[[services]]
name = "cart"
hosts = ["cart.test"]

[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:11"]

[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:12"]

[[metrics]]
name = "conversion_rate"
ratio = { numerator = "conversion", denominator = "exposure" }

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"

[rollouts.strategy]
steps = [
  { weight = "10%", min_duration = "10m" },
  { weight = "50%", min_duration = "10m" },
  { weight = "100%" },
]

[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > 5%"

[[experiments]]
name = "button"
service = "shop"
layer = "checkout"
allocation = "50%"
variants = [
  { name = "blue", weight = "50%", value = "#00f" },
  { name = "green", weight = "50%" },
]
"##;

/// A running API.
pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    pub plane: ControlPlane,
    pub store: Arc<dyn Store>,
    pub clock: Arc<AtomicI64>,
    pub admin: String,
    pub operator: String,
    pub viewer: String,
    server: tokio::task::JoinHandle<()>,
}

/// An answer: status, headers, body (JSON, or a string when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl App {
    pub async fn start() -> App {
        App::start_with(CONFIG, ServerOptions::default()).await
    }

    pub async fn start_with(config: &str, opts: ServerOptions) -> App {
        let TestPlane {
            plane,
            store,
            clock,
            ..
        } = TestPlane::start(config).await;
        // The first tick starts the rollout (pending → progressing at its first step).
        plane.tick(T0).await;
        let mut tokens = Vec::new();
        for role in Role::ALL {
            let (_, secret) = store.create_token(role.as_str(), role, T0).await.unwrap();
            tokens.push(secret.expose().to_owned());
        }
        let app = router(plane.clone(), opts);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        App {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            plane,
            store,
            clock,
            viewer: tokens[0].clone(),
            operator: tokens[1].clone(),
            admin: tokens[2].clone(),
            server,
        }
    }

    /// The token of `role`.
    pub fn token(&self, role: Role) -> &str {
        match role {
            Role::Viewer => &self.viewer,
            Role::Operator => &self.operator,
            Role::Admin => &self.admin,
        }
    }

    /// Moves the clock by `ms` and runs one reconcile tick.
    pub async fn advance(&self, ms: i64) {
        let now = self.clock.fetch_add(ms, Ordering::SeqCst) + ms;
        self.plane.tick(now).await;
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(Method::POST, path, token, Some((bytes, "application/json")))
            .await
    }

    /// Any request; `body` is the raw bytes and their content type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(Vec<u8>, &str)>,
    ) -> Answer {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        let (bytes, content_type) = match body {
            Some((b, ct)) => (Some(b), Some(ct)),
            None => (None, None),
        };
        if let Some(ct) = content_type {
            headers.push(("content-type", ct));
        }
        self.raw(method, path, &headers, bytes).await
    }

    /// Any request with exactly these headers.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(bytes) = body {
            req = req.body(bytes);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Everything the store holds, read directly, to compare before and after a request.
    pub async fn state(&self) -> Value {
        let s = &self.store;
        let rollouts = s.list_rollouts(&RolloutFilter::default()).await.unwrap();
        let mut versions = Vec::new();
        for svc in s.list_services().await.unwrap() {
            versions.push(json!({
                "service": svc,
                "versions": s.list_versions(&svc.name).await.unwrap(),
                "stable": s.stable_history(&svc.name).await.unwrap(),
            }));
        }
        json!({
            "rollouts": rollouts,
            "versions": versions,
            "experiments": s.list_experiments().await.unwrap(),
            "tokens": s.list_tokens().await.unwrap(),
            "decisions": s.count_decisions(&DecisionQuery::default()).await.unwrap(),
        })
    }
}

impl Answer {
    /// Asserts a problem document with this status, and returns it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(
            self.headers[CONTENT_TYPE], "application/problem+json",
            "{:#}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{:#}", self.body);
        assert!(
            self.body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:rollgate:problem:")
        );
        assert!(!self.body["detail"].as_str().unwrap().is_empty());
        &self.body
    }

    /// Asserts a 2xx status and returns the body.
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "{}: {:#}", self.status, self.body);
        &self.body
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}
