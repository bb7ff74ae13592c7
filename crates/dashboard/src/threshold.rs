//! Where a rollout's conditions put the failure line on a metric's chart. A comparison is
//! brought to linear form (`error_rate > 1.5 * baseline.error_rate + 1%` is
//! `error_rate − 1.5·baseline.error_rate − 1% > 0`); when the canary's metric appears with a
//! non-zero factor and everything else is a constant or the same metric of another cohort,
//! the threshold is `−(rest) / factor` at every point: a flat line for `error_rate > 5%`, a
//! line following the baseline for relative conditions. Other shapes (products of metrics,
//! other metrics) are not drawn, and the chart's verdict table still shows their numbers.

use rollgate_analysis::cohort_of;
use rollgate_core::Cohort;
use rollgate_expr::{Catalog, CmpOp, Condition, Scope};
use serde::Deserialize;
use serde_json::Value;

/// A rollout's conditions, parsed against the catalog.
#[derive(Clone, Debug, Default)]
pub(crate) struct Conditions {
    list: Vec<(String, Condition)>,
}

/// One failure line on one metric.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rule {
    /// `errors: fails when error_rate > 5%`.
    pub label: String,
    factor: f64,
    constant: f64,
    others: Vec<(Cohort, f64)>,
}

#[derive(Deserialize)]
struct SpecConditions {
    #[serde(default)]
    analysis: Option<SpecAnalysis>,
}

#[derive(Deserialize)]
struct SpecAnalysis {
    #[serde(default)]
    conditions: Vec<SpecCondition>,
}

#[derive(Deserialize)]
struct SpecCondition {
    name: String,
    fail_when: String,
}

impl Conditions {
    /// The conditions of a stored rollout spec (the `[[rollouts]]` table as JSON). A condition
    /// that no longer parses is left out (the rollout view reports it as the rollout's problem).
    pub(crate) fn of(spec: &Value, catalog: &Catalog) -> Conditions {
        let parsed: Option<SpecConditions> = serde_json::from_value(spec.clone()).ok();
        let list = parsed
            .and_then(|s| s.analysis)
            .map(|a| a.conditions)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| Some((c.name, Condition::parse(&c.fail_when, catalog).ok()?)))
            .collect();
        Conditions { list }
    }

    /// Every metric the conditions read, once each, in order of appearance.
    pub(crate) fn metrics(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.list.iter().flat_map(|(_, c)| c.metrics()) {
            if !out.contains(&m.name) {
                out.push(m.name.clone());
            }
        }
        out
    }

    /// The failure lines the conditions draw on `metric`.
    pub(crate) fn thresholds(&self, metric: &str) -> Vec<Rule> {
        let mut rules = Vec::new();
        for (name, condition) in &self.list {
            for cmp in condition.comparisons() {
                if matches!(cmp.op, CmpOp::Eq | CmpOp::Ne) {
                    continue;
                }
                let Some(linear) = cmp.linear() else { continue };
                let factor = linear.coef(Scope::Canary, metric);
                if factor == 0.0 {
                    continue;
                }
                let mut others = Vec::new();
                let drawable = linear.terms.iter().all(|t| {
                    if t.scope == Scope::Canary && t.metric == metric {
                        return true;
                    }
                    let same = t.metric == metric && t.scope != Scope::Canary;
                    if same {
                        others.push((cohort_of(t.scope), t.coef));
                    }
                    same
                });
                if !drawable {
                    continue;
                }
                let text = condition
                    .source()
                    .get(cmp.span.clone())
                    .unwrap_or(condition.source());
                rules.push(Rule {
                    label: format!("{name}: fails when {}", text.trim()),
                    factor,
                    constant: linear.constant,
                    others,
                });
            }
        }
        rules
    }
}

impl Rule {
    /// The threshold given the other cohorts' values of the metric at the same time; `None`
    /// when one it needs is missing.
    pub(crate) fn at(&self, value: impl Fn(Cohort) -> Option<f64>) -> Option<f64> {
        let mut rest = self.constant;
        for (cohort, coef) in &self.others {
            rest += coef * value(*cohort)?;
        }
        let t = -rest / self.factor;
        t.is_finite().then_some(t)
    }

    /// True when the line does not move with the data.
    pub(crate) fn is_constant(&self) -> bool {
        self.others.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use rollgate_metrics::MetricUnit;
    use serde_json::json;

    use super::*;

    fn catalog() -> Catalog {
        Catalog::new()
            .with("error_rate", MetricUnit::Ratio)
            .with("p99_latency", MetricUnit::DurationMs)
            .with("requests", MetricUnit::Count)
    }

    fn conditions(list: &[(&str, &str)]) -> Conditions {
        let conds: Vec<Value> = list
            .iter()
            .map(|(n, c)| json!({"name": n, "fail_when": c, "critical": true}))
            .collect();
        Conditions::of(
            &json!({"name": "r", "analysis": {"conditions": conds}}),
            &catalog(),
        )
    }

    #[test]
    fn constant_and_relative_thresholds() {
        let c = conditions(&[
            ("errors", "error_rate > 5%"),
            ("slow", "p99_latency > 1.5 * baseline.p99_latency"),
            (
                "rel",
                "error_rate > baseline.error_rate + 1% and requests > 500",
            ),
        ]);
        assert_eq!(c.metrics(), ["error_rate", "p99_latency", "requests"]);
        let e = c.thresholds("error_rate");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].label, "errors: fails when error_rate > 5%");
        assert!(e[0].is_constant());
        assert!((e[0].at(|_| None).unwrap() - 0.05).abs() < 1e-12);
        assert_eq!(
            e[1].label,
            "rel: fails when error_rate > baseline.error_rate + 1%"
        );
        let v = e[1]
            .at(|c| (c == Cohort::Baseline).then_some(0.02))
            .unwrap();
        assert!((v - 0.03).abs() < 1e-12, "{v}");
        assert_eq!(e[1].at(|_| None), None, "needs the baseline");
        let p = c.thresholds("p99_latency");
        assert_eq!(p.len(), 1);
        assert!((p[0].at(|_| Some(200.0)).unwrap() - 300.0).abs() < 1e-9);
        let r = c.thresholds("requests");
        assert!((r[0].at(|_| None).unwrap() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn flipped_sides_and_undrawable_shapes() {
        let c = conditions(&[
            ("flip", "5% < error_rate"),
            ("mixed", "error_rate > baseline.p99_latency / 1000ms * 1%"),
            ("product", "error_rate * requests > 10"),
        ]);
        let e = c.thresholds("error_rate");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!((e[0].at(|_| None).unwrap() - 0.05).abs() < 1e-12);
    }

    #[test]
    fn unparsable_or_missing_conditions_give_nothing() {
        let c = conditions(&[("bad", "eror_rate > 5%")]);
        assert!(c.metrics().is_empty());
        let none = Conditions::of(&json!({"name": "r"}), &catalog());
        assert!(none.thresholds("error_rate").is_empty());
    }
}
