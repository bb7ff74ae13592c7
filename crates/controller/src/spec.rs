//! The config side: `[rollouts.strategy]` and the controller's part of `[rollouts.analysis]`
//! as serde types, validated whole (every problem with its path) and built into runtime
//! values.
//!
//! Paths in errors are relative to the strategy table (`steps[2].weight`, `linear.interval`)
//! or to the analysis table (`progress_deadline`, `rollback.gradual.step`); the config crate
//! puts `rollouts[i].strategy` / `rollouts[i].analysis` in front.

mod control;
mod pid;
mod ramp;
mod steps;

use rollgate_core::path::field;
use rollgate_core::{DurationSpec, Ppm, SpecErrors};
use serde::{Deserialize, Serialize};

use crate::Strategy;

pub use control::{ControlSpec, GradualSpec, RollbackSpec};
pub use pid::PidSpec;
pub use ramp::{ExponentialSpec, LinearSpec};
pub use steps::{PauseSpec, StepSpec};

/// `[rollouts.strategy]`: exactly one of `steps`, `linear`, `exponential` or `pid`.
///
/// ```toml
/// [rollouts.strategy]
/// steps = [ { weight = "1%", min_duration = "30s", min_samples = 500 }, { pause = {} }, { weight = "100%" } ]
/// # linear = { step = "10%", interval = "1m", back_off = "5%", max = "100%" }
/// # exponential = { start = "1%", factor = 2.0, interval = "1m", max = "100%" }
/// # pid = { metric = "error_rate", threshold = "2%", kp = 2.0, ki = 0.2, kd = 0.0, interval = "10s", max_step = "20%" }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StrategySpec {
    /// Explicit steps, walked in order; the last weight step must be 100%.
    Steps(Vec<StepSpec>),
    /// `+step` every healthy interval, `-back_off` every degraded one.
    Linear(LinearSpec),
    /// The weight multiplied by `factor` every healthy interval, up to `max`.
    Exponential(ExponentialSpec),
    /// A PID controller: the weight's rate follows the margin of a metric to its threshold.
    Pid(PidSpec),
}

impl StrategySpec {
    /// Every problem in the strategy, with paths relative to the strategy table.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut errs = SpecErrors::new();
        match self {
            StrategySpec::Steps(steps) => steps::validate(steps, "steps", &mut errs),
            StrategySpec::Linear(l) => l.check("linear", &mut errs),
            StrategySpec::Exponential(e) => e.check("exponential", &mut errs),
            StrategySpec::Pid(p) => p.check("pid", &mut errs),
        }
        errs.into_result()
    }

    /// The runtime strategy, after [`validate`](Self::validate) found nothing wrong.
    pub fn build(&self) -> Result<Strategy, SpecErrors> {
        self.validate()?;
        Ok(match self {
            StrategySpec::Steps(steps) => Strategy::Steps(steps::build(steps)),
            StrategySpec::Linear(l) => Strategy::Linear(l.build()),
            StrategySpec::Exponential(e) => Strategy::Exponential(e.build()),
            StrategySpec::Pid(p) => Strategy::Pid(p.build()),
        })
    }
}

/// Records an error unless `d` is longer than zero.
pub(crate) fn check_positive_duration(
    d: DurationSpec,
    path: &str,
    name: &str,
    errs: &mut SpecErrors,
) {
    if d.is_zero() {
        errs.push(field(path, name), format!("{name} must be longer than 0s"));
    }
}

/// Records an error unless `p` is above 0%.
pub(crate) fn check_positive_share(p: Ppm, path: &str, name: &str, errs: &mut SpecErrors) {
    if p == Ppm::ZERO {
        errs.push(field(path, name), format!("{name} must be above 0%"));
    }
}

/// Records an error unless `x` is a finite number at least 0.
pub(crate) fn check_gain(x: f64, path: &str, name: &str, errs: &mut SpecErrors) {
    if !x.is_finite() || x < 0.0 {
        errs.push(
            field(path, name),
            format!("{name} must be a finite number ≥ 0, not {x}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        strategy: StrategySpec,
    }

    fn parse(toml_text: &str) -> Result<StrategySpec, String> {
        toml::from_str::<Doc>(toml_text)
            .map(|d| d.strategy)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses_every_strategy_of_the_example_config() {
        let steps = parse(
            r#"[strategy]
            steps = [
              { weight = "1%", min_duration = "30s", min_samples = 500 },
              { weight = "5%", min_duration = "1m" },
              { pause = {} },
              { pause = { duration = "10m" } },
              { weight = "100%" },
            ]"#,
        )
        .unwrap();
        assert!(matches!(&steps, StrategySpec::Steps(s) if s.len() == 5));
        assert!(steps.build().is_ok());
        for line in [
            r#"linear = { step = "10%", interval = "1m", back_off = "5%", max = "100%" }"#,
            r#"exponential = { start = "1%", factor = 2.0, interval = "1m", max = "100%" }"#,
            r#"pid = { metric = "error_rate", threshold = "2%", kp = 2.0, ki = 0.2, kd = 0.0, interval = "10s", max_step = "20%" }"#,
        ] {
            let spec = parse(&format!("[strategy]\n{line}")).unwrap();
            assert!(spec.build().is_ok(), "{line}");
        }
    }

    #[test]
    fn rejects_unknown_keys_and_two_strategies() {
        let err =
            parse("[strategy]\nlinear = { step = \"10%\", interval = \"1m\", bakc_off = \"5%\" }")
                .unwrap_err();
        assert!(err.contains("bakc_off"), "{err}");
        let err = parse("[strategy]\nramp = {}").unwrap_err();
        assert!(err.contains("ramp"), "{err}");
        assert!(parse(
            "[strategy]\nlinear = { step = \"10%\", interval = \"1m\" }\nexponential = { start = \"1%\", factor = 2.0, interval = \"1m\" }"
        )
        .is_err());
    }

    #[test]
    fn build_refuses_an_invalid_strategy() {
        let spec = StrategySpec::Steps(vec![]);
        let errs = spec.build().unwrap_err();
        assert_eq!(errs.iter().next().map(|e| e.path.as_str()), Some("steps"));
    }

    #[test]
    fn round_trips_through_json() {
        let spec =
            parse("[strategy]\nexponential = { start = \"1%\", factor = 2.0, interval = \"1m\" }")
                .unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        let back: StrategySpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
    }
}
