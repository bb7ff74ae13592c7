//! Bringing the store in line with the configuration, at start and on reload. Additive and
//! safe to repeat: service specs are rewritten, new version snapshots and the first stable
//! version are recorded, rollouts and experiments that are not stored yet are created. Nothing
//! stored is undone: a stored rollout keeps its state (a restart resumes it), a version keeps
//! its snapshot (versions are immutable), a stable version set by a promotion or a restore
//! stays, a stopped experiment stays stopped.

use rollgate_config::Rollout;
use rollgate_core::model::{Actor, UnixMillis, VersionSnapshot};
use rollgate_core::{RoutingSpec, ServiceSpec};
use rollgate_store::{ExperimentRecord, ExperimentState, ServiceRecord, StableChange, StoreError};

use crate::compile::from_rollout;
use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::view::ReloadReport;

/// Who config-made records are attributed to.
pub const CONFIG: &str = "config";

/// Applies the configuration's services, versions, rollouts and experiments to the store.
pub(crate) async fn apply(
    plane: &ControlPlane,
    routing: &RoutingSpec,
    rollouts: &[Rollout],
    now: UnixMillis,
) -> Result<ReloadReport, ControlError> {
    let mut report = ReloadReport::default();
    for service in &routing.services {
        seed_service(plane, service, now, &mut report).await?;
    }
    for rollout in rollouts {
        let name = &rollout.config.name;
        if let Some(stored) = plane.inner.store.get_rollout(name).await? {
            let changed = serde_json::to_value(&rollout.config).ok() != Some(stored.spec.clone());
            let note = if changed {
                tracing::warn!(rollout = %name, "the configuration changed this rollout, but it is already stored: the stored spec and state are kept (give the new rollout a new name)");
                format!(
                    "rollout {name}: already stored ({}); its configuration changed but the stored spec is kept",
                    stored.phase
                )
            } else {
                format!("rollout {name}: already stored ({}), resumed", stored.phase)
            };
            report.kept.push(note);
            continue;
        }
        let compiled = from_rollout(rollout, plane.expr_catalog());
        match plane
            .insert_rollout(compiled, &Actor::User(CONFIG.into()), now)
            .await
        {
            Ok(_) => report.new_rollouts.push(name.clone()),
            Err(ControlError::Invalid(errors)) => {
                tracing::error!(rollout = %name, %errors, "rollout from the configuration not created");
                report
                    .kept
                    .push(format!("rollout {name}: not created: {errors}"));
            }
            Err(e) => return Err(e),
        }
    }
    for experiment in &routing.experiments {
        if plane
            .inner
            .store
            .get_experiment(&experiment.name)
            .await?
            .is_some()
        {
            continue;
        }
        plane
            .inner
            .store
            .put_experiment(ExperimentRecord {
                name: experiment.name.clone(),
                spec: serde_json::to_value(experiment).unwrap_or_default(),
                state: ExperimentState::Running,
                created_at: now,
                stopped_at: None,
            })
            .await?;
        report.new_experiments.push(experiment.name.clone());
    }
    plane.mark_dirty().await;
    Ok(report)
}

async fn seed_service(
    plane: &ControlPlane,
    service: &ServiceSpec,
    now: UnixMillis,
    report: &mut ReloadReport,
) -> Result<(), ControlError> {
    let store = &plane.inner.store;
    store
        .put_service(ServiceRecord {
            name: service.name.clone(),
            spec: serde_json::to_value(service).unwrap_or_default(),
            updated_at: now,
        })
        .await?;
    report.services.push(service.name.clone());
    for v in &service.versions {
        let snapshot = VersionSnapshot {
            service: service.name.clone(),
            name: v.name.clone(),
            endpoints: v.endpoints.clone(),
            labels: v.labels.clone(),
            created_at: now,
            created_by: CONFIG.into(),
        };
        match store.get_version(&service.name, &v.name).await? {
            Some(stored) if stored.endpoints == v.endpoints && stored.labels == v.labels => {}
            Some(_) => {
                tracing::warn!(service = %service.name, version = %v.name, "the configuration changed this version, but versions are immutable: the stored snapshot keeps serving (register the change under a new version name)");
                report.kept.push(format!(
                    "version {}/{}: changed in the configuration; the stored snapshot is kept (versions are immutable)",
                    service.name, v.name
                ));
            }
            None => match store.put_version(snapshot).await {
                Ok(_) => report
                    .new_versions
                    .push(format!("{}/{}", service.name, v.name)),
                Err(StoreError::VersionExists { .. }) => {}
                Err(e) => return Err(e.into()),
            },
        }
    }
    if store.current_stable(&service.name).await?.is_none() {
        let version = service
            .stable
            .clone()
            .or_else(|| service.versions.first().map(|v| v.name.clone()));
        if let Some(version) = version {
            store
                .record_stable(StableChange {
                    service: service.name.clone(),
                    version,
                    since: now,
                    actor: Actor::User(CONFIG.into()),
                    reason: "the first stable version, from the configuration".into(),
                })
                .await?;
        }
    }
    Ok(())
}
