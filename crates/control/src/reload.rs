//! Applying a changed configuration to a running control plane (`SIGHUP`, or the file
//! changed). What a reload changes:
//!
//! - `[[services]]`: routing settings (hosts, path prefix, unit, timeouts, health checks,
//!   breaker) are rewritten; new versions are registered; a changed version keeps its stored
//!   snapshot (versions are immutable); the stable version is never changed by a reload
//!   (promotions and restores own it);
//! - `[[rollouts]]`: new names are created; stored rollouts keep their spec and state;
//! - `[[experiments]]`: new names are started; stored ones are kept (a stopped one stays
//!   stopped);
//! - `[edge] geo` and `overrides`: new routing tables are built with them.
//!
//! `[control]`, `[[metrics]]` and `[[notifications]]` take effect at the next start.

use rollgate_config::Config;
use rollgate_core::EdgeContext;

use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::view::ReloadReport;

impl ControlPlane {
    /// Applies `config` (see the module documentation for what changes) and publishes the
    /// resulting snapshot.
    pub async fn reload(
        &self,
        config: &Config,
        context: EdgeContext,
    ) -> Result<ReloadReport, ControlError> {
        let now = self.now();
        self.set_context(context).await;
        let report = crate::seed::apply(self, &config.routing, &config.rollouts, now).await?;
        if let Err(e) = self.refresh(false).await {
            tracing::error!(error = %e, "routing snapshot not rebuilt after the reload");
        }
        tracing::info!(
            new_versions = report.new_versions.len(),
            new_rollouts = report.new_rollouts.len(),
            new_experiments = report.new_experiments.len(),
            "configuration reloaded"
        );
        Ok(report)
    }
}
