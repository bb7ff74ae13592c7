//! The syntax tree of a condition: every node carries the byte span of the source it came from.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// One node of a condition with the byte range of the source text it was parsed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Byte offsets into the source, `start..end` (parentheses around the node included).
    pub span: Range<usize>,
}

/// The kinds of node in a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number as written, with its unit: `5%`, `200ms`, `1.5`.
    Literal(Literal),
    /// A metric of one cohort: `error_rate` (the canary), `baseline.error_rate`.
    Metric(MetricRef),
    /// Arithmetic negation, `-x`.
    Neg(Box<Expr>),
    /// Logical negation, `not x`.
    Not(Box<Expr>),
    /// `lhs + rhs`, `lhs - rhs`, `lhs * rhs`, `lhs / rhs`.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `lhs > rhs` and the other comparisons; never chained.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `lhs and rhs`, `lhs or rhs`.
    Logic(LogicOp, Box<Expr>, Box<Expr>),
}

/// A number literal: the magnitude as written and the unit written after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Literal {
    /// The number as written, before the unit is applied (`5` in `5%`, `1.5` in `1.5s`).
    pub magnitude: f64,
    /// The unit suffix.
    pub unit: LiteralUnit,
}

/// The unit suffix of a number literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiteralUnit {
    /// No suffix: a plain number.
    None,
    /// `%`: a ratio, `5%` is `0.05`.
    Percent,
    /// `ms`: a duration in milliseconds.
    Millis,
    /// `s`: a duration in seconds, `1.5s` is `1500ms`.
    Seconds,
}

/// A reference to a declared metric of one cohort.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricRef {
    /// Whose value: the canary unless the name is prefixed with `baseline.` or `stable.`.
    pub scope: Scope,
    /// The metric name as declared (`error_rate`).
    pub name: String,
}

/// The cohort a metric is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The users on the new version (a bare metric name means this cohort).
    Canary,
    /// The matched slice of stable traffic, the same size as the canary cohort.
    Baseline,
    /// All traffic on the stable version.
    Stable,
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
}

/// A logical connective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogicOp {
    /// `and`
    And,
    /// `or`
    Or,
}

/// Binding strength of each kind of node, loosest first; printing uses it to place parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    And,
    Not,
    Compare,
    Sum,
    Product,
    Unary,
    Atom,
}

impl Expr {
    /// A node of `kind` covering `span`.
    pub fn new(kind: ExprKind, span: Range<usize>) -> Expr {
        Expr { kind, span }
    }

    /// The two operands of a binary node, `None` for the other kinds.
    pub fn operands(&self) -> Option<(&Expr, &Expr)> {
        match &self.kind {
            ExprKind::Arith(_, l, r) | ExprKind::Compare(_, l, r) | ExprKind::Logic(_, l, r) => {
                Some((l, r))
            }
            _ => None,
        }
    }

    fn prec(&self) -> Prec {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Metric(_) => Prec::Atom,
            ExprKind::Neg(_) => Prec::Unary,
            ExprKind::Not(_) => Prec::Not,
            ExprKind::Arith(ArithOp::Add | ArithOp::Sub, ..) => Prec::Sum,
            ExprKind::Arith(ArithOp::Mul | ArithOp::Div, ..) => Prec::Product,
            ExprKind::Compare(..) => Prec::Compare,
            ExprKind::Logic(LogicOp::And, ..) => Prec::And,
            ExprKind::Logic(LogicOp::Or, ..) => Prec::Or,
        }
    }
}

/// Writes `e`, in parentheses when it binds looser than `min`.
fn child(f: &mut fmt::Formatter<'_>, e: &Expr, min: Prec) -> fmt::Result {
    if e.prec() < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// Writes a left-associative (or, for comparisons, non-associative) binary node.
fn binary(f: &mut fmt::Formatter<'_>, l: &Expr, op: &str, r: &Expr, p: Prec) -> fmt::Result {
    let left_min = if p == Prec::Compare { Prec::Sum } else { p };
    child(f, l, left_min)?;
    write!(f, " {op} ")?;
    // The right operand binds tighter than the operator, or the tree would read differently.
    let right_min = match p {
        Prec::Compare => Prec::Sum,
        Prec::Or => Prec::And,
        Prec::And => Prec::Not,
        Prec::Sum => Prec::Product,
        _ => Prec::Unary,
    };
    child(f, r, right_min)
}

/// The canonical text of a condition: single spaces around operators, lowercase keywords,
/// bare names for canary metrics and only the parentheses the structure needs.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(lit) => write!(f, "{lit}"),
            ExprKind::Metric(m) => write!(f, "{m}"),
            ExprKind::Neg(e) => {
                f.write_str("-")?;
                child(f, e, Prec::Unary)
            }
            ExprKind::Not(e) => {
                f.write_str("not ")?;
                child(f, e, Prec::Not)
            }
            ExprKind::Arith(op, l, r) => binary(f, l, op.symbol(), r, self.prec()),
            ExprKind::Compare(op, l, r) => binary(f, l, op.symbol(), r, self.prec()),
            ExprKind::Logic(op, l, r) => binary(f, l, op.keyword(), r, self.prec()),
        }
    }
}

impl Literal {
    /// The value in the base unit of its type: a fraction for `%`, milliseconds for durations.
    pub fn value(&self) -> f64 {
        match self.unit {
            LiteralUnit::None | LiteralUnit::Millis => self.magnitude,
            LiteralUnit::Percent => self.magnitude / 100.0,
            LiteralUnit::Seconds => self.magnitude * 1000.0,
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.magnitude, self.unit.suffix())
    }
}

impl LiteralUnit {
    /// The suffix as written after the number (`""`, `"%"`, `"ms"`, `"s"`).
    pub fn suffix(self) -> &'static str {
        match self {
            LiteralUnit::None => "",
            LiteralUnit::Percent => "%",
            LiteralUnit::Millis => "ms",
            LiteralUnit::Seconds => "s",
        }
    }

    /// The unit for a suffix, `None` when the suffix is not one the language knows.
    pub fn from_suffix(suffix: &str) -> Option<LiteralUnit> {
        match suffix {
            "" => Some(LiteralUnit::None),
            "%" => Some(LiteralUnit::Percent),
            "ms" => Some(LiteralUnit::Millis),
            "s" => Some(LiteralUnit::Seconds),
            _ => None,
        }
    }
}

impl fmt::Display for MetricRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            Scope::Canary => f.write_str(&self.name),
            scope => write!(f, "{scope}.{}", self.name),
        }
    }
}

impl Scope {
    /// Every scope, in the order they are listed to users.
    pub const ALL: [Scope; 3] = [Scope::Canary, Scope::Baseline, Scope::Stable];

    /// The prefix as written in conditions (`"baseline"`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Canary => "canary",
            Scope::Baseline => "baseline",
            Scope::Stable => "stable",
        }
    }

    /// The scope for a prefix, `None` when the word is not a scope.
    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl ArithOp {
    /// The operator as written (`"+"`).
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}

impl CmpOp {
    /// The operator as written (`">="`).
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl LogicOp {
    /// The keyword as printed (`"and"`).
    pub fn keyword(self) -> &'static str {
        match self {
            LogicOp::And => "and",
            LogicOp::Or => "or",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(magnitude: f64, unit: LiteralUnit) -> Expr {
        Expr::new(ExprKind::Literal(Literal { magnitude, unit }), 0..0)
    }

    fn metric(scope: Scope, name: &str) -> Expr {
        let m = MetricRef {
            scope,
            name: name.to_owned(),
        };
        Expr::new(ExprKind::Metric(m), 0..0)
    }

    fn arith(op: ArithOp, l: Expr, r: Expr) -> Expr {
        Expr::new(ExprKind::Arith(op, Box::new(l), Box::new(r)), 0..0)
    }

    #[test]
    fn literal_values_are_in_base_units() {
        assert_eq!(
            Literal {
                magnitude: 5.0,
                unit: LiteralUnit::Percent
            }
            .value(),
            0.05
        );
        assert_eq!(
            Literal {
                magnitude: 1.5,
                unit: LiteralUnit::Seconds
            }
            .value(),
            1500.0
        );
        assert_eq!(
            Literal {
                magnitude: 200.0,
                unit: LiteralUnit::Millis
            }
            .value(),
            200.0
        );
        assert_eq!(
            Literal {
                magnitude: 1.5,
                unit: LiteralUnit::None
            }
            .value(),
            1.5
        );
    }

    #[test]
    fn display_places_only_needed_parentheses() {
        let a = metric(Scope::Canary, "a");
        let b = metric(Scope::Baseline, "b");
        let c = lit(2.0, LiteralUnit::Percent);
        let left = arith(
            ArithOp::Sub,
            arith(ArithOp::Sub, a.clone(), b.clone()),
            c.clone(),
        );
        assert_eq!(left.to_string(), "a - baseline.b - 2%");
        let right = arith(
            ArithOp::Sub,
            a.clone(),
            arith(ArithOp::Sub, b.clone(), c.clone()),
        );
        assert_eq!(right.to_string(), "a - (baseline.b - 2%)");
        let product = arith(ArithOp::Mul, arith(ArithOp::Add, a, b), c);
        assert_eq!(product.to_string(), "(a + baseline.b) * 2%");
    }

    #[test]
    fn display_of_negation_and_not() {
        let a = metric(Scope::Stable, "a");
        let neg = Expr::new(ExprKind::Neg(Box::new(a.clone())), 0..0);
        let negneg = Expr::new(ExprKind::Neg(Box::new(neg.clone())), 0..0);
        assert_eq!(negneg.to_string(), "--stable.a");
        let sum = arith(ArithOp::Add, a.clone(), lit(1.0, LiteralUnit::None));
        let neg_sum = Expr::new(ExprKind::Neg(Box::new(sum)), 0..0);
        assert_eq!(neg_sum.to_string(), "-(stable.a + 1)");
        let cmp = Expr::new(
            ExprKind::Compare(CmpOp::Ge, Box::new(a), Box::new(neg)),
            0..0,
        );
        let not = Expr::new(ExprKind::Not(Box::new(cmp)), 0..0);
        assert_eq!(not.to_string(), "not stable.a >= -stable.a");
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::from_name(scope.name()), Some(scope));
        }
        assert_eq!(Scope::from_name("Baseline"), None);
    }

    #[test]
    fn unit_suffixes_round_trip() {
        for unit in [
            LiteralUnit::None,
            LiteralUnit::Percent,
            LiteralUnit::Millis,
            LiteralUnit::Seconds,
        ] {
            assert_eq!(LiteralUnit::from_suffix(unit.suffix()), Some(unit));
        }
        assert_eq!(LiteralUnit::from_suffix("m"), None);
    }
}
