//! One comparison of a condition, judged by the most powerful valid method its shape allows:
//! a direct sequential test of `lhs − rhs` when both sides are linear in one proportion or mean
//! metric, Mann-Whitney confirmation for quantiles against the baseline, interval arithmetic
//! otherwise, point estimates for `immediate` conditions.

use rollgate_expr::{CmpOp, Comparison, Expr, ExprKind, Observation, Scope, Truth};
use rollgate_metrics::SufficientStats;
use serde::{Deserialize, Serialize};

use crate::document::{RolloutMetrics, cohort_of};
use crate::stats::{Anytime, Estimate, mann_whitney_bins};

/// How a comparison was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A sequential test of `lhs − rhs` over proportions or means (always-valid p-value).
    Sequential,
    /// Always-valid bounds of every metric, combined by interval arithmetic.
    Intervals,
    /// A quantile against another cohort's: the intervals, or the point comparison confirmed
    /// by a Mann-Whitney U test of the two distributions.
    MannWhitney,
    /// Point estimates only (`immediate` conditions).
    PointEstimate,
}

/// The verdict on one comparison of a condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonVerdict {
    /// The comparison with its values: `error_rate 6.1% > 5%`.
    pub text: String,
    /// How it was judged.
    pub method: Method,
    /// Whether it holds: `true` confidently, `false` confidently, or `unknown`.
    pub truth: Truth,
    /// p-value against "the comparison is false" (small: it confidently holds).
    pub p_true: Option<f64>,
    /// p-value against "the comparison holds" (small: it is confidently false); sequential
    /// tests only.
    pub p_false: Option<f64>,
    /// `lhs − rhs`: the estimate and its bounds (`None`: unbounded on that side).
    pub margin: Option<Margin>,
}

/// An estimate of `lhs − rhs` with its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    /// The point estimate.
    pub estimate: f64,
    /// Lower bound, `None` when unbounded.
    pub lower: Option<f64>,
    /// Upper bound, `None` when unbounded.
    pub upper: Option<f64>,
}

/// The shape of a comparison, which picks the method.
pub(crate) enum Shape {
    /// `Σ coefᵢ·metric(cohortᵢ) + c  op  0` over one proportion or mean metric.
    Linear {
        terms: Vec<(f64, Estimate)>,
        constant: f64,
    },
    /// `k₁·q(canary) + k₂·q(other) + c  op  0` over one quantile metric, `k₁·k₂ < 0`.
    Quantile {
        canary: Vec<(f64, u64)>,
        other: Vec<(f64, u64)>,
        canary_larger: bool,
    },
    /// Anything else.
    General { metric_reads: usize },
}

/// What judging one comparison needs.
pub(crate) struct Judge<'a> {
    pub anytime: Anytime,
    pub immediate: bool,
    pub interval: &'a Observation,
    pub point: &'a Observation,
}

impl Shape {
    /// Classifies a comparison against the data in `doc`.
    pub fn of(cmp: &Comparison<'_>, doc: &RolloutMetrics) -> Shape {
        let general = Shape::General {
            metric_reads: metric_reads(cmp.lhs) + metric_reads(cmp.rhs),
        };
        let ordered = matches!(cmp.op, CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le);
        let Some(linear) = cmp.linear().filter(|_| ordered) else {
            return general;
        };
        let Some(first) = linear.terms.first() else {
            return general;
        };
        if linear.terms.iter().any(|t| t.metric != first.metric) {
            return general;
        }
        let stats: Option<Vec<(f64, Scope, &SufficientStats)>> = linear
            .terms
            .iter()
            .map(|t| {
                let v = doc.value(cohort_of(t.scope), &t.metric)?;
                v.value.map(|_| (t.coef, t.scope, &v.stats))
            })
            .collect();
        let Some(stats) = stats else { return general };
        if let Some(terms) = linear_terms(&stats) {
            return Shape::Linear {
                terms,
                constant: linear.constant,
            };
        }
        quantile_shape(&stats, holds_when_positive(cmp.op)).unwrap_or(general)
    }

    /// How many statistics may declare this comparison true (its share of the Bonferroni
    /// split of α).
    pub fn tests(&self) -> usize {
        match self {
            Shape::Linear { .. } => 1,
            Shape::Quantile { .. } => 3,
            Shape::General { metric_reads } => *metric_reads,
        }
    }
}

impl Judge<'_> {
    /// The verdict on `cmp` of shape `shape`.
    pub fn judge(&self, cmp: &Comparison<'_>, shape: &Shape) -> ComparisonVerdict {
        let text = self.interval.to_string();
        if self.immediate {
            return ComparisonVerdict {
                text: self.point.to_string(),
                method: Method::PointEstimate,
                truth: self.point.truth,
                p_true: None,
                p_false: None,
                margin: margin_of(self.point),
            };
        }
        match shape {
            Shape::Linear { terms, constant } => self.sequential(cmp.op, terms, *constant, text),
            Shape::Quantile {
                canary,
                other,
                canary_larger,
            } => {
                let mwu = mann_whitney_bins(canary, other).ok();
                let p = mwu.map(|m| {
                    if *canary_larger {
                        m.p_greater
                    } else {
                        m.p_less
                    }
                });
                let confirmed =
                    self.point.truth == Truth::True && p.is_some_and(|p| p < self.anytime.alpha());
                let truth = match self.interval.truth {
                    Truth::Unknown if confirmed => Truth::True,
                    t => t,
                };
                ComparisonVerdict {
                    text,
                    method: Method::MannWhitney,
                    truth,
                    p_true: p,
                    p_false: None,
                    margin: margin_of(self.interval),
                }
            }
            Shape::General { .. } => ComparisonVerdict {
                text,
                method: Method::Intervals,
                truth: self.interval.truth,
                p_true: None,
                p_false: None,
                margin: margin_of(self.interval),
            },
        }
    }

    fn sequential(
        &self,
        op: CmpOp,
        terms: &[(f64, Estimate)],
        constant: f64,
        text: String,
    ) -> ComparisonVerdict {
        let t = self.anytime.test(&Estimate::linear(terms, constant));
        let strict = matches!(op, CmpOp::Gt | CmpOp::Lt);
        let (p_true, p_false, truth) = if holds_when_positive(op) {
            let false_ = if strict {
                t.upper <= 0.0
            } else {
                t.upper < 0.0
            };
            (t.p_above, t.p_below, decide(t.lower > 0.0, false_))
        } else {
            let false_ = if strict {
                t.lower >= 0.0
            } else {
                t.lower > 0.0
            };
            (t.p_below, t.p_above, decide(t.upper < 0.0, false_))
        };
        ComparisonVerdict {
            text,
            method: Method::Sequential,
            truth,
            p_true: Some(p_true),
            p_false: Some(p_false),
            margin: Some(Margin {
                estimate: t.estimate,
                lower: Some(t.lower),
                upper: Some(t.upper),
            }),
        }
    }
}

fn decide(holds: bool, fails: bool) -> Truth {
    match (holds, fails) {
        (true, _) => Truth::True,
        (false, true) => Truth::False,
        (false, false) => Truth::Unknown,
    }
}

/// `>` and `>=` hold when `lhs − rhs` is positive; `<` and `<=` when it is negative.
fn holds_when_positive(op: CmpOp) -> bool {
    matches!(op, CmpOp::Gt | CmpOp::Ge)
}

/// The terms as estimates when every one is a proportion, or every one a mean.
fn linear_terms(stats: &[(f64, Scope, &SufficientStats)]) -> Option<Vec<(f64, Estimate)>> {
    let all_ratio = stats
        .iter()
        .all(|(_, _, s)| matches!(s, SufficientStats::Ratio { .. }));
    let all_mean = stats
        .iter()
        .all(|(_, _, s)| matches!(s, SufficientStats::Mean { .. }));
    if !all_ratio && !all_mean {
        return None;
    }
    stats
        .iter()
        .map(|(coef, _, s)| {
            let e = match s {
                SufficientStats::Ratio {
                    numerator,
                    denominator,
                } => Estimate::proportion(*numerator, *denominator),
                SufficientStats::Mean { n, mean, m2 } => Estimate::mean(*n, *mean, *m2),
                _ => None,
            }?;
            Some((*coef, e))
        })
        .collect()
}

/// A canary quantile against another cohort's, with opposite signs.
fn quantile_shape(stats: &[(f64, Scope, &SufficientStats)], positive: bool) -> Option<Shape> {
    let [a, b] = stats else { return None };
    let ((kc, _, canary), (ko, _, other)) = match (a.1, b.1) {
        (Scope::Canary, s) if s != Scope::Canary => (a, b),
        (s, Scope::Canary) if s != Scope::Canary => (b, a),
        _ => return None,
    };
    match (canary, other) {
        (
            SufficientStats::Distribution { bins: canary, .. },
            SufficientStats::Distribution { bins: other, .. },
        ) if kc * ko < 0.0 => Some(Shape::Quantile {
            canary: canary.clone(),
            other: other.clone(),
            canary_larger: (*kc > 0.0) == positive,
        }),
        _ => None,
    }
}

/// `lhs − rhs` from an evaluated comparison's intervals.
fn margin_of(obs: &Observation) -> Option<Margin> {
    let (l, r) = (obs.lhs_value?, obs.rhs_value?);
    let finite = |x: f64| x.is_finite().then_some(x);
    Some(Margin {
        estimate: l.est - r.est,
        lower: finite(l.lo - r.hi),
        upper: finite(l.hi - r.lo),
    })
}

/// How many metric values an expression reads.
fn metric_reads(expr: &Expr) -> usize {
    match &expr.kind {
        ExprKind::Metric(_) => 1,
        ExprKind::Literal(_) => 0,
        ExprKind::Neg(e) | ExprKind::Not(e) => metric_reads(e),
        ExprKind::Arith(_, l, r) | ExprKind::Compare(_, l, r) | ExprKind::Logic(_, l, r) => {
            metric_reads(l) + metric_reads(r)
        }
    }
}
