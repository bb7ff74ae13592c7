//! A parsed, checked condition: cheap to evaluate many times.

use std::fmt;
use std::ops::Range;

use serde::{Serialize, Serializer};

use crate::ast::{CmpOp, Expr, ExprKind, MetricRef};
use crate::catalog::Catalog;
use crate::check::Checker;
use crate::error::ExprError;
use crate::eval::{Env, Evaluation, Evaluator, Mode, Truth};
use crate::linear::{Linear, as_linear};
use crate::parser::parse;
use crate::types::Type;

/// A condition that parsed and type-checked against a catalog; it keeps its source text.
///
/// `Display` prints it canonically; `Serialize` writes the source as the user wrote it.
#[derive(Clone, Debug)]
pub struct Condition {
    source: String,
    expr: Expr,
    comparison_types: Vec<Type>,
    metrics: Vec<MetricRef>,
}

/// One comparison of a condition, with both sides and the type they share.
#[derive(Clone, Copy, Debug)]
pub struct Comparison<'a> {
    /// The operator.
    pub op: CmpOp,
    /// The left side.
    pub lhs: &'a Expr,
    /// The right side.
    pub rhs: &'a Expr,
    /// The type both sides share (a comparison of a count with a number is a count).
    pub ty: Type,
    /// Byte offsets of the whole comparison in the source.
    pub span: &'a Range<usize>,
}

impl Condition {
    /// Parses `source` and checks it against `catalog`: every metric must be declared, the
    /// types must fit, and the whole must be true or false.
    pub fn parse(source: &str, catalog: &Catalog) -> Result<Condition, ExprError> {
        let expr = parse(source)?;
        let facts = Checker::new(source, catalog).condition(&expr)?;
        Ok(Condition {
            source: source.to_owned(),
            expr,
            comparison_types: facts.comparison_types,
            metrics: facts.metrics,
        })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The `(scope, metric)` pairs the condition reads, once each, in order of appearance.
    pub fn metrics(&self) -> &[MetricRef] {
        &self.metrics
    }

    /// Every comparison, left to right (comparisons never nest, so these are all of them).
    pub fn comparisons(&self) -> Vec<Comparison<'_>> {
        let mut out = Vec::with_capacity(self.comparison_types.len());
        collect(&self.expr, &mut out);
        for (c, ty) in out.iter_mut().zip(&self.comparison_types) {
            c.ty = *ty;
        }
        out
    }

    /// The truth of the condition with every value's confidence interval taken into account.
    pub fn eval(&self, env: &(impl Env + ?Sized)) -> Truth {
        self.evaluator(env, Mode::Interval, None).truth(&self.expr)
    }

    /// The truth at the point estimates alone, ignoring intervals (for `immediate` checks).
    /// Missing data is still unknown.
    pub fn eval_point(&self, env: &(impl Env + ?Sized)) -> Truth {
        self.evaluator(env, Mode::Point, None).truth(&self.expr)
    }

    /// Like [`Condition::eval`], with the values behind every comparison.
    pub fn explain(&self, env: &(impl Env + ?Sized)) -> Evaluation {
        self.explained(env, Mode::Interval)
    }

    /// Like [`Condition::eval_point`], with the values behind every comparison.
    pub fn explain_point(&self, env: &(impl Env + ?Sized)) -> Evaluation {
        self.explained(env, Mode::Point)
    }

    fn explained<E: Env + ?Sized>(&self, env: &E, mode: Mode) -> Evaluation {
        let mut comparisons = Vec::with_capacity(self.comparison_types.len());
        let truth = self
            .evaluator(env, mode, Some(&mut comparisons))
            .truth(&self.expr);
        Evaluation { truth, comparisons }
    }

    fn evaluator<'a, E: Env + ?Sized>(
        &'a self,
        env: &'a E,
        mode: Mode,
        sink: Option<&'a mut Vec<crate::eval::Observation>>,
    ) -> Evaluator<'a, E> {
        Evaluator {
            env,
            mode,
            comparison_types: &self.comparison_types,
            sink,
        }
    }
}

fn collect<'a>(expr: &'a Expr, out: &mut Vec<Comparison<'a>>) {
    match &expr.kind {
        ExprKind::Compare(op, lhs, rhs) => {
            out.push(Comparison {
                op: *op,
                lhs,
                rhs,
                ty: Type::Number,
                span: &expr.span,
            });
        }
        ExprKind::Not(inner) | ExprKind::Neg(inner) => collect(inner, out),
        ExprKind::Logic(_, l, r) | ExprKind::Arith(_, l, r) => {
            collect(l, out);
            collect(r, out);
        }
        ExprKind::Literal(_) | ExprKind::Metric(_) => {}
    }
}

impl Comparison<'_> {
    /// The comparison as `linear op 0` (so `M > 1.5 * baseline.M` is `M - 1.5·baseline.M > 0`),
    /// `None` when a side is not linear.
    pub fn linear(&self) -> Option<Linear> {
        Some(as_linear(self.lhs)?.plus(as_linear(self.rhs)?, -1.0))
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}
