//! A stored rollout spec (the JSON of a `[[rollouts]]` table) turned back into what the loop
//! runs: the controller's plan and the analysis, validated exactly as the configuration file
//! validates them.

use rollgate_analysis::{Analysis, AnalysisSpec, ConditionSpec};
use rollgate_config::{Rollout, RolloutConfig};
use rollgate_controller::{RolloutPlan, StepPlan, Steps, Strategy};
use rollgate_core::{Ppm, SpecErrors};
use rollgate_expr::{Catalog as ExprCatalog, Scope};
use rollgate_store::RolloutRecord;
use serde_json::Value;

/// A rollout ready to reconcile.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The spec as written.
    pub config: RolloutConfig,
    /// The controller's plan. For a rollout without a strategy it is a single 100% step the
    /// rollout never reaches by itself: it stays paused at its hand-set weight, and only the
    /// rollback rules (a failing critical condition, the breaker) act on their own.
    pub plan: RolloutPlan,
    /// True when the rollout has no strategy (its weight changes only by hand).
    pub manual: bool,
    /// The analysis as configured (statistically confident verdicts).
    pub analysis: Analysis,
    /// The same conditions judged on point estimates (after `min_samples`), used to let a
    /// healthy canary advance while the confident bounds are still loose (see `health.rs`).
    pub point: Analysis,
    /// What is judged at 100%, where there is no baseline (the matched slice of stable traffic
    /// is empty) and no stable traffic: only the conditions that read the canary alone,
    /// configured and on point estimates.
    pub at_full: (Analysis, Analysis),
}

/// Parses and validates a stored spec; errors carry paths relative to the rollout table
/// (`analysis.conditions[0].fail_when`, `strategy.steps[1].weight`).
pub fn compile(spec: &Value, catalog: &ExprCatalog) -> Result<Compiled, SpecErrors> {
    let mut errs = SpecErrors::new();
    let Some(config) = rollgate_config::from_json::<RolloutConfig>(spec.clone(), &mut errs) else {
        return Err(errs);
    };
    let built = config.build("", catalog, &mut errs);
    match built {
        Some(rollout) if errs.is_empty() => Ok(from_rollout(&rollout, catalog)),
        _ => Err(errs),
    }
}

/// What the configuration already built, completed with the manual plan and the point
/// analysis.
pub fn from_rollout(rollout: &Rollout, catalog: &ExprCatalog) -> Compiled {
    let config = rollout.config.clone();
    let manual = rollout.plan.is_none();
    let mut plan = rollout.plan.clone().unwrap_or_else(|| manual_plan(&config));
    // `rollgate-analysis` already applies `failure_limit` and `inconclusive_limit` (its verdict
    // fails only beyond them, and escalates itself); counting them again in the controller
    // would double them.
    plan.limits.failure_limit = 0;
    plan.limits.inconclusive_limit = 0;
    let point = point_analysis(&rollout.analysis, catalog);
    let full = canary_only(&rollout.analysis, catalog);
    let full_point = point_analysis(&full, catalog);
    Compiled {
        config,
        plan,
        manual,
        analysis: rollout.analysis.clone(),
        point,
        at_full: (full, full_point),
    }
}

/// The plan of a rollout without a strategy.
fn manual_plan(config: &RolloutConfig) -> RolloutPlan {
    let (rollback, limits) = config.analysis.control_spec().build();
    RolloutPlan {
        name: config.name.clone(),
        service: config.service.clone(),
        stable: config.stable.clone(),
        canary: config.canary.clone(),
        strategy: Strategy::Steps(Steps::new(vec![StepPlan::weight(Ppm::FULL, 0, 0)])),
        rollback,
        limits,
    }
}

/// The same analysis with every condition judged on point estimates.
fn point_analysis(analysis: &Analysis, catalog: &ExprCatalog) -> Analysis {
    let spec = AnalysisSpec {
        conditions: analysis
            .spec
            .conditions
            .iter()
            .map(|c| ConditionSpec {
                immediate: true,
                ..c.clone()
            })
            .collect(),
        ..analysis.spec.clone()
    };
    // The conditions already type-checked against this catalog; immediacy changes nothing
    // that could fail, so the configured analysis is the fallback in name only.
    spec.build(catalog).unwrap_or_else(|_| analysis.clone())
}

/// The analysis without the conditions that read the baseline or stable cohort.
fn canary_only(analysis: &Analysis, catalog: &ExprCatalog) -> Analysis {
    let alone: Vec<&str> = analysis
        .conditions
        .iter()
        .filter(|c| {
            c.condition
                .metrics()
                .iter()
                .all(|m| m.scope == Scope::Canary)
        })
        .map(|c| c.name.as_str())
        .collect();
    let spec = AnalysisSpec {
        conditions: analysis
            .spec
            .conditions
            .iter()
            .filter(|c| alone.contains(&c.name.as_str()))
            .cloned()
            .collect(),
        ..analysis.spec.clone()
    };
    // A subset of conditions that already type-checked.
    spec.build(catalog).unwrap_or_else(|_| analysis.clone())
}

/// A plan for a stored rollout whose spec cannot be compiled (a version-restore record, or a
/// spec a newer release wrote): enough for `apply_command` to refuse or abort it.
pub fn fallback_plan(record: &RolloutRecord) -> RolloutPlan {
    RolloutPlan {
        name: record.name.clone(),
        service: record.service.clone(),
        stable: record.stable.clone(),
        canary: record.canary.clone(),
        strategy: Strategy::Steps(Steps::new(vec![StepPlan::weight(Ppm::FULL, 0, 0)])),
        rollback: rollgate_controller::RollbackMode::Immediate,
        limits: rollgate_controller::Limits::default(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_config::expr_catalog;
    use rollgate_metrics::Catalog;
    use serde_json::json;

    use super::*;

    fn catalog() -> ExprCatalog {
        expr_catalog(&Catalog::builtin())
    }

    #[test]
    fn compiles_a_stored_spec_and_lists_every_problem_with_its_path() {
        let spec = json!({
            "name": "r", "service": "shop", "stable": "v1", "canary": "v2",
            "strategy": {"steps": [{"weight": "10%"}, {"weight": "100%"}]},
            "analysis": {"failure_limit": 2, "conditions": [{"name": "errors", "fail_when": "error_rate > 5%"}]}
        });
        let c = compile(&spec, &catalog()).unwrap();
        assert!(!c.manual);
        assert_eq!(c.plan.limits.failure_limit, 0, "the analysis applies it");
        assert!(c.point.conditions[0].immediate);
        assert_eq!(
            c.at_full.0.conditions.len(),
            1,
            "error_rate > 5% reads the canary alone"
        );
        assert!(!c.analysis.conditions[0].immediate);

        let typo =
            json!({"name": "r", "service": "shop", "stable": "v1", "canary": "v2", "wieght": "5%"});
        let errs = compile(&typo, &catalog()).unwrap_err();
        assert!(errs.to_string().contains("wieght"), "{errs}");
    }

    #[test]
    fn a_rollout_without_strategy_gets_the_manual_plan() {
        let spec =
            json!({"name": "r", "service": "shop", "stable": "v1", "canary": "v2", "weight": "5%"});
        let c = compile(&spec, &catalog()).unwrap();
        assert!(c.manual);
        assert_eq!(c.plan.strategy.name(), "steps");
    }
}
