//! `pid = { … }`.

use rollgate_core::path::field;
use rollgate_core::{DurationSpec, Ppm, SpecErrors};
use serde::{Deserialize, Serialize};

use super::{check_gain, check_positive_duration, check_positive_share};
use crate::Pid;

/// `pid = { metric = "error_rate", threshold = "2%", kp = 2.0, ki = 0.2, kd = 0.0,
/// interval = "10s", max_step = "20%" }`: every interval the weight moves by up to
/// `max_step`, fast while `metric` is far below `threshold`, slower as it approaches it, and
/// back down once it is above it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PidSpec {
    /// The controlling metric: a ratio such as `error_rate` (its value is a share).
    pub metric: String,
    /// The metric value the controller steers away from. Keep it below the value at which a
    /// condition fails, so the controller backs off before the analysis rolls back.
    pub threshold: Ppm,
    /// Proportional gain: how strongly the current margin drives the weight.
    pub kp: f64,
    /// Integral gain, per interval: how strongly a lasting margin drives it (default 0).
    #[serde(default)]
    pub ki: f64,
    /// Derivative gain, per interval: how strongly a changing margin damps it (default 0).
    #[serde(default)]
    pub kd: f64,
    /// How often the controller acts.
    pub interval: DurationSpec,
    /// The largest change of weight in one interval.
    pub max_step: Ppm,
    /// The first weight (default 1%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Ppm>,
}

impl PidSpec {
    /// The first weight when `start` is not given.
    pub const DEFAULT_START: Ppm = Ppm::percent(1);

    pub(crate) fn check(&self, path: &str, errs: &mut SpecErrors) {
        if self.metric.trim().is_empty() {
            errs.push(
                field(path, "metric"),
                "name the controlling metric, e.g. metric = \"error_rate\"",
            );
        }
        check_positive_share(self.threshold, path, "threshold", errs);
        check_gain(self.kp, path, "kp", errs);
        check_gain(self.ki, path, "ki", errs);
        check_gain(self.kd, path, "kd", errs);
        if self.kp == 0.0 && self.ki == 0.0 {
            errs.push(
                field(path, "kp"),
                "kp and ki are both 0, so the weight would never move: set kp (e.g. 2.0)",
            );
        }
        check_positive_duration(self.interval, path, "interval", errs);
        check_positive_share(self.max_step, path, "max_step", errs);
        if let Some(start) = self.start {
            check_positive_share(start, path, "start", errs);
        }
    }

    pub(crate) fn build(&self) -> Pid {
        Pid {
            metric: self.metric.trim().to_string(),
            threshold: self.threshold,
            kp: self.kp,
            ki: self.ki,
            kd: self.kd,
            interval_ms: self.interval.as_millis(),
            max_step: self.max_step,
            start: self.start.unwrap_or(PidSpec::DEFAULT_START),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PidSpec {
        PidSpec {
            metric: "error_rate".into(),
            threshold: Ppm::percent(2),
            kp: 2.0,
            ki: 0.2,
            kd: 0.0,
            interval: DurationSpec::from_secs(10),
            max_step: Ppm::percent(20),
            start: None,
        }
    }

    fn paths(spec: &PidSpec) -> Vec<String> {
        let mut errs = SpecErrors::new();
        spec.check("pid", &mut errs);
        errs.iter().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn the_example_is_valid_and_starts_at_one_percent() {
        assert!(paths(&spec()).is_empty());
        let built = spec().build();
        assert_eq!(built.start, Ppm::percent(1));
        assert_eq!(built.interval_ms, 10_000);
    }

    #[test]
    fn gains_must_be_finite_and_not_negative() {
        let bad = PidSpec {
            metric: " ".into(),
            threshold: Ppm::ZERO,
            kp: -1.0,
            ki: f64::NAN,
            kd: f64::INFINITY,
            interval: DurationSpec::ZERO,
            max_step: Ppm::ZERO,
            start: Some(Ppm::ZERO),
        };
        assert_eq!(
            paths(&bad),
            [
                "pid.metric",
                "pid.threshold",
                "pid.kp",
                "pid.ki",
                "pid.kd",
                "pid.interval",
                "pid.max_step",
                "pid.start"
            ]
        );
        let still = PidSpec {
            kp: 0.0,
            ki: 0.0,
            ..spec()
        };
        assert_eq!(paths(&still), ["pid.kp"]);
    }
}
