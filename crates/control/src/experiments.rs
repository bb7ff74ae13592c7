//! A/B experiments: created from a spec (validated with the whole routing snapshot, so layer
//! overlaps and version routing are checked), listed, stopped. Starting or stopping one
//! publishes a new snapshot.

use rollgate_core::model::Actor;
use rollgate_core::path::{field, index};
use rollgate_core::{ExperimentSpec, SpecErrors};
use rollgate_store::{ExperimentRecord, ExperimentState};
use serde_json::Value;

use crate::error::ControlError;
use crate::plane::ControlPlane;

impl ControlPlane {
    /// Creates and starts an experiment from `spec` (an `[[experiments]]` table as JSON).
    /// Errors carry paths relative to the table.
    pub async fn create_experiment(
        &self,
        spec: Value,
        actor: Actor,
    ) -> Result<ExperimentRecord, ControlError> {
        let mut errs = SpecErrors::new();
        let read = rollgate_config::from_json::<ExperimentSpec>(spec, &mut errs);
        let experiment = match read {
            Some(experiment) if errs.is_empty() => experiment,
            _ => return Err(ControlError::Invalid(errs)),
        };
        let store = &self.inner.store;
        if let Some(existing) = store.get_experiment(&experiment.name).await? {
            return Err(ControlError::invalid(
                "name",
                format!(
                    "an experiment named {:?} already exists ({})",
                    experiment.name,
                    existing.state.as_str()
                ),
            ));
        }
        let mut routing = crate::routing::build_spec(store.as_ref()).await?;
        let i = routing.experiments.len();
        routing.experiments.push(experiment.clone());
        if let Err(errors) = routing.validate() {
            let mine = index("experiments", i);
            let mut relative = SpecErrors::new();
            for e in errors.iter() {
                if let Some(rest) = e.path.strip_prefix(&mine) {
                    relative.push(rest.trim_start_matches('.'), e.message.clone());
                } else {
                    relative.push(field("", &e.path), e.message.clone());
                }
            }
            return Err(ControlError::Invalid(relative));
        }
        let record = ExperimentRecord {
            name: experiment.name.clone(),
            spec: serde_json::to_value(&experiment).unwrap_or_default(),
            state: ExperimentState::Running,
            created_at: self.now(),
            stopped_at: None,
        };
        store.put_experiment(record.clone()).await?;
        tracing::info!(experiment = %record.name, actor = %actor, "experiment started");
        self.republish().await;
        Ok(record)
    }

    /// Every experiment, by name.
    pub async fn experiments(&self) -> Result<Vec<ExperimentRecord>, ControlError> {
        Ok(self.inner.store.list_experiments().await?)
    }

    /// One experiment, or `NotFound` with a suggestion.
    pub async fn experiment(&self, name: &str) -> Result<ExperimentRecord, ControlError> {
        if let Some(e) = self.inner.store.get_experiment(name).await? {
            return Ok(e);
        }
        let all = self.inner.store.list_experiments().await?;
        Err(ControlError::not_found(
            "experiment",
            name,
            all.iter().map(|e| e.name.as_str()),
        ))
    }

    /// Stops an experiment: its units go back to the service's default routing. Stopping a
    /// stopped experiment changes nothing.
    pub async fn stop_experiment(
        &self,
        name: &str,
        actor: Actor,
    ) -> Result<ExperimentRecord, ControlError> {
        let existing = self.experiment(name).await?;
        if existing.state == ExperimentState::Stopped {
            return Ok(existing);
        }
        let stopped = self.inner.store.stop_experiment(name, self.now()).await?;
        tracing::info!(experiment = %name, actor = %actor, "experiment stopped");
        self.republish().await;
        Ok(stopped)
    }

    /// Rebuilds and publishes the snapshot now (failures are retried by the loop).
    pub(crate) async fn republish(&self) {
        self.mark_dirty().await;
        if let Err(e) = self.refresh(false).await {
            tracing::error!(error = %e, "routing snapshot not rebuilt; retrying at the next tick");
        }
    }
}
