//! Versions: registering a new immutable snapshot, and restoring an earlier one as stable
//! (`rollgate version restore SERVICE VERSION`), recorded like every other decision.

use rollgate_controller::{Restore, restore_version};
use rollgate_core::model::{Actor, Phase, VersionSnapshot};
use rollgate_core::{ServiceSpec, SpecErrors, VersionSpec};
use rollgate_store::{RolloutCommit, RolloutFilter, RolloutRecord, StoreError};
use serde_json::json;

use crate::commands::{COMMAND_ATTEMPTS, stored_state};
use crate::commit::stable_change;
use crate::compile::{compile, fallback_plan};
use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::view::RestoreOutcome;

impl ControlPlane {
    /// Registers a version snapshot of an existing service (`created_at` and `created_by` are
    /// set here, from the clock and `actor`). Registering the same endpoints and labels again
    /// returns the stored snapshot; different content under a stored name is refused (versions
    /// are immutable).
    pub async fn create_version(
        &self,
        version: VersionSnapshot,
        actor: Actor,
    ) -> Result<VersionSnapshot, ControlError> {
        let store = &self.inner.store;
        let Some(service) = store.get_service(&version.service).await? else {
            let all = store.list_services().await?;
            return Err(ControlError::not_found(
                "service",
                &version.service,
                all.iter().map(|s| s.name.as_str()),
            ));
        };
        check_version(&service.spec, &version)?;
        if let Some(stored) = store.get_version(&version.service, &version.name).await? {
            if stored.endpoints == version.endpoints && stored.labels == version.labels {
                return Ok(stored);
            }
            return Err(ControlError::invalid(
                "name",
                format!(
                    "version {:?} of {:?} already exists with other endpoints or labels; versions are immutable, register the change under a new name",
                    version.name, version.service
                ),
            ));
        }
        let snapshot = VersionSnapshot {
            created_at: self.now(),
            created_by: actor_name(&actor),
            ..version
        };
        match store.put_version(snapshot.clone()).await {
            Ok(_) => {}
            Err(StoreError::VersionExists { .. }) => {
                return Err(ControlError::invalid(
                    "name",
                    "registered concurrently with other content; versions are immutable",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(service = %snapshot.service, version = %snapshot.name, actor = %actor, "version registered");
        Ok(snapshot)
    }

    /// Makes `version` the stable version of `service` again. A rollout running on the service
    /// is aborted first (its canary was measured against the old stable version); then a
    /// `restore-SERVICE-VERSION-MILLIS` record with one `restore` decision naming `actor` is
    /// committed together with the stable change; then the snapshot is published.
    pub async fn restore_version(
        &self,
        service: &str,
        version: &str,
        actor: Actor,
    ) -> Result<RestoreOutcome, ControlError> {
        for _ in 0..COMMAND_ATTEMPTS {
            match self.try_restore(service, version, &actor).await {
                Err(ControlError::Store(StoreError::Conflict { .. })) => continue,
                other => return other,
            }
        }
        Err(ControlError::Conflict {
            rollout: format!("restore of {service}"),
            attempts: COMMAND_ATTEMPTS,
        })
    }

    async fn try_restore(
        &self,
        service: &str,
        version: &str,
        actor: &Actor,
    ) -> Result<RestoreOutcome, ControlError> {
        let store = &self.inner.store;
        self.find_service(service).await?;
        let Some(current) = store.current_stable(service).await? else {
            return Err(ControlError::invalid(
                "service",
                format!("{service:?} has no stable version yet; nothing to restore from"),
            ));
        };
        let Some(target) = store.get_version(service, version).await? else {
            let all = store.list_versions(service).await?;
            return Err(ControlError::not_found(
                "version",
                version,
                all.iter().map(|v| v.snapshot.name.as_str()),
            ));
        };
        let running = store
            .list_rollouts(&RolloutFilter {
                active_only: true,
                service: Some(service.to_string()),
            })
            .await?
            .into_iter()
            .next();
        let running_parts = match &running {
            Some(r) => {
                let plan = compile(&r.spec, self.expr_catalog())
                    .map_or_else(|_| fallback_plan(r), |c| c.plan);
                Some((plan, stored_state(r)?))
            }
            None => None,
        };
        let now = self.now();
        let Restore {
            abort,
            plan,
            record,
        } = restore_version(
            service,
            &current.version,
            &target,
            running_parts.as_ref().map(|(p, s)| (p, s)),
            actor,
            now,
        )?;
        let mut transitions = Vec::new();
        let mut aborted = None;
        if let (Some(t), Some(r)) = (abort, running.as_ref()) {
            let stored = self.commit_transition(r, &t, now).await?;
            aborted = Some(stored);
            transitions.push(t);
        }
        let restore_record = RolloutRecord {
            name: plan.name.clone(),
            service: service.to_string(),
            spec: json!({ "restore": { "service": service, "from": current.version, "to": target.name } }),
            state: serde_json::to_value(&record.state).unwrap_or_default(),
            phase: Phase::Promoted,
            weight: record.state.weight,
            stable: current.version.clone(),
            canary: target.name.clone(),
            revision: 0,
            created_at: now,
            updated_at: now,
            next_seq: 0,
        };
        let mut commit = RolloutCommit::create(restore_record, record.decisions.clone());
        if let Some(change) = stable_change(&record, now) {
            commit = commit.with_stable_change(change);
        }
        let mut stored = commit.record.clone();
        let decisions = commit.decisions.clone();
        let outcome = store.commit(commit).await?;
        stored.revision = outcome.revision;
        crate::commit::log_decisions(&decisions, &outcome.decision_ids);
        transitions.push(record);
        self.mark_dirty().await;
        self.after_commits(&transitions).await;
        Ok(RestoreOutcome {
            service: service.to_string(),
            stable: target.name.clone(),
            previous: current.version,
            aborted: aborted.map(|r| self.view_of(&r)),
            record: self.view_of(&stored),
        })
    }
}

/// Validates a version against its service's spec (name, endpoints), errors under the
/// version's fields.
fn check_version(
    service_spec: &serde_json::Value,
    v: &VersionSnapshot,
) -> Result<(), ControlError> {
    let Ok(mut spec) = serde_json::from_value::<ServiceSpec>(service_spec.clone()) else {
        return Ok(());
    };
    spec.versions = vec![VersionSpec {
        name: v.name.clone(),
        endpoints: v.endpoints.clone(),
        labels: v.labels.clone(),
    }];
    spec.stable = None;
    let mut errs = SpecErrors::new();
    spec.validate_into("", &mut errs);
    let mine: Vec<_> = errs
        .into_vec()
        .into_iter()
        .filter_map(|e| {
            let rest = e.path.strip_prefix("versions[0]")?;
            Some((rest.trim_start_matches('.').to_string(), e.message))
        })
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    let mut errs = SpecErrors::new();
    for (path, message) in mine {
        errs.push(path, message);
    }
    Err(ControlError::Invalid(errs))
}

/// The name recorded as `created_by`.
fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::Controller => "controller".into(),
        Actor::User(name) => name.clone(),
    }
}
