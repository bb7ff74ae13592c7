//! Resolves metric names against the catalog and types every node (rules in [`crate::types`]).

use crate::ast::{ArithOp, Expr, ExprKind, Literal, MetricRef};
use crate::catalog::Catalog;
use crate::error::{ErrorKind, ExprError};
use crate::types::{Type, significant};
use rollgate_core::suggest as closest;

/// What checking learns about a well-typed condition.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    /// The operand type of each comparison, in tree order (left to right).
    pub comparison_types: Vec<Type>,
    /// Each metric read, once, in order of first appearance.
    pub metrics: Vec<MetricRef>,
}

pub(crate) struct Checker<'a> {
    src: &'a str,
    catalog: &'a Catalog,
    facts: Facts,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(src: &'a str, catalog: &'a Catalog) -> Checker<'a> {
        Checker {
            src,
            catalog,
            facts: Facts::default(),
        }
    }

    /// Checks a whole condition, which must be true or false.
    pub(crate) fn condition(mut self, expr: &Expr) -> Result<Facts, ExprError> {
        let ty = self.expr(expr)?;
        if ty != Type::Bool {
            return Err(self
                .error(
                    ErrorKind::Type,
                    expr,
                    format!(
                        "a condition must be true or false, but this is {}",
                        ty.described()
                    ),
                )
                .with_help("compare it with a threshold, e.g. `error_rate > 5%`"));
        }
        if self.facts.metrics.is_empty() {
            return Err(self
                .error(
                    ErrorKind::Type,
                    expr,
                    "the condition reads no metric, so it never changes",
                )
                .with_help("compare a metric, e.g. `error_rate > 5%`"));
        }
        Ok(self.facts)
    }

    fn expr(&mut self, expr: &Expr) -> Result<Type, ExprError> {
        match &expr.kind {
            ExprKind::Literal(lit) => Ok(Type::of_literal(lit.unit)),
            ExprKind::Metric(m) => self.metric(expr, m),
            ExprKind::Neg(inner) => match self.expr(inner)? {
                Type::Bool => Err(self
                    .error(
                        ErrorKind::Type,
                        expr,
                        "cannot negate a true/false value with `-`",
                    )
                    .with_help("write `not` to negate a comparison")),
                ty => Ok(ty),
            },
            ExprKind::Not(inner) => {
                self.boolean(inner, "`not`")?;
                Ok(Type::Bool)
            }
            ExprKind::Logic(op, l, r) => {
                let what = format!("`{}`", op.keyword());
                self.boolean(l, &what)?;
                self.boolean(r, &what)?;
                Ok(Type::Bool)
            }
            ExprKind::Arith(op, l, r) => {
                let (lt, rt) = (self.expr(l)?, self.expr(r)?);
                Type::arith(*op, lt, rt).ok_or_else(|| {
                    self.mismatch(expr, arith_message(*op, lt, rt), (l, lt), (r, rt))
                })
            }
            ExprKind::Compare(_, l, r) => {
                let (lt, rt) = (self.expr(l)?, self.expr(r)?);
                let message = format!("cannot compare {} with {}", lt.described(), rt.described());
                let ty = Type::common(lt, rt)
                    .ok_or_else(|| self.mismatch(expr, message, (l, lt), (r, rt)))?;
                self.facts.comparison_types.push(ty);
                Ok(Type::Bool)
            }
        }
    }

    fn metric(&mut self, expr: &Expr, m: &MetricRef) -> Result<Type, ExprError> {
        let Some(unit) = self.catalog.unit(&m.name) else {
            let err = self.error(
                ErrorKind::UnknownMetric,
                expr,
                format!("unknown metric \"{}\"", m.name),
            );
            return Err(match closest(&m.name, self.catalog.names()) {
                Some(name) => err.with_help(format!("did you mean \"{name}\"?")),
                None if self.catalog.is_empty() => err.with_help("no metrics are declared"),
                None => err.with_help(format!("declared metrics: {}", self.listing())),
            });
        };
        if !self.facts.metrics.contains(m) {
            self.facts.metrics.push(m.clone());
        }
        Ok(Type::of_metric(unit))
    }

    fn boolean(&mut self, operand: &Expr, what: &str) -> Result<(), ExprError> {
        match self.expr(operand)? {
            Type::Bool => Ok(()),
            ty => Err(self
                .error(
                    ErrorKind::Type,
                    operand,
                    format!("{what} needs a comparison, but this is {}", ty.described()),
                )
                .with_help("compare it with a threshold, e.g. `error_rate > 5%`")),
        }
    }

    /// A type error for `whole`; when a literal on one side is the likely mistake, the error
    /// points at it and says what to write instead.
    fn mismatch(
        &self,
        whole: &Expr,
        message: String,
        lhs: (&Expr, Type),
        rhs: (&Expr, Type),
    ) -> ExprError {
        for ((side, side_ty), (_, other_ty)) in [(lhs, rhs), (rhs, lhs)] {
            if let ExprKind::Literal(lit) = &side.kind
                && let Some(fix) = literal_fix(lit, side_ty, other_ty)
            {
                return self.error(ErrorKind::Type, side, message).with_help(fix);
            }
        }
        self.error(ErrorKind::Type, whole, message)
    }

    fn listing(&self) -> String {
        const SHOWN: usize = 12;
        let names: Vec<&str> = self.catalog.names().take(SHOWN).collect();
        let more = if self.catalog.len() > SHOWN {
            ", …"
        } else {
            ""
        };
        format!("{}{more}", names.join(", "))
    }

    fn error(&self, kind: ErrorKind, at: &Expr, message: impl Into<String>) -> ExprError {
        ExprError::new(self.src, kind, at.span.clone(), message)
    }
}

fn arith_message(op: ArithOp, l: Type, r: Type) -> String {
    let (l, r) = (l.described(), r.described());
    match op {
        ArithOp::Add => format!("cannot add {l} and {r}"),
        ArithOp::Sub => format!("cannot subtract {r} from {l}"),
        ArithOp::Mul => format!("cannot multiply {l} by {r}"),
        ArithOp::Div => format!("cannot divide {l} by {r}"),
    }
}

/// What to write instead of literal `lit` (of type `ty`) next to a value of type `other`.
fn literal_fix(lit: &Literal, ty: Type, other: Type) -> Option<String> {
    let written = lit.to_string();
    let m = lit.magnitude;
    match (ty, other) {
        // `error_rate > 0.05` or `error_rate > 5`: a bare number where a percentage belongs.
        (Type::Number, Type::Ratio) => {
            let pct = if m < 1.0 {
                significant(m * 100.0)
            } else {
                significant(m)
            };
            Some(format!("write `{pct}%` instead of `{written}`"))
        }
        (Type::Number, Type::Duration) => Some(format!("write `{written}ms`")),
        // `p99_latency / baseline.p99_latency > 150%`: a quotient is a plain number.
        (Type::Ratio, Type::Number) => Some(format!(
            "write `{}` instead of `{written}`",
            significant(lit.value())
        )),
        _ => None,
    }
}
