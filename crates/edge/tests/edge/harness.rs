//! Starts an edge in-process in front of two real upstreams (`stable` and `canary`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rollgate_core::{EdgeContext, GeoSource, RoutingSpec, RoutingTable};
use rollgate_edge::{BreakerReport, Edge, ProxySettings, TableHandle, Telemetry};
use rollgate_metrics::{Exposition, Recorder, RecorderConfig};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::upstream::Upstream;

/// A running edge with its two upstreams.
pub struct Harness {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub handle: TableHandle,
    pub stable: Upstream,
    pub canary: Upstream,
    pub recorder: Arc<Recorder>,
    pub exposition: Exposition,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

/// A one-service routing spec: `shop` with versions `v1` (stable) and `v2` (canary), unit
/// header `X-User-Id`, and rollout `shop-v2` at `weight`. `service` and `rollout` are merged
/// over the defaults.
pub fn spec(
    stable: &Upstream,
    canary: &Upstream,
    weight: &str,
    service: Value,
    rollout: Value,
) -> RoutingSpec {
    let mut s = json!({
        "name": "shop",
        "unit": {"header": "X-User-Id", "cookie": "uid"},
        "timeouts": {"connect": "500ms", "first_byte": "2s", "total": "10s"},
        "versions": [
            {"name": "v1", "endpoints": [stable.endpoint()]},
            {"name": "v2", "endpoints": [canary.endpoint()]},
        ],
    });
    merge(&mut s, service);
    let mut r = json!({"name": "shop-v2", "service": "shop", "stable": "v1", "canary": "v2", "weight": weight});
    merge(&mut r, rollout);
    serde_json::from_value(json!({"services": [s], "rollouts": [r]})).unwrap()
}

fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
}

/// The table of `spec`; countries come from the `CF-IPCountry` header.
pub fn table(spec: &RoutingSpec) -> Arc<RoutingTable> {
    let ctx = EdgeContext {
        geo: GeoSource::Header("CF-IPCountry".into()),
        overrides: None,
    };
    Arc::new(RoutingTable::build(spec, &ctx).unwrap())
}

impl Harness {
    /// An edge routing by `make(stable, canary)`.
    pub async fn start(make: impl FnOnce(&Upstream, &Upstream) -> RoutingSpec) -> Harness {
        Harness::start_with(make, |_| {}).await
    }

    /// As [`Harness::start`], with the settings adjusted by `tweak`.
    pub async fn start_with(
        make: impl FnOnce(&Upstream, &Upstream) -> RoutingSpec,
        tweak: impl FnOnce(&mut ProxySettings),
    ) -> Harness {
        let stable = Upstream::start("v1").await;
        let canary = Upstream::start("v2").await;
        let table = table(&make(&stable, &canary));
        let mut settings = ProxySettings::new("127.0.0.1:0".parse().unwrap());
        settings.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        settings.drain_timeout = Duration::from_secs(5);
        tweak(&mut settings);
        let recorder = Arc::new(Recorder::new(RecorderConfig::default(), []));
        let exposition = Exposition::new(1000);
        let telemetry = Telemetry {
            recorder: Arc::clone(&recorder),
            exposition: Some(exposition.clone()),
        };
        let bound = Edge::new(settings, table, telemetry).bind().await.unwrap();
        let (addr, admin, handle) = (
            bound.local_addr(),
            bound.admin_addr().unwrap(),
            bound.table_handle(),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.run(async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Harness {
            addr,
            admin,
            handle,
            stable,
            canary,
            recorder,
            exposition,
            client,
            stop: Some(tx),
            task,
        }
    }

    /// `http://<edge>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://<admin>/<path>`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// GET `path` as user `user`; returns (status, X-Version, body).
    pub async fn get_as(&self, user: &str, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(self.url(path))
            .header("X-User-Id", user)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let version = r
            .headers()
            .get("x-version")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, version, r.text().await.unwrap())
    }

    /// The body of GET `path` as user `user` (`/echo`: the headers the upstream got).
    pub async fn text_as(&self, user: &str, path: &str) -> String {
        self.get_as(user, path).await.2
    }

    /// `/metrics` after closing every telemetry window recorded so far into the totals.
    pub async fn metrics(&self) -> String {
        for w in self.recorder.close_until(i64::MAX) {
            self.exposition.add_window(&w);
        }
        let r = self
            .client
            .get(self.admin_url("/metrics"))
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    }

    /// The breaker of version `version` of `shop`.
    pub fn breaker(&self, version: &str) -> BreakerReport {
        self.handle
            .breaker_states()
            .into_iter()
            .find(|b| b.version == version)
            .unwrap()
    }

    /// Signals shutdown and waits for the drain.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .unwrap()
            .unwrap();
    }
}
