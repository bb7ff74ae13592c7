//! `[[rollouts]]`: which service moves from which version to which, for whom, how fast, and
//! under which conditions it rolls back.

use rollgate_core::{DurationSpec, Ppm, SpecErrors, path::field, path::index};
use rollgate_core::{RolloutRouteSpec, RuleSpec};
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
    pub strategy: Option<toml::Value>,
    /// What is measured and when to roll back.
    #[serde(default)]
    pub analysis: AnalysisConfig,
}

/// `[rollouts.analysis]` as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// False-alarm rate of the sequential tests (default 0.01).
    pub alpha: f64,
    /// Observations needed in each cohort before any verdict (default 300).
    pub min_samples: u64,
    /// Failed checks tolerated before rolling back (default 0: the first failure rolls back).
    pub failure_limit: u32,
    /// Inconclusive checks tolerated before rolling back (default 0: inconclusive only holds).
    pub inconclusive_limit: u32,
    /// How to roll back: `"immediate"` (default) or gradual.
    pub rollback: Option<toml::Value>,
    /// Roll back when one step cannot complete within this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline: Option<DurationSpec>,
    /// Roll back when the canary's circuit breaker stays open this long (default `30s`).
    pub breaker_open_limit: DurationSpec,
    /// The conditions that make the canary fail.
    pub conditions: Vec<ConditionConfig>,
}

impl Default for AnalysisConfig {
    fn default() -> AnalysisConfig {
        AnalysisConfig {
            alpha: 0.01,
            min_samples: 300,
            failure_limit: 0,
            inconclusive_limit: 0,
            rollback: None,
            progress_deadline: None,
            breaker_open_limit: DurationSpec::from_secs(30),
            conditions: Vec::new(),
        }
    }
}

/// One `[[rollouts.analysis.conditions]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    /// A short name shown in verdicts and decisions (`errors`).
    pub name: String,
    /// The condition under which the canary fails (`error_rate > 5%`).
    pub fail_when: String,
    /// When true (default), failing rolls the canary back; otherwise it is only reported.
    #[serde(default = "yes")]
    pub critical: bool,
    /// When true, judged on the point estimates of each window, without waiting for
    /// statistical confidence (still after `min_samples`).
    #[serde(default)]
    pub immediate: bool,
}

fn yes() -> bool {
    true
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

    /// Checks what the routing validation does not: the analysis settings.
    pub fn validate_into(&self, path: &str, errs: &mut SpecErrors) {
        let a = &self.analysis;
        let apath = field(path, "analysis");
        if !(a.alpha > 0.0 && a.alpha < 0.5) {
            errs.push(
                field(&apath, "alpha"),
                format!(
                    "{} is not a false-alarm rate: use a value in (0, 0.5), typically 0.01",
                    a.alpha
                ),
            );
        }
        if a.breaker_open_limit.is_zero() {
            errs.push(
                field(&apath, "breaker_open_limit"),
                "must be longer than 0s",
            );
        }
        if matches!(a.progress_deadline, Some(d) if d.is_zero()) {
            errs.push(field(&apath, "progress_deadline"), "must be longer than 0s");
        }
        let cpath = field(&apath, "conditions");
        let mut seen = std::collections::HashSet::new();
        for (i, c) in a.conditions.iter().enumerate() {
            let p = index(&cpath, i);
            if c.name.trim().is_empty() {
                errs.push(field(&p, "name"), "must not be empty");
            } else if !seen.insert(c.name.as_str()) {
                errs.push(
                    field(&p, "name"),
                    format!("duplicate condition name {:?}", c.name),
                );
            }
            if c.fail_when.trim().is_empty() {
                errs.push(
                    field(&p, "fail_when"),
                    "must not be empty: write a condition like \"error_rate > 5%\"",
                );
            }
        }
    }
}
