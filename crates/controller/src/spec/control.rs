//! The controller's part of `[rollouts.analysis]`: rollback mode, deadlines, tolerances.

use std::fmt;

use rollgate_core::path::field;
use rollgate_core::{DurationSpec, Ppm, SpecErrors, did_you_mean};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{check_positive_duration, check_positive_share};
use crate::{Limits, RollbackMode, StrategySpec};

/// `rollback = "immediate"` (the default), `rollback = "gradual"`, or
/// `rollback = { gradual = { step = "5%", interval = "10s" } }`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RollbackSpec {
    /// All canary traffic back to stable at once.
    #[default]
    Immediate,
    /// The weight goes down step by step; the units that entered last leave first.
    Gradual(GradualSpec),
}

/// The pace of a gradual rollback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradualSpec {
    /// Removed every interval (default 10%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Ppm>,
    /// Time between two reductions (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationSpec>,
}

/// The controller's settings in `[rollouts.analysis]`; every field has a default.
/// `failure_limit` and `inconclusive_limit` belong to the analysis (`rollgate-analysis`
/// applies them per condition and step), not to this table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlSpec {
    /// How traffic goes back to stable when the rollout fails.
    pub rollback: RollbackSpec,
    /// Roll back when a step cannot finish (or the weight reach a new high) in this time;
    /// time paused does not count (default: no deadline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline: Option<DurationSpec>,
    /// Roll back when the canary's circuit breaker stays open this long (default 1m).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_open_limit: Option<DurationSpec>,
}

const MODES: [&str; 2] = ["immediate", "gradual"];

impl GradualSpec {
    /// The step when none is given.
    pub const DEFAULT_STEP: Ppm = Ppm::percent(10);
    /// The interval when none is given.
    pub const DEFAULT_INTERVAL: DurationSpec = DurationSpec::from_secs(10);
}

impl ControlSpec {
    /// Every problem, with paths relative to the analysis table. `strategy` is the rollout's
    /// strategy: a progress deadline must be longer than its longest wait.
    pub fn validate(&self, strategy: &StrategySpec) -> Result<(), SpecErrors> {
        let mut errs = SpecErrors::new();
        if let RollbackSpec::Gradual(g) = self.rollback {
            let at = field("rollback", "gradual");
            if let Some(step) = g.step {
                check_positive_share(step, &at, "step", &mut errs);
            }
            if let Some(interval) = g.interval {
                check_positive_duration(interval, &at, "interval", &mut errs);
            }
        }
        if let Some(limit) = self.breaker_open_limit {
            check_positive_duration(limit, "", "breaker_open_limit", &mut errs);
        }
        if let Some(deadline) = self.progress_deadline {
            check_positive_duration(deadline, "", "progress_deadline", &mut errs);
            let longest = strategy.build().map_or(0, |s| s.longest_wait_ms());
            if !deadline.is_zero() && deadline.as_millis() <= longest {
                errs.push(
                    "progress_deadline",
                    format!(
                        "{deadline} is not longer than the strategy's longest wait ({}), so every rollout would miss it",
                        DurationSpec::from_millis(longest)
                    ),
                );
            }
        }
        errs.into_result()
    }

    /// The rollback mode and limits these settings describe.
    pub fn build(&self) -> (RollbackMode, Limits) {
        let rollback = match self.rollback {
            RollbackSpec::Immediate => RollbackMode::Immediate,
            RollbackSpec::Gradual(g) => RollbackMode::Gradual {
                step: g.step.unwrap_or(GradualSpec::DEFAULT_STEP),
                interval_ms: g
                    .interval
                    .unwrap_or(GradualSpec::DEFAULT_INTERVAL)
                    .as_millis(),
            },
        };
        let limits = Limits {
            progress_deadline_ms: self.progress_deadline.map(DurationSpec::as_millis),
            breaker_open_limit_ms: Some(self.breaker_open_limit.map_or(
                Limits::DEFAULT_BREAKER_OPEN_LIMIT_MS,
                DurationSpec::as_millis,
            )),
            ..Limits::default()
        };
        (rollback, limits)
    }
}

impl Serialize for RollbackSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Table<'a> {
            gradual: &'a GradualSpec,
        }
        match self {
            RollbackSpec::Immediate => s.serialize_str("immediate"),
            RollbackSpec::Gradual(g) => Table { gradual: g }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RollbackSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RollbackSpec, D::Error> {
        d.deserialize_any(RollbackVisitor)
    }
}

struct RollbackVisitor;

impl<'de> Visitor<'de> for RollbackVisitor {
    type Value = RollbackSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "\"immediate\", \"gradual\" or { gradual = { step = \"5%\", interval = \"10s\" } }",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RollbackSpec, E> {
        match v {
            "immediate" => Ok(RollbackSpec::Immediate),
            "gradual" => Ok(RollbackSpec::Gradual(GradualSpec::default())),
            other => Err(E::custom(unknown_mode(other))),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RollbackSpec, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "write rollback = \"immediate\" or rollback = { gradual = { … } }",
            ));
        };
        let spec = match key.as_str() {
            "gradual" => RollbackSpec::Gradual(map.next_value()?),
            "immediate" => {
                map.next_value::<de::IgnoredAny>()?;
                RollbackSpec::Immediate
            }
            other => return Err(de::Error::custom(unknown_mode(other))),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "rollback has one mode, but {extra:?} was given too"
            )));
        }
        Ok(spec)
    }
}

fn unknown_mode(name: &str) -> String {
    format!(
        "unknown rollback mode {name:?}{}: write \"immediate\" or \"gradual\"",
        did_you_mean(name, MODES)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LinearSpec, StepSpec};

    fn parse(text: &str) -> Result<ControlSpec, String> {
        toml::from_str::<ControlSpec>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn every_rollback_form_parses() {
        assert_eq!(parse("").unwrap().rollback, RollbackSpec::Immediate);
        assert_eq!(
            parse("rollback = \"immediate\"").unwrap().rollback,
            RollbackSpec::Immediate
        );
        assert_eq!(
            parse("rollback = \"gradual\"").unwrap().rollback,
            RollbackSpec::Gradual(GradualSpec::default())
        );
        let spec = parse("rollback = { gradual = { step = \"5%\", interval = \"20s\" } }").unwrap();
        let (mode, _) = spec.build();
        assert_eq!(
            mode,
            RollbackMode::Gradual {
                step: Ppm::percent(5),
                interval_ms: 20_000
            }
        );
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<ControlSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn a_misspelt_mode_gets_a_hint() {
        let err = parse("rollback = \"gradul\"").unwrap_err();
        assert!(err.contains("did you mean \"gradual\""), "{err}");
        let err = parse("rollback = { gradual = { stpe = \"5%\" } }").unwrap_err();
        assert!(err.contains("stpe"), "{err}");
        assert!(parse("rollback = { gradual = {}, immediate = {} }").is_err());
        assert!(parse("progress_dedline = \"5m\"").is_err());
    }

    #[test]
    fn defaults_build_the_documented_limits() {
        let (mode, limits) = ControlSpec::default().build();
        assert_eq!(mode, RollbackMode::Immediate);
        assert_eq!(limits, Limits::default());
        let (mode, _) = parse("rollback = \"gradual\"").unwrap().build();
        assert_eq!(
            mode,
            RollbackMode::Gradual {
                step: Ppm::percent(10),
                interval_ms: 10_000
            }
        );
    }

    #[test]
    fn the_deadline_must_outlast_the_longest_step() {
        let steps = StrategySpec::Steps(vec![
            StepSpec::weight(Ppm::percent(5)).min_duration(DurationSpec::from_secs(600)),
            StepSpec::weight(Ppm::FULL),
        ]);
        let spec = ControlSpec {
            progress_deadline: Some(DurationSpec::from_secs(300)),
            ..ControlSpec::default()
        };
        let errs = spec.validate(&steps).unwrap_err();
        assert_eq!(
            errs.iter().next().map(|e| e.path.as_str()),
            Some("progress_deadline")
        );
        let linear = StrategySpec::Linear(LinearSpec {
            step: Ppm::percent(10),
            interval: DurationSpec::from_secs(60),
            back_off: None,
            max: None,
        });
        assert!(spec.validate(&linear).is_ok());
        let zero = ControlSpec {
            breaker_open_limit: Some(DurationSpec::ZERO),
            rollback: RollbackSpec::Gradual(GradualSpec {
                step: Some(Ppm::ZERO),
                interval: Some(DurationSpec::ZERO),
            }),
            ..ControlSpec::default()
        };
        let paths: Vec<String> = zero
            .validate(&linear)
            .unwrap_err()
            .iter()
            .map(|e| e.path.clone())
            .collect();
        assert_eq!(
            paths,
            [
                "rollback.gradual.step",
                "rollback.gradual.interval",
                "breaker_open_limit"
            ]
        );
    }
}
