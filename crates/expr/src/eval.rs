//! Three-valued evaluation over intervals: missing or overlapping data is "unknown", never false.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::ast::{ArithOp, CmpOp, Expr, ExprKind, LogicOp, Scope};
use crate::interval::Interval;
use crate::types::Type;

/// Where a condition reads metric values from.
pub trait Env {
    /// The value of `metric` for the cohort `scope`, `None` when there is no data.
    fn value(&self, scope: Scope, metric: &str) -> Option<Interval>;
}

/// The outcome of a condition under uncertainty (Kleene's three-valued logic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    /// Holds even at the unfavourable ends of the confidence intervals.
    True,
    /// Fails even at the favourable ends of the confidence intervals.
    False,
    /// The data is missing or the intervals overlap the threshold: wait for more.
    Unknown,
}

/// A condition's truth with the values behind each of its comparisons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The condition as a whole.
    pub truth: Truth,
    /// Every comparison in the condition, left to right.
    pub comparisons: Vec<Observation>,
}

/// One comparison as evaluated: the canonical text of both sides, their values and the outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Byte offsets of the comparison in the condition's source.
    pub span: Range<usize>,
    /// The left side as written canonically (`p99_latency`).
    pub lhs: String,
    /// The operator.
    pub op: CmpOp,
    /// The right side as written canonically (`1.5 * baseline.p99_latency`).
    pub rhs: String,
    /// The left value, `None` when some input was missing or undefined.
    pub lhs_value: Option<Interval>,
    /// The right value, `None` when some input was missing or undefined.
    pub rhs_value: Option<Interval>,
    /// The type both sides share, which decides how values are shown.
    pub ty: Type,
    /// The outcome of this comparison alone.
    pub truth: Truth,
    /// Whether the left side is a number literal (shown without repeating its value).
    pub lhs_is_literal: bool,
    /// Whether the right side is a number literal.
    pub rhs_is_literal: bool,
}

/// How values from the environment are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// With their confidence intervals.
    Interval,
    /// As exact values at their point estimates.
    Point,
}

/// Evaluates a checked condition; `comparison_types` come from the checker in tree order, and
/// `sink` (when given) receives one observation per comparison.
pub(crate) struct Evaluator<'a, E: Env + ?Sized> {
    pub env: &'a E,
    pub mode: Mode,
    pub comparison_types: &'a [Type],
    pub sink: Option<&'a mut Vec<Observation>>,
}

impl<E: Env + ?Sized> Evaluator<'_, E> {
    /// The truth of a boolean node; `Unknown` for a numeric one (the checker rules that out).
    pub(crate) fn truth(&mut self, expr: &Expr) -> Truth {
        match &expr.kind {
            ExprKind::Not(inner) => !self.truth(inner),
            ExprKind::Logic(op, l, r) => {
                let l = self.truth(l);
                // Without a sink nobody needs the other side once the answer is settled.
                let settled = matches!(
                    (op, l),
                    (LogicOp::And, Truth::False) | (LogicOp::Or, Truth::True)
                );
                if settled && self.sink.is_none() {
                    return l;
                }
                let r = self.truth(r);
                match op {
                    LogicOp::And => l.and(r),
                    LogicOp::Or => l.or(r),
                }
            }
            ExprKind::Compare(op, l, r) => self.compare(expr, *op, l, r),
            ExprKind::Literal(_) | ExprKind::Metric(_) | ExprKind::Neg(_) | ExprKind::Arith(..) => {
                Truth::Unknown
            }
        }
    }

    fn compare(&mut self, whole: &Expr, op: CmpOp, l: &Expr, r: &Expr) -> Truth {
        let (lv, rv) = (self.value(l), self.value(r));
        let truth = match (lv, rv) {
            (Some(a), Some(b)) => compare(op, a, b),
            _ => Truth::Unknown,
        };
        if let Some(sink) = self.sink.as_deref_mut() {
            let ty = self
                .comparison_types
                .get(sink.len())
                .copied()
                .unwrap_or(Type::Number);
            sink.push(Observation {
                span: whole.span.clone(),
                lhs: l.to_string(),
                op,
                rhs: r.to_string(),
                lhs_value: lv,
                rhs_value: rv,
                ty,
                truth,
                lhs_is_literal: matches!(l.kind, ExprKind::Literal(_)),
                rhs_is_literal: matches!(r.kind, ExprKind::Literal(_)),
            });
        }
        truth
    }

    /// The value of a numeric node; `None` when data is missing or the result is undefined.
    fn value(&mut self, expr: &Expr) -> Option<Interval> {
        match &expr.kind {
            ExprKind::Literal(lit) => Some(Interval::exact(lit.value())),
            ExprKind::Metric(m) => {
                let v = self.env.value(m.scope, &m.name)?.valid()?;
                Some(if self.mode == Mode::Point {
                    v.point()
                } else {
                    v
                })
            }
            ExprKind::Neg(inner) => self.value(inner).map(|v| -v),
            ExprKind::Arith(op, l, r) => {
                let (a, b) = (self.value(l)?, self.value(r)?);
                match op {
                    ArithOp::Add => a.checked_add(b),
                    ArithOp::Sub => a.checked_sub(b),
                    ArithOp::Mul => a.checked_mul(b),
                    ArithOp::Div => a.checked_div(b),
                }
            }
            ExprKind::Not(_) | ExprKind::Logic(..) | ExprKind::Compare(..) => None,
        }
    }
}

/// `a op b` over intervals: true when it holds for every pair of values in them, false when
/// it holds for none, unknown otherwise.
pub(crate) fn compare(op: CmpOp, a: Interval, b: Interval) -> Truth {
    match op {
        CmpOp::Gt => Truth::decide(a.lo > b.hi, a.hi <= b.lo),
        CmpOp::Ge => Truth::decide(a.lo >= b.hi, a.hi < b.lo),
        CmpOp::Lt => Truth::decide(a.hi < b.lo, a.lo >= b.hi),
        CmpOp::Le => Truth::decide(a.hi <= b.lo, a.lo > b.hi),
        CmpOp::Eq => Truth::decide(
            a.lo == a.hi && b.lo == b.hi && a.lo == b.lo,
            a.hi < b.lo || b.hi < a.lo,
        ),
        CmpOp::Ne => !compare(CmpOp::Eq, a, b),
    }
}

impl Truth {
    fn decide(certainly: bool, certainly_not: bool) -> Truth {
        match (certainly, certainly_not) {
            (true, _) => Truth::True,
            (false, true) => Truth::False,
            (false, false) => Truth::Unknown,
        }
    }

    /// Kleene conjunction: false wins, then unknown.
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    /// Kleene disjunction: true wins, then unknown.
    pub fn or(self, other: Truth) -> Truth {
        !(!self).and(!other)
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;

    /// Kleene negation: unknown stays unknown.
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl fmt::Display for Truth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Truth::True => "true",
            Truth::False => "false",
            Truth::Unknown => "unknown",
        })
    }
}

/// `error_rate 6.1% > 5%`: each side, with its point value unless it is a literal.
impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side =
            |f: &mut fmt::Formatter<'_>, text: &str, literal: bool, v: Option<Interval>| match (
                literal, v,
            ) {
                (true, _) => f.write_str(text),
                (false, Some(v)) => write!(f, "{text} {}", self.ty.format(v.est)),
                (false, None) => write!(f, "{text} (no data)"),
            };
        side(f, &self.lhs, self.lhs_is_literal, self.lhs_value)?;
        write!(f, " {} ", self.op)?;
        side(f, &self.rhs, self.rhs_is_literal, self.rhs_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(lo: f64, est: f64, hi: f64) -> Interval {
        Interval { lo, est, hi }
    }

    #[test]
    fn comparisons_of_disjoint_and_overlapping_intervals() {
        let low = iv(1.0, 2.0, 3.0);
        let high = iv(4.0, 5.0, 6.0);
        let overlapping = iv(2.5, 3.5, 4.5);
        assert_eq!(compare(CmpOp::Gt, high, low), Truth::True);
        assert_eq!(compare(CmpOp::Gt, low, high), Truth::False);
        assert_eq!(compare(CmpOp::Gt, low, overlapping), Truth::Unknown);
        assert_eq!(compare(CmpOp::Lt, low, high), Truth::True);
        assert_eq!(compare(CmpOp::Le, high, low), Truth::False);
        assert_eq!(compare(CmpOp::Ge, overlapping, high), Truth::Unknown);
        assert_eq!(compare(CmpOp::Eq, low, high), Truth::False);
        assert_eq!(compare(CmpOp::Eq, low, overlapping), Truth::Unknown);
        assert_eq!(compare(CmpOp::Ne, low, high), Truth::True);
    }

    #[test]
    fn comparisons_of_exact_values_are_classical() {
        let (two, three) = (Interval::exact(2.0), Interval::exact(3.0));
        for (op, at_equal, below) in [
            (CmpOp::Gt, Truth::False, Truth::False),
            (CmpOp::Ge, Truth::True, Truth::False),
            (CmpOp::Lt, Truth::False, Truth::True),
            (CmpOp::Le, Truth::True, Truth::True),
            (CmpOp::Eq, Truth::True, Truth::False),
            (CmpOp::Ne, Truth::False, Truth::True),
        ] {
            assert_eq!(compare(op, two, two), at_equal, "{op} at equal");
            assert_eq!(compare(op, two, three), below, "2 {op} 3");
        }
    }

    #[test]
    fn touching_intervals() {
        let a = iv(1.0, 2.0, 3.0);
        let b = iv(3.0, 4.0, 5.0);
        assert_eq!(compare(CmpOp::Le, a, b), Truth::True);
        assert_eq!(compare(CmpOp::Lt, a, b), Truth::Unknown);
        assert_eq!(compare(CmpOp::Gt, a, b), Truth::False);
        assert_eq!(compare(CmpOp::Ge, a, b), Truth::Unknown);
    }

    #[test]
    fn kleene_tables() {
        use Truth::{False as F, True as T, Unknown as U};
        assert_eq!(
            [T.and(T), T.and(U), T.and(F), U.and(U), U.and(F)],
            [T, U, F, U, F]
        );
        assert_eq!(
            [T.or(T), T.or(U), F.or(U), U.or(U), F.or(F)],
            [T, T, U, U, F]
        );
        assert_eq!([!T, !F, !U], [F, T, U]);
    }
}
