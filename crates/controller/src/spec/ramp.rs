//! `linear = { … }` and `exponential = { … }`.

use rollgate_core::path::field;
use rollgate_core::{DurationSpec, Ppm, SpecErrors};
use serde::{Deserialize, Serialize};

use super::{check_positive_duration, check_positive_share};
use crate::{Exponential, Linear};

/// `linear = { step = "10%", interval = "1m", back_off = "5%", max = "100%" }`: start at
/// `step`, add `step` after every healthy interval, remove `back_off` after every degraded
/// one (a non-critical condition failing, or a failure within `failure_limit`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearSpec {
    /// Added every healthy interval; also the first weight.
    pub step: Ppm,
    /// How long each weight is held before the next evaluation.
    pub interval: DurationSpec,
    /// Removed every degraded interval (default: hold instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_off: Option<Ppm>,
    /// The highest weight reached on its own (default 100%). Below 100% the rollout pauses
    /// there for a person to promote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Ppm>,
}

/// `exponential = { start = "1%", factor = 2.0, interval = "1m", max = "100%" }`: start at
/// `start` and multiply by `factor` after every healthy interval, up to `max`; divide by
/// `factor` after a degraded one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialSpec {
    /// The first weight.
    pub start: Ppm,
    /// The multiplier, greater than 1.
    pub factor: f64,
    /// How long each weight is held before the next evaluation.
    pub interval: DurationSpec,
    /// The highest weight reached on its own (default 100%). Below 100% the rollout pauses
    /// there for a person to promote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Ppm>,
}

impl LinearSpec {
    pub(crate) fn check(&self, path: &str, errs: &mut SpecErrors) {
        check_positive_share(self.step, path, "step", errs);
        check_positive_duration(self.interval, path, "interval", errs);
        if let Some(max) = self.max {
            check_positive_share(max, path, "max", errs);
        }
    }

    pub(crate) fn build(&self) -> Linear {
        Linear {
            step: self.step,
            interval_ms: self.interval.as_millis(),
            back_off: self.back_off.filter(|b| *b > Ppm::ZERO),
            max: self.max.unwrap_or(Ppm::FULL),
        }
    }
}

impl ExponentialSpec {
    pub(crate) fn check(&self, path: &str, errs: &mut SpecErrors) {
        check_positive_share(self.start, path, "start", errs);
        if !self.factor.is_finite() || self.factor <= 1.0 {
            errs.push(
                field(path, "factor"),
                format!(
                    "factor must be a number greater than 1 (2.0 doubles the weight), not {}",
                    self.factor
                ),
            );
        }
        check_positive_duration(self.interval, path, "interval", errs);
        if let Some(max) = self.max.filter(|m| *m < self.start) {
            errs.push(
                field(path, "max"),
                format!("max {max} is below start {}", self.start),
            );
        }
    }

    pub(crate) fn build(&self) -> Exponential {
        Exponential {
            start: self.start,
            factor: self.factor,
            interval_ms: self.interval.as_millis(),
            max: self.max.unwrap_or(Ppm::FULL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(check: impl FnOnce(&mut SpecErrors)) -> Vec<String> {
        let mut errs = SpecErrors::new();
        check(&mut errs);
        errs.iter().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn linear_needs_a_step_and_an_interval() {
        let bad = LinearSpec {
            step: Ppm::ZERO,
            interval: DurationSpec::ZERO,
            back_off: None,
            max: Some(Ppm::ZERO),
        };
        assert_eq!(
            paths(|e| bad.check("linear", e)),
            ["linear.step", "linear.interval", "linear.max"]
        );
        let good = LinearSpec {
            step: Ppm::percent(10),
            interval: DurationSpec::from_secs(60),
            back_off: Some(Ppm::ZERO),
            max: None,
        };
        assert!(paths(|e| good.check("linear", e)).is_empty());
        let built = good.build();
        assert_eq!(
            (built.max, built.back_off, built.interval_ms),
            (Ppm::FULL, None, 60_000)
        );
    }

    #[test]
    fn exponential_needs_a_factor_above_one() {
        for factor in [1.0, 0.5, f64::NAN, f64::INFINITY] {
            let spec = ExponentialSpec {
                start: Ppm::percent(1),
                factor,
                interval: DurationSpec::from_secs(60),
                max: None,
            };
            assert_eq!(
                paths(|e| spec.check("exponential", e)),
                ["exponential.factor"],
                "{factor}"
            );
        }
        let spec = ExponentialSpec {
            start: Ppm::percent(10),
            factor: 2.0,
            interval: DurationSpec::from_secs(60),
            max: Some(Ppm::percent(5)),
        };
        assert_eq!(paths(|e| spec.check("exponential", e)), ["exponential.max"]);
    }
}
