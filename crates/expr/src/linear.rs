//! Linear normal form, so the analysis can recognise the usual shapes of a comparison
//! (`M > c`, `M > k * baseline.M`, `M < baseline.M - c`, `M - baseline.M > c`) and pick a
//! two-sample test for them.

use serde::{Deserialize, Serialize};

use crate::ast::{ArithOp, Expr, ExprKind, Scope};

/// `Σ coef · scope.metric + constant`, in base units (fractions, milliseconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Linear {
    /// One term per distinct metric, in order of first appearance; no zero coefficients.
    pub terms: Vec<Term>,
    /// The constant part.
    pub constant: f64,
}

/// `coef · scope.metric`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The factor.
    pub coef: f64,
    /// The cohort.
    pub scope: Scope,
    /// The metric name.
    pub metric: String,
}

/// `expr` as a linear combination of metrics, `None` when it is not linear (a product or
/// quotient of two metrics, a division by zero, a boolean).
pub fn as_linear(expr: &Expr) -> Option<Linear> {
    match &expr.kind {
        ExprKind::Literal(lit) => Some(Linear::constant(lit.value())),
        ExprKind::Metric(m) => {
            let term = Term {
                coef: 1.0,
                scope: m.scope,
                metric: m.name.clone(),
            };
            Some(Linear {
                terms: vec![term],
                constant: 0.0,
            })
        }
        ExprKind::Neg(inner) => Some(as_linear(inner)?.scale(-1.0)),
        ExprKind::Arith(op, l, r) => {
            let (l, r) = (as_linear(l)?, as_linear(r)?);
            match op {
                ArithOp::Add => Some(l.plus(r, 1.0)),
                ArithOp::Sub => Some(l.plus(r, -1.0)),
                ArithOp::Mul if l.terms.is_empty() => Some(r.scale(l.constant)),
                ArithOp::Mul if r.terms.is_empty() => Some(l.scale(r.constant)),
                ArithOp::Div if r.terms.is_empty() && r.constant != 0.0 => {
                    Some(l.scale(1.0 / r.constant))
                }
                ArithOp::Mul | ArithOp::Div => None,
            }
        }
        ExprKind::Not(_) | ExprKind::Logic(..) | ExprKind::Compare(..) => None,
    }
}

impl Linear {
    /// A constant with no metric terms.
    pub fn constant(value: f64) -> Linear {
        Linear {
            terms: Vec::new(),
            constant: value,
        }
    }

    /// The coefficient of `scope.metric` (zero when it does not appear).
    pub fn coef(&self, scope: Scope, metric: &str) -> f64 {
        self.terms
            .iter()
            .find(|t| t.scope == scope && t.metric == metric)
            .map_or(0.0, |t| t.coef)
    }

    /// `self + factor · other`, like terms merged and cancelled terms dropped.
    pub fn plus(mut self, other: Linear, factor: f64) -> Linear {
        self.constant += factor * other.constant;
        for t in other.terms {
            match self
                .terms
                .iter_mut()
                .find(|s| s.scope == t.scope && s.metric == t.metric)
            {
                Some(s) => s.coef += factor * t.coef,
                None => self.terms.push(Term {
                    coef: factor * t.coef,
                    ..t
                }),
            }
        }
        self.terms.retain(|t| t.coef != 0.0);
        self
    }

    /// `factor · self`.
    pub fn scale(mut self, factor: f64) -> Linear {
        self.constant *= factor;
        for t in &mut self.terms {
            t.coef *= factor;
        }
        self.terms.retain(|t| t.coef != 0.0);
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::parser::parse;

    fn linear(src: &str) -> Option<Linear> {
        as_linear(&parse(src).unwrap())
    }

    fn term(coef: f64, scope: Scope, metric: &str) -> Term {
        Term {
            coef,
            scope,
            metric: metric.to_owned(),
        }
    }

    #[test]
    fn scaled_baseline() {
        let l = linear("p99_latency - 1.5 * baseline.p99_latency").unwrap();
        let expected = vec![
            term(1.0, Scope::Canary, "p99_latency"),
            term(-1.5, Scope::Baseline, "p99_latency"),
        ];
        assert_eq!(l.terms, expected);
        assert_eq!(l.constant, 0.0);
        assert_eq!(l.coef(Scope::Baseline, "p99_latency"), -1.5);
        assert_eq!(l.coef(Scope::Stable, "p99_latency"), 0.0);
    }

    #[test]
    fn constants_are_in_base_units() {
        let l = linear("baseline.conversion_rate - 2%").unwrap();
        assert_eq!(l.terms, vec![term(1.0, Scope::Baseline, "conversion_rate")]);
        assert_eq!(l.constant, -0.02);
        assert_eq!(linear("1.5s + 200ms").unwrap(), Linear::constant(1700.0));
    }

    #[test]
    fn like_terms_merge_and_cancel() {
        let l = linear("(a + baseline.a) / 2 - a / 2").unwrap();
        assert_eq!(l.terms, vec![term(0.5, Scope::Baseline, "a")]);
        assert_eq!(linear("a - a").unwrap(), Linear::constant(0.0));
        assert_eq!(
            linear("-(2 * a)").unwrap().terms,
            vec![term(-2.0, Scope::Canary, "a")]
        );
    }

    #[test]
    fn non_linear_shapes() {
        assert_eq!(linear("a * baseline.a"), None);
        assert_eq!(linear("a / baseline.a"), None);
        assert_eq!(linear("a / 0"), None);
        assert_eq!(linear("a > 1"), None);
    }
}
