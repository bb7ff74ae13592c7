//! The [`ControlPlane`] handle: what it holds, how it starts (seed the store, publish the first
//! snapshot from the store) and the loop that ticks once per window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use rollgate_config::expr_catalog;
use rollgate_core::model::UnixMillis;
use rollgate_core::{EdgeContext, RoutingSpec, RoutingTable};
use rollgate_expr::Catalog as ExprCatalog;
use rollgate_metrics::Catalog;
use rollgate_store::Store;

use crate::error::ControlError;
use crate::options::ControlOptions;
use crate::provider::MetricProvider;
use crate::publisher::SnapshotPublisher;
use crate::routing::Snapshots;
use crate::runtime::{LiveStatus, Runtime};

/// The control plane: the one place that reads and writes rollout state. Cheap to clone
/// (an `Arc` inside); every clone drives the same loop, store and snapshots.
#[derive(Clone)]
pub struct ControlPlane {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub publisher: Arc<dyn SnapshotPublisher>,
    pub provider: Arc<dyn MetricProvider>,
    pub opts: ControlOptions,
    pub expr_catalog: ExprCatalog,
    pub context: ArcSwap<EdgeContext>,
    pub routing: ArcSwap<RoutingTable>,
    pub snapshots: tokio::sync::Mutex<Snapshots>,
    /// Owned by the reconcile loop (one tick at a time).
    pub runtimes: tokio::sync::Mutex<HashMap<String, Runtime>>,
    /// What queries may read about each rollout, updated by the loop.
    pub live: Mutex<HashMap<String, LiveStatus>>,
}

impl ControlPlane {
    /// Seeds the store from the options (services, version snapshots, the first stable
    /// versions, rollouts and experiments that are not stored yet — stored rollouts keep their
    /// state, which is how a restart resumes), then builds the first routing snapshot from the
    /// store and publishes it. A publisher failure here is logged and retried by the loop.
    pub async fn start(
        opts: ControlOptions,
        store: Arc<dyn Store>,
        publisher: Arc<dyn SnapshotPublisher>,
        provider: Arc<dyn MetricProvider>,
    ) -> Result<ControlPlane, ControlError> {
        let expr_catalog = expr_catalog(&opts.catalog);
        let empty = RoutingTable::build(&RoutingSpec::default(), &opts.edge_context)
            .map_err(ControlError::Invalid)?;
        let revision = crate::routing::stored_revision(store.as_ref()).await?;
        let plane = ControlPlane {
            inner: Arc::new(Inner {
                store,
                publisher,
                provider,
                expr_catalog,
                context: ArcSwap::from_pointee(opts.edge_context.clone()),
                routing: ArcSwap::from_pointee(empty),
                snapshots: tokio::sync::Mutex::new(Snapshots::new(revision)),
                runtimes: tokio::sync::Mutex::new(HashMap::new()),
                live: Mutex::new(HashMap::new()),
                opts,
            }),
        };
        let now = plane.now();
        let routing = plane.inner.opts.routing.clone();
        let rollouts = plane.inner.opts.rollouts.clone();
        let report = crate::seed::apply(&plane, &routing, &rollouts, now).await?;
        tracing::info!(
            services = report.services.len(),
            new_versions = report.new_versions.len(),
            new_rollouts = report.new_rollouts.len(),
            new_experiments = report.new_experiments.len(),
            "store seeded from the configuration"
        );
        plane.refresh(true).await?;
        Ok(plane)
    }

    /// Runs the reconcile loop, one tick per window, until `shutdown` resolves. Never returns
    /// an error: a failing tick is logged and the next one tries again.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let width = Duration::from_millis(u64::from(self.inner.opts.window_ms.max(1)));
        let mut every = tokio::time::interval(width);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    let report = self.tick(self.now()).await;
                    if report.problems > 0 || report.publish_pending {
                        tracing::debug!(?report, "tick");
                    }
                }
                () = &mut shutdown => break,
            }
        }
        tracing::info!("control loop stopped");
    }

    /// The time by the options' clock.
    pub fn now(&self) -> UnixMillis {
        self.inner.opts.clock.now()
    }

    /// The current routing table (assignment, OFREP, event ingest). Never waits.
    pub fn routing(&self) -> Arc<RoutingTable> {
        self.inner.routing.load_full()
    }

    /// The store (tokens, raw records).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Every metric conditions and charts can use.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.opts.catalog
    }

    /// The options the plane was started with.
    pub fn options(&self) -> &ControlOptions {
        &self.inner.opts
    }

    /// The condition-language catalog (for validating specs).
    pub(crate) fn expr_catalog(&self) -> &ExprCatalog {
        &self.inner.expr_catalog
    }

    pub(crate) fn live(&self) -> MutexGuard<'_, HashMap<String, LiveStatus>> {
        self.inner
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("options", &self.inner.opts)
            .finish_non_exhaustive()
    }
}
