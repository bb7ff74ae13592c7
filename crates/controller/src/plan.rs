//! The runtime value the reconcile step reads: what a rollout moves, how, and its limits.

use rollgate_core::Ppm;
use serde::{Deserialize, Serialize};

use crate::Strategy;

/// Everything the controller needs to know about a rollout that does not change while it
/// runs. Built from config by [`StrategySpec::build`](crate::StrategySpec::build) and
/// [`ControlSpec::build`](crate::ControlSpec::build); rebuilt from the stored spec after a
/// restart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutPlan {
    /// The rollout's name (`shop-v1.2`); decisions are recorded under it.
    pub name: String,
    /// The service it moves.
    pub service: String,
    /// The version traffic comes from.
    pub stable: String,
    /// The version traffic goes to; it becomes stable on promotion.
    pub canary: String,
    /// How the weight moves while healthy.
    pub strategy: Strategy,
    /// How traffic goes back to stable when the rollout fails.
    pub rollback: RollbackMode,
    /// Deadlines and tolerances.
    pub limits: Limits,
}

/// How a rollback sends canary traffic back to stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackMode {
    /// All canary traffic goes back to stable at once (the default).
    #[default]
    Immediate,
    /// The weight goes down by `step` every `interval`. The canary is buckets `[0, w)`, so the
    /// units that entered last leave first, and early adopters keep their version longest.
    Gradual {
        /// Removed every interval.
        step: Ppm,
        /// Time between two reductions, in milliseconds.
        interval_ms: u64,
    },
}

/// Deadlines and tolerances of a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Roll back when the rollout makes no progress (enters no new step, reaches no new
    /// highest weight) for this long while progressing, in milliseconds. Time paused does not
    /// count.
    pub progress_deadline_ms: Option<u64>,
    /// Roll back when the canary's circuit breaker stays open longer than this, in
    /// milliseconds.
    pub breaker_open_limit_ms: Option<u64>,
    /// Failed verdict windows tolerated before rolling back (0: the first failure rolls back);
    /// tolerated failures hold or back off. Leave it 0 when the health source already applies
    /// a failure limit, as `rollgate-analysis` does (its verdict fails only beyond it).
    pub failure_limit: u32,
    /// Consecutive inconclusive windows before pausing for a person (0: inconclusive windows
    /// just hold). Leave it 0 when the health source escalates itself
    /// ([`Health::escalate`](crate::Health::escalate)), as `rollgate-analysis` does.
    pub inconclusive_limit: u32,
}

impl Limits {
    /// The breaker-open limit used when config does not set one: one minute.
    pub const DEFAULT_BREAKER_OPEN_LIMIT_MS: u64 = 60_000;
}

impl Default for Limits {
    /// No progress deadline, the default breaker limit, no tolerated failures, inconclusive
    /// windows hold.
    fn default() -> Limits {
        Limits {
            progress_deadline_ms: None,
            breaker_open_limit_ms: Some(Limits::DEFAULT_BREAKER_OPEN_LIMIT_MS),
            failure_limit: 0,
            inconclusive_limit: 0,
        }
    }
}

impl RolloutPlan {
    /// Validates and builds the plan of a rollout from its config parts. Error paths are
    /// relative to the rollout table: `strategy.steps[2].weight`, `analysis.progress_deadline`.
    pub fn build(
        ids: RolloutIds,
        strategy: &crate::StrategySpec,
        control: &crate::ControlSpec,
    ) -> Result<RolloutPlan, rollgate_core::SpecErrors> {
        let mut errs = rollgate_core::SpecErrors::new();
        let built = strategy
            .build()
            .map_err(|e| errs.append(e.prefixed("strategy")));
        if let Err(e) = control.validate(strategy) {
            errs.append(e.prefixed("analysis"));
        }
        match built {
            Ok(strategy) if errs.is_empty() => {
                let (rollback, limits) = control.build();
                Ok(RolloutPlan {
                    name: ids.name,
                    service: ids.service,
                    stable: ids.stable,
                    canary: ids.canary,
                    strategy,
                    rollback,
                    limits,
                })
            }
            _ => Err(errs),
        }
    }
}

/// The names that identify a rollout: itself, its service and its two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutIds {
    /// The rollout's name.
    pub name: String,
    /// The service it moves.
    pub service: String,
    /// The version traffic comes from.
    pub stable: String,
    /// The version traffic goes to.
    pub canary: String,
}

#[cfg(test)]
mod tests {
    use rollgate_core::DurationSpec;

    use super::*;
    use crate::{ControlSpec, StepSpec, StrategySpec};

    fn ids() -> RolloutIds {
        RolloutIds {
            name: "shop-v1.2".into(),
            service: "shop".into(),
            stable: "v1.1".into(),
            canary: "v1.2".into(),
        }
    }

    #[test]
    fn builds_a_plan_or_lists_every_problem_under_the_rollout() {
        let good = StrategySpec::Steps(vec![
            StepSpec::weight(Ppm::percent(5)),
            StepSpec::weight(Ppm::FULL),
        ]);
        let plan = RolloutPlan::build(ids(), &good, &ControlSpec::default()).unwrap();
        assert_eq!(plan.canary, "v1.2");
        assert_eq!(plan.rollback, RollbackMode::Immediate);
        let bad = StrategySpec::Steps(vec![StepSpec::weight(Ppm::percent(5))]);
        let control = ControlSpec {
            progress_deadline: Some(DurationSpec::ZERO),
            ..ControlSpec::default()
        };
        let errs = RolloutPlan::build(ids(), &bad, &control).unwrap_err();
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["strategy.steps[0].weight", "analysis.progress_deadline"]
        );
    }
}
