//! The verdict on one condition at one look: gate on sample sizes, judge every comparison,
//! combine them in three-valued logic, and explain the result in one line.

use rollgate_core::model::Outcome;
use rollgate_expr::{Expr, ExprKind, LogicOp, Observation, Scope, Truth, Type};
use rollgate_metrics::SufficientStats;
use serde::{Deserialize, Serialize};

use crate::comparison::{ComparisonVerdict, Judge, Method, Shape};
use crate::document::{RolloutMetrics, cohort_of};
use crate::format::{confidence, p_value, thousands};
use crate::spec::{Analysis, CheckedCondition};
use crate::values::{IntervalEnv, MetricReading};

/// The verdict on one condition at one look, with the numbers that produced it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionVerdict {
    /// The condition's name.
    pub name: String,
    /// The condition as written.
    pub condition: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Whether a failure fails the rollout.
    pub critical: bool,
    /// Whether it was judged on point estimates.
    pub immediate: bool,
    /// True when a cohort had fewer than `min_samples` observations (or none).
    pub waiting_for_data: bool,
    /// Every metric the condition reads, with its bounds at the level used.
    pub values: Vec<MetricReading>,
    /// The canary against the comparison cohort on the condition's first metric.
    pub effect: Option<Effect>,
    /// The comparisons, left to right.
    pub comparisons: Vec<ComparisonVerdict>,
    /// The p-value behind the outcome (evidence for the failure condition when it failed or
    /// is undecided, against it when it passed), when a test produced one.
    pub p_value: Option<f64>,
    /// The false-alarm rate each statistic of the condition was held to (α split evenly
    /// across the statistics that could declare it true).
    pub alpha: f64,
    /// One line for people: `error_rate 6.1% vs baseline 0.9% (n=1,204 vs 1,198), fails
    /// "error_rate > 5%"; sequential p=0.0003`.
    pub reason: String,
    /// Failed checks of this condition so far in the run (including this one).
    pub failures: u32,
    /// Undecided checks with enough data so far in the run (including this one).
    pub inconclusives: u32,
}

/// The canary's value of a metric against another cohort's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// The metric.
    pub metric: String,
    /// The cohort compared with (the baseline unless the condition reads the stable cohort).
    pub against: Scope,
    /// The canary's value.
    pub canary: f64,
    /// The other cohort's value.
    pub other: f64,
    /// `canary − other`, in the metric's unit.
    pub absolute: f64,
    /// `canary / other − 1`; `None` when `other` is 0.
    pub relative: Option<f64>,
}

impl Analysis {
    /// The verdict on one condition over `doc` (no history: counts are left at 0).
    pub fn judge_condition(&self, cc: &CheckedCondition, doc: &RolloutMetrics) -> ConditionVerdict {
        let comparisons = cc.condition.comparisons();
        let shapes: Vec<Shape> = comparisons.iter().map(|c| Shape::of(c, doc)).collect();
        let tests = shapes.iter().map(Shape::tests).sum::<usize>().max(1);
        let env = IntervalEnv::new(doc, self.anytime.split(tests), cc.condition.metrics());
        let mut verdict = ConditionVerdict {
            name: cc.name.clone(),
            condition: cc.condition.source().to_owned(),
            outcome: Outcome::Inconclusive,
            critical: cc.critical,
            immediate: cc.immediate,
            waiting_for_data: false,
            values: cc
                .condition
                .metrics()
                .iter()
                .map(|m| env.reading(m.scope, &m.name))
                .collect(),
            effect: effect(cc, doc),
            comparisons: Vec::new(),
            p_value: None,
            alpha: env.anytime().alpha(),
            reason: String::new(),
            failures: 0,
            inconclusives: 0,
        };
        if let Some(waiting) = self.waiting(&verdict.values, doc, cc) {
            verdict.waiting_for_data = true;
            verdict.reason = waiting;
            return verdict;
        }
        let by_interval = cc.condition.explain(&env).comparisons;
        let by_point = cc.condition.explain_point(&env).comparisons;
        for (i, (cmp, shape)) in comparisons.iter().zip(&shapes).enumerate() {
            let (Some(interval), Some(point)) = (by_interval.get(i), by_point.get(i)) else {
                continue;
            };
            let judge = Judge {
                anytime: env.anytime(),
                immediate: cc.immediate,
                interval,
                point,
            };
            verdict.comparisons.push(judge.judge(cmp, shape));
        }
        let mut truths = verdict.comparisons.iter().map(|c| c.truth);
        verdict.outcome = match combine(cc.condition.expr(), &mut truths) {
            Truth::True => Outcome::Fail,
            Truth::False => Outcome::Pass,
            Truth::Unknown => Outcome::Inconclusive,
        };
        verdict.p_value = deciding_p(&verdict);
        verdict.reason = self.reason(&verdict, doc, &by_point);
        verdict
    }

    /// `Some(reason)` when a metric is missing or a cohort has fewer than `min_samples`.
    fn waiting(
        &self,
        values: &[MetricReading],
        doc: &RolloutMetrics,
        cc: &CheckedCondition,
    ) -> Option<String> {
        let missing: Vec<String> = values
            .iter()
            .filter(|r| r.value.is_none())
            .map(|r| scoped_name(r.scope, &r.metric))
            .collect();
        if !missing.is_empty() {
            return Some(format!("no data yet for {}", missing.join(", ")));
        }
        let min = self.spec.min_samples;
        let mut short: Vec<(Scope, u64)> = Vec::new();
        for (r, m) in values.iter().zip(cc.condition.metrics()) {
            let counter = doc
                .value(cohort_of(m.scope), &m.name)
                .is_some_and(|v| matches!(v.stats, SufficientStats::Count { .. }));
            if counter || r.samples >= min {
                continue;
            }
            match short.iter_mut().find(|(s, _)| *s == r.scope) {
                Some((_, n)) => *n = (*n).min(r.samples),
                None => short.push((r.scope, r.samples)),
            }
        }
        if short.is_empty() {
            return None;
        }
        let list: Vec<String> = short
            .iter()
            .map(|(s, n)| format!("{} n={}", s.name(), thousands(*n)))
            .collect();
        Some(format!(
            "waiting for data: {} < {}",
            list.join(", "),
            thousands(min)
        ))
    }

    fn reason(&self, v: &ConditionVerdict, doc: &RolloutMetrics, points: &[Observation]) -> String {
        let summary = self.summary(v, doc);
        let verb = match v.outcome {
            Outcome::Fail => "fails",
            Outcome::Pass => "passes",
            Outcome::Inconclusive => "undecided on",
        };
        let detail = self.detail(v, points);
        format!("{summary}, {verb} \"{}\"{detail}", v.condition)
    }

    /// `error_rate 6.1% vs baseline 0.9% (n=1,204 vs 1,198)` for the condition's first metric.
    fn summary(&self, v: &ConditionVerdict, doc: &RolloutMetrics) -> String {
        let Some(first) = v.values.first() else {
            return "constant condition".to_owned();
        };
        let ty = self
            .catalog
            .unit(&first.metric)
            .map_or(Type::Number, Type::of_metric);
        let show = |scope: Scope| {
            let m = doc.value(cohort_of(scope), &first.metric)?;
            Some((ty.format(m.value?), m.samples))
        };
        let against = v.effect.as_ref().map(|e| e.against);
        let main = show(first.scope);
        let other = against.filter(|s| *s != first.scope).and_then(show);
        match (main, other, against) {
            (Some((a, na)), Some((b, nb)), Some(s)) => format!(
                "{} {a} vs {} {b} (n={} vs {})",
                scoped_name(first.scope, &first.metric),
                s.name(),
                thousands(na),
                thousands(nb)
            ),
            (Some((a, na)), _, _) => {
                format!(
                    "{} {a} (n={})",
                    scoped_name(first.scope, &first.metric),
                    thousands(na)
                )
            }
            _ => scoped_name(first.scope, &first.metric),
        }
    }
}

impl Analysis {
    /// What follows the verdict in the reason: the p-value, or the bounds, or the point
    /// comparison.
    fn detail(&self, v: &ConditionVerdict, points: &[Observation]) -> String {
        let main = v
            .comparisons
            .iter()
            .find(|c| c.p_true.is_some())
            .or(v.comparisons.first());
        let Some(c) = main else { return String::new() };
        let name = match c.method {
            Method::Sequential => "sequential",
            Method::MannWhitney => "Mann-Whitney",
            Method::Intervals | Method::PointEstimate => "",
        };
        match (c.method, v.outcome, v.p_value) {
            (Method::PointEstimate, _, _) => {
                let text = points
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(" (immediate, on point estimates: {text})")
            }
            (_, Outcome::Pass, Some(p)) => format!(" (ruled out, {name} p={})", p_value(p)),
            (_, Outcome::Inconclusive, Some(p)) => {
                format!("; {name} p={}, needs < {}", p_value(p), p_value(v.alpha))
            }
            (_, _, Some(p)) => format!("; {name} p={}", p_value(p)),
            (_, outcome, None) => {
                let level = confidence(v.alpha);
                let bounds: Vec<String> = v.values.iter().map(|r| self.bounds_text(r)).collect();
                let verb = if outcome == Outcome::Inconclusive {
                    "overlap"
                } else {
                    ""
                };
                format!(
                    "; {level} bounds{}{verb}: {}",
                    if verb.is_empty() { "" } else { " " },
                    bounds.join(", ")
                )
            }
        }
    }

    /// `baseline.p99_latency [132ms, 158ms]`.
    fn bounds_text(&self, r: &MetricReading) -> String {
        let ty = self
            .catalog
            .unit(&r.metric)
            .map_or(Type::Number, Type::of_metric);
        let side =
            |x: Option<f64>, unbounded: &str| x.map_or(unbounded.to_owned(), |x| ty.format(x));
        format!(
            "{} [{}, {}]",
            scoped_name(r.scope, &r.metric),
            side(r.lower, "-∞"),
            side(r.upper, "∞")
        )
    }
}

/// `error_rate` for the canary, `baseline.error_rate` otherwise.
fn scoped_name(scope: Scope, metric: &str) -> String {
    match scope {
        Scope::Canary => metric.to_owned(),
        other => format!("{}.{metric}", other.name()),
    }
}

/// The p-value that explains the outcome, if any comparison has one.
fn deciding_p(v: &ConditionVerdict) -> Option<f64> {
    let pick = |f: fn(&ComparisonVerdict) -> Option<f64>| {
        v.comparisons.iter().filter_map(f).min_by(f64::total_cmp)
    };
    match v.outcome {
        Outcome::Pass => pick(|c| c.p_false),
        Outcome::Fail | Outcome::Inconclusive => pick(|c| c.p_true),
    }
}

/// The condition's first metric on the canary against the baseline (or the stable cohort
/// when the condition reads it and not the baseline).
fn effect(cc: &CheckedCondition, doc: &RolloutMetrics) -> Option<Effect> {
    let metric = &cc.condition.metrics().first()?.name;
    let reads = |s: Scope| cc.condition.metrics().iter().any(|m| m.scope == s);
    let against = if reads(Scope::Stable) && !reads(Scope::Baseline) {
        Scope::Stable
    } else {
        Scope::Baseline
    };
    let canary = doc.value(cohort_of(Scope::Canary), metric)?.value?;
    let other = doc.value(cohort_of(against), metric)?.value?;
    Some(Effect {
        metric: metric.clone(),
        against,
        canary,
        other,
        absolute: canary - other,
        relative: (other != 0.0).then(|| canary / other - 1.0),
    })
}

/// The condition's truth from its comparisons' truths (in source order), by Kleene logic.
fn combine(expr: &Expr, truths: &mut impl Iterator<Item = Truth>) -> Truth {
    match &expr.kind {
        ExprKind::Compare(..) => truths.next().unwrap_or(Truth::Unknown),
        ExprKind::Not(inner) => !combine(inner, truths),
        ExprKind::Logic(op, l, r) => {
            let (l, r) = (combine(l, truths), combine(r, truths));
            match op {
                LogicOp::And => l.and(r),
                LogicOp::Or => l.or(r),
            }
        }
        ExprKind::Literal(_) | ExprKind::Metric(_) | ExprKind::Neg(_) | ExprKind::Arith(..) => {
            Truth::Unknown
        }
    }
}
