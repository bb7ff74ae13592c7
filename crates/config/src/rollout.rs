//! `[[rollouts]]`: which service moves from which version to which, for whom, how fast, and
//! under which conditions it rolls back.

use rollgate_analysis::{Analysis, AnalysisSpec, ConditionSpec, SrmPolicy};
use rollgate_controller::{ControlSpec, RollbackSpec, RolloutIds, RolloutPlan, StrategySpec};
use rollgate_core::{DurationSpec, Ppm, RolloutRouteSpec, RuleSpec, SpecErrors, path::field};
use rollgate_expr::Catalog as ExprCatalog;
use serde::{Deserialize, Serialize};

/// One rollout as written in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutConfig {
    /// Unique name (`shop-v1.2`); also the default bucketing salt.
    pub name: String,
    /// The service whose traffic moves.
    pub service: String,
    /// The version serving everyone today.
    pub stable: String,
    /// The version being rolled out.
    pub canary: String,
    /// Bucketing salt (default: the rollout name). Changing it reshuffles every unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The canary weight the edge serves when no control plane drives this rollout
    /// (`rollgate edge` alone), and the weight of a rollout without a strategy. Default `0%`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Ppm>,
    /// Who may get the canary; everyone else stays on stable. Default: everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<RuleSpec>,
    /// How the weight moves (steps, linear, exponential, PID). Without one, the weight only
    /// changes by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategySpec>,
    /// What is measured and when to roll back.
    #[serde(default)]
    pub analysis: AnalysisConfig,
}

/// `[rollouts.analysis]` as written: what the analysis judges (`rollgate-analysis`) and what
/// the controller does about it (`rollgate-controller`), in one table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// False-alarm rate of the sequential tests (default 0.01).
    pub alpha: f64,
    /// Observations needed in each cohort before any verdict (default 300).
    pub min_samples: u64,
    /// Failed checks tolerated before rolling back (default 0: the first failure rolls back).
    pub failure_limit: u32,
    /// Undecided checks tolerated before asking a person (default 0: undecided only holds).
    pub inconclusive_limit: u32,
    /// Observations at which the sequential bounds are tightest (default 1000).
    pub design_samples: u64,
    /// p-value below which the sample-ratio-mismatch check alarms (default 0.001).
    pub srm_alpha: f64,
    /// What a sample-ratio mismatch does: `hold` (default) or `report`.
    pub srm: SrmPolicy,
    /// The counter the sample-ratio-mismatch check compares (default `requests`).
    pub srm_metric: String,
    /// How to roll back: `"immediate"` (default) or `{ gradual = { step = "10%", interval = "10s" } }`.
    pub rollback: RollbackSpec,
    /// Roll back when one step cannot complete within this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline: Option<DurationSpec>,
    /// Roll back when the canary's circuit breaker stays open this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_open_limit: Option<DurationSpec>,
    /// The conditions that make the canary fail.
    pub conditions: Vec<ConditionSpec>,
}

impl Default for AnalysisConfig {
    fn default() -> AnalysisConfig {
        let a = AnalysisSpec::default();
        let c = ControlSpec::default();
        AnalysisConfig {
            alpha: a.alpha,
            min_samples: a.min_samples,
            failure_limit: a.failure_limit,
            inconclusive_limit: a.inconclusive_limit,
            design_samples: a.design_samples,
            srm_alpha: a.srm_alpha,
            srm: a.srm,
            srm_metric: a.srm_metric,
            rollback: c.rollback,
            progress_deadline: c.progress_deadline,
            breaker_open_limit: c.breaker_open_limit,
            conditions: a.conditions,
        }
    }
}

impl AnalysisConfig {
    /// The analysis part.
    pub fn analysis_spec(&self) -> AnalysisSpec {
        AnalysisSpec {
            alpha: self.alpha,
            min_samples: self.min_samples,
            failure_limit: self.failure_limit,
            inconclusive_limit: self.inconclusive_limit,
            design_samples: self.design_samples,
            srm_alpha: self.srm_alpha,
            srm: self.srm,
            srm_metric: self.srm_metric.clone(),
            conditions: self.conditions.clone(),
        }
    }

    /// The controller part.
    pub fn control_spec(&self) -> ControlSpec {
        ControlSpec {
            rollback: self.rollback,
            progress_deadline: self.progress_deadline,
            breaker_open_limit: self.breaker_open_limit,
        }
    }
}

/// A validated rollout: its config, the controller's plan and the analysis that judges it.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// As written.
    pub config: RolloutConfig,
    /// How the controller moves it; `None` for a rollout without a strategy, whose weight only
    /// changes by hand.
    pub plan: Option<RolloutPlan>,
    /// The conditions, parsed and checked.
    pub analysis: Analysis,
}

impl RolloutConfig {
    /// The routing part of this rollout, at the weight the file declares.
    pub fn route(&self) -> RolloutRouteSpec {
        RolloutRouteSpec {
            name: self.name.clone(),
            service: self.service.clone(),
            stable: self.stable.clone(),
            canary: self.canary.clone(),
            salt: self.salt.clone(),
            weight: self.weight.unwrap_or(Ppm::ZERO),
            audience: self.audience.clone(),
        }
    }

    /// Builds the plan and the analysis, recording every problem under `path`
    /// (`rollouts[0]`). The routing part is validated with the whole routing spec.
    pub fn build(
        &self,
        path: &str,
        catalog: &ExprCatalog,
        errs: &mut SpecErrors,
    ) -> Option<Rollout> {
        let analysis = self
            .analysis
            .analysis_spec()
            .build(catalog)
            .map_err(|e| errs.append(e.prefixed(&field(path, "analysis"))))
            .ok();
        let plan = match &self.strategy {
            None => Some(None),
            Some(strategy) => {
                let ids = RolloutIds {
                    name: self.name.clone(),
                    service: self.service.clone(),
                    stable: self.stable.clone(),
                    canary: self.canary.clone(),
                };
                RolloutPlan::build(ids, strategy, &self.analysis.control_spec())
                    .map_err(|e| errs.append(e.prefixed(path)))
                    .ok()
                    .map(Some)
            }
        };
        Some(Rollout {
            config: self.clone(),
            plan: plan?,
            analysis: analysis?,
        })
    }
}
