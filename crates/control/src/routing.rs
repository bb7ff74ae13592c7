//! The routing snapshot, always built from the store: every service with its current stable
//! version, the versions in use, the active rollouts at their stored weights and the running
//! experiments. Built after a commit, validated into a `RoutingTable` (an invalid one is
//! logged and never published), numbered, then published; a failed publish is retried at
//! every tick.

use std::collections::BTreeSet;
use std::sync::Arc;

use rollgate_config::RolloutConfig;
use rollgate_core::{ExperimentSpec, RoutingSpec, RoutingTable, ServiceSpec, VersionSpec};
use rollgate_store::{ExperimentState, RolloutFilter, Store, StoreError};

use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::publisher::Snapshot;

/// The snapshots built and published so far.
#[derive(Debug)]
pub(crate) struct Snapshots {
    /// The last revision handed out (from the store's meta at start).
    revision: u64,
    latest: Option<Snapshot>,
    published: u64,
    /// Something was committed: rebuild from the store.
    dirty: bool,
}

impl Snapshots {
    pub fn new(revision: u64) -> Snapshots {
        Snapshots {
            revision,
            latest: None,
            published: 0,
            dirty: true,
        }
    }
}

/// The last snapshot revision recorded in the store.
pub(crate) async fn stored_revision(store: &dyn Store) -> Result<u64, ControlError> {
    let raw = store.get_meta(Snapshot::REVISION_KEY).await?;
    Ok(raw.and_then(|r| r.trim().parse().ok()).unwrap_or(0))
}

impl ControlPlane {
    /// Marks the snapshot for a rebuild from the store at the next refresh.
    pub(crate) async fn mark_dirty(&self) {
        self.inner.snapshots.lock().await.dirty = true;
    }

    /// Rebuilds the snapshot if something changed (or `force`), then publishes it unless it
    /// already is. Returns the revision published now, if any.
    pub(crate) async fn refresh(&self, force: bool) -> Result<Option<u64>, ControlError> {
        let mut snaps = self.inner.snapshots.lock().await;
        if snaps.dirty || force {
            let spec = build_spec(self.inner.store.as_ref()).await?;
            if snaps.latest.as_ref().is_none_or(|s| s.spec != spec) {
                let context = self.inner.context.load();
                let table = match RoutingTable::build(&spec, &context) {
                    Ok(t) => t,
                    Err(errors) => {
                        snaps.dirty = false;
                        tracing::error!(%errors, "the routing snapshot built from the store is invalid; the current one keeps serving");
                        return Err(ControlError::Invalid(errors));
                    }
                };
                let revision = snaps.revision + 1;
                self.inner
                    .store
                    .put_meta(Snapshot::REVISION_KEY, &revision.to_string())
                    .await?;
                snaps.revision = revision;
                snaps.latest = Some(Snapshot::new(revision, spec));
                self.inner.routing.store(Arc::new(table));
            }
            snaps.dirty = false;
        }
        let published = snaps.published;
        let Some(latest) = snaps.latest.clone().filter(|s| s.revision > published) else {
            return Ok(None);
        };
        match self.inner.publisher.publish(&latest).await {
            Ok(()) => {
                snaps.published = latest.revision;
                tracing::info!(revision = latest.revision, checksum = %latest.checksum, "routing snapshot published");
                Ok(Some(latest.revision))
            }
            Err(e) => {
                tracing::warn!(error = %e, "publishing the routing snapshot failed; retrying at the next tick");
                Ok(None)
            }
        }
    }

    /// True while a built snapshot waits to be published.
    pub(crate) async fn publish_pending(&self) -> bool {
        let snaps = self.inner.snapshots.lock().await;
        snaps.dirty
            || snaps
                .latest
                .as_ref()
                .is_some_and(|s| s.revision > snaps.published)
    }

    /// The latest snapshot built (published or not).
    pub async fn snapshot(&self) -> Option<Snapshot> {
        self.inner.snapshots.lock().await.latest.clone()
    }

    /// Rebuilds the routing table with new edge-local settings (after a reload).
    pub(crate) async fn set_context(&self, context: rollgate_core::EdgeContext) {
        self.inner.context.store(Arc::new(context));
        self.inner.snapshots.lock().await.latest = None;
        self.mark_dirty().await;
    }
}

/// The routing spec as the store says it is now.
pub(crate) async fn build_spec(store: &dyn Store) -> Result<RoutingSpec, StoreError> {
    let active = store
        .list_rollouts(&RolloutFilter {
            active_only: true,
            service: None,
        })
        .await?;
    let mut rollouts = Vec::with_capacity(active.len());
    for r in &active {
        match serde_json::from_value::<RolloutConfig>(r.spec.clone()) {
            Ok(config) => {
                let mut route = config.route();
                route.weight = r.weight;
                route.stable.clone_from(&r.stable);
                route.canary.clone_from(&r.canary);
                rollouts.push(route);
            }
            Err(e) => {
                tracing::error!(rollout = %r.name, error = %e, "stored rollout spec unreadable; left out of the snapshot")
            }
        }
    }
    let mut experiments: Vec<ExperimentSpec> = Vec::new();
    for e in store.list_experiments().await? {
        if e.state != ExperimentState::Running {
            continue;
        }
        match serde_json::from_value(e.spec.clone()) {
            Ok(spec) => experiments.push(spec),
            Err(err) => {
                tracing::error!(experiment = %e.name, error = %err, "stored experiment spec unreadable; left out of the snapshot")
            }
        }
    }
    let mut services = Vec::new();
    for record in store.list_services().await? {
        let mut spec: ServiceSpec = match serde_json::from_value(record.spec.clone()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(service = %record.name, error = %e, "stored service spec unreadable; left out of the snapshot");
                continue;
            }
        };
        let stable = store.current_stable(&spec.name).await?.map(|c| c.version);
        let mut wanted: BTreeSet<&str> = spec.versions.iter().map(|v| v.name.as_str()).collect();
        wanted.extend(stable.as_deref());
        for r in rollouts.iter().filter(|r| r.service == spec.name) {
            wanted.insert(&r.stable);
            wanted.insert(&r.canary);
        }
        for e in experiments
            .iter()
            .filter(|e| e.service.as_deref() == Some(&spec.name))
        {
            wanted.extend(e.variants.iter().filter_map(|v| v.version.as_deref()));
        }
        let order: Vec<String> = spec.versions.iter().map(|v| v.name.clone()).collect();
        let mut versions: Vec<VersionSpec> = store
            .list_versions(&spec.name)
            .await?
            .into_iter()
            .filter(|v| wanted.contains(v.snapshot.name.as_str()))
            .map(|v| VersionSpec {
                name: v.snapshot.name,
                endpoints: v.snapshot.endpoints,
                labels: v.snapshot.labels,
            })
            .collect();
        // Configured versions first, in their order; others (registered through the API) after.
        versions.sort_by_key(|v| {
            order
                .iter()
                .position(|n| *n == v.name)
                .unwrap_or(usize::MAX)
        });
        spec.versions = versions;
        spec.stable = stable;
        services.push(spec);
    }
    Ok(RoutingSpec {
        services,
        rollouts,
        experiments,
    })
}
