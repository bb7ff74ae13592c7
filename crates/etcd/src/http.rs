//! The leader's distributed-mode endpoints, merged into the control plane's router by
//! `rollgate control --etcd`:
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `POST /v1/windows` | edges (ingest key, when one is configured) | a [`WindowBatch`]; answers a [`BatchReceipt`] |
//! | `GET /api/v1/edges` | viewer token | the [`Fleet`]: every live edge, the revision it serves, stale or not |
//!
//! [`DistributedApi::run`] releases merged windows into the control plane's metrics as they
//! complete, asking etcd every second which edges are live.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use rollgate_control::ControlPlane;
use rollgate_server::{Authenticator, INGEST_KEY_HEADER, IngestKey, Problem, ProblemKind};
use rollgate_store::Role;

use crate::merge::{BatchReceipt, WindowBatch, WindowMerger};
use crate::push::WINDOWS_PATH;
use crate::registry::{Fleet, fleet};
use crate::{ClusterKeys, Etcd};

/// Largest window batch accepted.
const MAX_BATCH_BYTES: usize = 32 << 20;
/// Longest edge id accepted.
const MAX_EDGE_ID: usize = 128;
/// How often merged windows are checked for completeness.
const RELEASE_EVERY: Duration = Duration::from_millis(200);
/// How often the live edges are read from etcd.
const LIVE_EVERY: Duration = Duration::from_secs(1);
/// Edges not heard from for this long lose their de-duplication memory.
const FORGET_AFTER_MS: i64 = 15 * 60 * 1000;

/// The leader's endpoints for edges and the fleet view. Cheap to clone.
#[derive(Clone)]
pub struct DistributedApi {
    merger: Arc<Mutex<WindowMerger>>,
    control: ControlPlane,
    etcd: Etcd,
    keys: ClusterKeys,
    auth: Authenticator,
    ingest_key: Option<IngestKey>,
}

impl DistributedApi {
    /// Endpoints feeding `control`, holding an incomplete window at most `grace`.
    pub fn new(
        control: ControlPlane,
        etcd: Etcd,
        keys: ClusterKeys,
        ingest_key: Option<IngestKey>,
        grace: Duration,
    ) -> DistributedApi {
        let width = control.options().window_ms;
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        DistributedApi {
            merger: Arc::new(Mutex::new(WindowMerger::new(width, grace_ms))),
            auth: Authenticator::new(Arc::clone(control.store())),
            control,
            etcd,
            keys,
            ingest_key,
        }
    }

    /// The routes, to merge into the control plane's router.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                WINDOWS_PATH,
                post(push_windows).layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
            )
            .route("/api/v1/edges", get(list_edges))
            .with_state(self.clone())
    }

    /// Moves complete windows into the control plane until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(RELEASE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut live = BTreeSet::new();
        let mut live_read = None::<tokio::time::Instant>;
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = tick.tick() => {}
            }
            if live_read.is_none_or(|t| t.elapsed() >= LIVE_EVERY) {
                match fleet(&self.etcd, &self.keys).await {
                    Ok(f) => live = f.edges.into_iter().map(|e| e.status.edge_id).collect(),
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot list the live edges; using the last list")
                    }
                }
                live_read = Some(tokio::time::Instant::now());
            }
            let now = self.control.now();
            let ready = {
                let mut merger = self.merger.lock().unwrap_or_else(PoisonError::into_inner);
                merger.forget_edges_before(now - FORGET_AFTER_MS);
                merger.ready(now, &live)
            };
            if !ready.is_empty() {
                self.control.ingest_windows(ready);
            }
        }
    }
}

impl std::fmt::Debug for DistributedApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributedApi")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

async fn push_windows(
    State(api): State<DistributedApi>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchReceipt>, Problem> {
    if let Some(key) = &api.ingest_key {
        let presented = headers.get(INGEST_KEY_HEADER).and_then(|v| v.to_str().ok());
        if !presented.is_some_and(|p| key.matches(p)) {
            return Err(Problem::new(
                ProblemKind::Unauthorized,
                format!("send the ingest key in the {INGEST_KEY_HEADER} header"),
            ));
        }
    }
    let batch: WindowBatch = serde_json::from_slice(&body)
        .map_err(|e| Problem::new(ProblemKind::Invalid, format!("not a window batch: {e}")))?;
    if batch.edge_id.is_empty() || batch.edge_id.len() > MAX_EDGE_ID {
        return Err(Problem::new(
            ProblemKind::Invalid,
            format!("edge_id must be 1 to {MAX_EDGE_ID} bytes"),
        ));
    }
    let now = api.control.now();
    let receipt = api
        .merger
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .accept(batch, now);
    Ok(Json(receipt))
}

async fn list_edges(
    State(api): State<DistributedApi>,
    headers: HeaderMap,
) -> Result<Json<Fleet>, Problem> {
    let caller = api.auth.authenticate(&headers).await?;
    if !caller.allows(Role::Viewer) {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            "listing edges needs the viewer role",
        ));
    }
    let fleet = fleet(&api.etcd, &api.keys).await.map_err(|e| {
        Problem::new(
            ProblemKind::Unavailable,
            format!("cannot read the edges from etcd: {e}"),
        )
    })?;
    Ok(Json(fleet))
}
