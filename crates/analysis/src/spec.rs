//! What the user configures (`[rollouts.analysis]`), validated whole and built into the
//! runtime [`Analysis`].

use rollgate_core::SpecErrors;
use rollgate_core::path::{field, index};
use rollgate_expr::{Catalog, Condition};
use serde::{Deserialize, Serialize};

use crate::stats::Anytime;

/// How a rollout's canary is judged: the false-alarm rate, the data needed before any verdict,
/// the conditions, and how many failed or undecided checks are tolerated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    /// False-alarm rate of every sequential test, in `(0, 0.5)`: the chance that a healthy
    /// canary is ever failed, however often it is checked. Default `0.01`.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Observations needed in every cohort a condition reads before it gets a verdict.
    /// Default `300`.
    #[serde(default = "default_min_samples")]
    pub min_samples: u64,
    /// Failed checks of a critical condition tolerated before the rollout fails. Default `0`:
    /// the first confident failure rolls back.
    #[serde(default)]
    pub failure_limit: u32,
    /// Undecided checks (after `min_samples`) tolerated before the rollout asks a person.
    /// Default `0`: undecided checks just hold the step, forever if need be.
    #[serde(default)]
    pub inconclusive_limit: u32,
    /// Observations (summed over the cohorts a test reads) at which the sequential bounds are
    /// tightest; they widen only logarithmically after it. Default `1000`.
    #[serde(default = "default_design_samples")]
    pub design_samples: u64,
    /// p-value below which the sample-ratio-mismatch check alarms. Default `0.001`.
    #[serde(default = "default_srm_alpha")]
    pub srm_alpha: f64,
    /// What a sample-ratio mismatch does: `hold` (default: no verdict but a failure can be
    /// trusted, since the data is suspect) or `report` (shown, no effect).
    #[serde(default)]
    pub srm: SrmPolicy,
    /// The counter the sample-ratio-mismatch check compares across cohorts. Default
    /// `requests`.
    #[serde(default = "default_srm_metric")]
    pub srm_metric: String,
    /// The conditions under which the canary fails.
    #[serde(default)]
    pub conditions: Vec<ConditionSpec>,
}

/// One named condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// A short name shown in verdicts (`errors`).
    pub name: String,
    /// When the canary fails, in the condition language (`error_rate > 5%`).
    pub fail_when: String,
    /// Whether failing it fails the rollout (default `true`); a non-critical condition is
    /// reported only.
    #[serde(default = "default_true")]
    pub critical: bool,
    /// Judge on point estimates, without waiting for statistical confidence (still after
    /// `min_samples`). For conditions that must act on the first bad window.
    #[serde(default)]
    pub immediate: bool,
}

/// What a sample-ratio mismatch does to the verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SrmPolicy {
    /// Hold: no passing verdict while traffic is split differently than configured.
    #[default]
    Hold,
    /// Report the mismatch only.
    Report,
}

/// A validated analysis, ready to evaluate metric snapshots.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The spec it was built from.
    pub spec: AnalysisSpec,
    /// The metrics the conditions were checked against.
    pub catalog: Catalog,
    /// The conditions, parsed and checked, in spec order.
    pub conditions: Vec<CheckedCondition>,
    pub(crate) anytime: Anytime,
}

/// A condition ready to evaluate.
#[derive(Clone, Debug)]
pub struct CheckedCondition {
    /// Its name.
    pub name: String,
    /// The parsed condition.
    pub condition: Condition,
    /// Whether failing it fails the rollout.
    pub critical: bool,
    /// Whether it is judged on point estimates.
    pub immediate: bool,
}

fn default_alpha() -> f64 {
    Anytime::DEFAULT_ALPHA
}

fn default_min_samples() -> u64 {
    300
}

fn default_design_samples() -> u64 {
    Anytime::DEFAULT_DESIGN_SAMPLES as u64
}

fn default_srm_alpha() -> f64 {
    0.001
}

fn default_srm_metric() -> String {
    "requests".to_owned()
}

fn default_true() -> bool {
    true
}

impl Default for AnalysisSpec {
    fn default() -> AnalysisSpec {
        AnalysisSpec {
            alpha: default_alpha(),
            min_samples: default_min_samples(),
            failure_limit: 0,
            inconclusive_limit: 0,
            design_samples: default_design_samples(),
            srm_alpha: default_srm_alpha(),
            srm: SrmPolicy::default(),
            srm_metric: default_srm_metric(),
            conditions: Vec::new(),
        }
    }
}

impl ConditionSpec {
    /// A critical, non-immediate condition.
    pub fn new(name: impl Into<String>, fail_when: impl Into<String>) -> ConditionSpec {
        ConditionSpec {
            name: name.into(),
            fail_when: fail_when.into(),
            critical: true,
            immediate: false,
        }
    }
}

impl AnalysisSpec {
    /// Checks every field and every condition against `catalog`, reporting every problem with
    /// its path (`conditions[1].fail_when: unknown metric …`), then builds the [`Analysis`].
    pub fn build(&self, catalog: &Catalog) -> Result<Analysis, SpecErrors> {
        let mut errors = SpecErrors::new();
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            errors.push(
                "alpha",
                format!("must be between 0 and 0.5 (e.g. 0.01), got {}", self.alpha),
            );
        }
        if self.min_samples == 0 {
            errors.push("min_samples", "must be at least 1 (e.g. 300)");
        }
        if self.design_samples == 0 {
            errors.push("design_samples", "must be at least 1 (e.g. 1000)");
        }
        if !(self.srm_alpha > 0.0 && self.srm_alpha < 1.0) {
            errors.push(
                "srm_alpha",
                format!(
                    "must be between 0 and 1 (e.g. 0.001), got {}",
                    self.srm_alpha
                ),
            );
        }
        let mut conditions = Vec::with_capacity(self.conditions.len());
        for (i, c) in self.conditions.iter().enumerate() {
            let path = index("conditions", i);
            if c.name.trim().is_empty() {
                errors.push(field(&path, "name"), "must not be empty");
            } else if self.conditions[..i].iter().any(|o| o.name == c.name) {
                errors.push(
                    field(&path, "name"),
                    format!("\"{}\" is used by an earlier condition", c.name),
                );
            }
            match Condition::parse(&c.fail_when, catalog) {
                Ok(condition) => conditions.push(CheckedCondition {
                    name: c.name.clone(),
                    condition,
                    critical: c.critical,
                    immediate: c.immediate,
                }),
                Err(e) => errors.push(
                    field(&path, "fail_when"),
                    format!("{e} at column {} of \"{}\"", e.column(), c.fail_when),
                ),
            }
        }
        let anytime = Anytime::new(self.alpha, self.design_samples as f64);
        match (errors.into_result(), anytime) {
            (Ok(()), Ok(anytime)) => Ok(Analysis {
                spec: self.clone(),
                catalog: catalog.clone(),
                conditions,
                anytime,
            }),
            (Err(errors), _) => Err(errors),
            (Ok(()), Err(e)) => {
                let mut errors = SpecErrors::new();
                errors.push("alpha", e.to_string());
                Err(errors)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rollgate_expr::MetricUnit;

    fn catalog() -> Catalog {
        Catalog::new()
            .with("error_rate", MetricUnit::Ratio)
            .with("p99_latency", MetricUnit::DurationMs)
    }

    #[test]
    fn defaults_follow_the_documentation() {
        let spec: AnalysisSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(spec, AnalysisSpec::default());
        assert_eq!(
            (spec.alpha, spec.min_samples, spec.srm_alpha),
            (0.01, 300, 0.001)
        );
        let c: ConditionSpec =
            serde_json::from_str(r#"{"name": "errors", "fail_when": "error_rate > 5%"}"#).unwrap();
        assert_eq!(c, ConditionSpec::new("errors", "error_rate > 5%"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_str::<AnalysisSpec>(r#"{"alpah": 0.01}"#).is_err());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let spec = AnalysisSpec {
            alpha: 0.7,
            min_samples: 0,
            conditions: vec![
                ConditionSpec::new("errors", "eror_rate > 5%"),
                ConditionSpec::new("errors", "p99_latency > 200ms"),
                ConditionSpec::new("", "error_rate > 5"),
            ],
            ..AnalysisSpec::default()
        };
        let errors = spec.build(&catalog()).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "alpha",
                "min_samples",
                "conditions[0].fail_when",
                "conditions[1].name",
                "conditions[2].name",
                "conditions[2].fail_when"
            ]
        );
        assert!(errors.to_string().contains("error_rate"), "{errors}");
    }

    #[test]
    fn builds_checked_conditions() {
        let spec = AnalysisSpec {
            conditions: vec![ConditionSpec::new(
                "latency",
                "p99_latency > 1.5 * baseline.p99_latency",
            )],
            ..AnalysisSpec::default()
        };
        let analysis = spec.build(&catalog()).unwrap();
        assert_eq!(analysis.conditions.len(), 1);
        assert!(analysis.conditions[0].critical);
    }
}
