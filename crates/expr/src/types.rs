//! The types of the language and the rules that combine them.
//!
//! | operation | result |
//! | --- | --- |
//! | `T + T`, `T - T` | `T` |
//! | `Count ± Number`, `Number ± Count` | `Count` |
//! | `Number * T`, `T * Number` | `T` |
//! | `A * B` (neither a duration, or one of them) | the stronger of the two: duration > count > ratio > number |
//! | `Duration * Duration` | error |
//! | `T / T` | `Number` |
//! | `T / U` where `U` is a number, count or ratio | `T` |
//! | `T / Duration` where `T` is not a duration | error |
//! | `T op T`, `Count op Number` (comparisons) | `Bool` |
//! | anything else compared | error (ratio vs number hints `5%`, duration vs number hints `200ms`) |
//! | `and`, `or`, `not` | need `Bool`, give `Bool` |

use std::fmt;

use rollgate_metrics::MetricUnit;
use serde::{Deserialize, Serialize};

use crate::ast::{ArithOp, LiteralUnit};

/// The type of a value in a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    /// A fraction, written as a percentage (`5%` is `0.05`).
    Ratio,
    /// A duration in milliseconds (`200ms`, `1.5s`).
    Duration,
    /// A number of things; mixes freely with plain numbers.
    Count,
    /// A plain number (`1.5`), the scale factor in `1.5 * baseline.p99_latency`.
    Number,
    /// True or false: what comparisons and `and` / `or` / `not` produce.
    Bool,
}

impl Type {
    /// The type of a metric with this unit.
    pub fn of_metric(unit: MetricUnit) -> Type {
        match unit {
            MetricUnit::Ratio => Type::Ratio,
            MetricUnit::DurationMs => Type::Duration,
            MetricUnit::Count => Type::Count,
            MetricUnit::Number => Type::Number,
        }
    }

    /// The type of a literal with this unit suffix.
    pub fn of_literal(unit: LiteralUnit) -> Type {
        match unit {
            LiteralUnit::None => Type::Number,
            LiteralUnit::Percent => Type::Ratio,
            LiteralUnit::Millis | LiteralUnit::Seconds => Type::Duration,
        }
    }

    /// Whether values of this type are numbers (everything except `Bool`).
    pub fn is_numeric(self) -> bool {
        self != Type::Bool
    }

    /// The type of `lhs op rhs`, `None` when the operation makes no sense for these types.
    pub fn arith(op: ArithOp, lhs: Type, rhs: Type) -> Option<Type> {
        if !lhs.is_numeric() || !rhs.is_numeric() {
            return None;
        }
        match op {
            ArithOp::Add | ArithOp::Sub => Type::common(lhs, rhs),
            ArithOp::Mul if lhs == Type::Duration && rhs == Type::Duration => None,
            ArithOp::Mul => Some(lhs.max_strength(rhs)),
            ArithOp::Div if lhs == rhs => Some(Type::Number),
            ArithOp::Div if rhs == Type::Duration => None,
            ArithOp::Div => Some(lhs),
        }
    }

    /// The type both sides of a comparison or a sum share, `None` when they do not.
    pub fn common(lhs: Type, rhs: Type) -> Option<Type> {
        match (lhs, rhs) {
            _ if lhs == rhs && lhs.is_numeric() => Some(lhs),
            (Type::Count, Type::Number) | (Type::Number, Type::Count) => Some(Type::Count),
            _ => None,
        }
    }

    fn max_strength(self, other: Type) -> Type {
        let strength = |t: Type| match t {
            Type::Duration => 3,
            Type::Count => 2,
            Type::Ratio => 1,
            Type::Number | Type::Bool => 0,
        };
        if strength(other) > strength(self) {
            other
        } else {
            self
        }
    }

    /// The name with an article, for messages (`"a ratio"`).
    pub fn described(self) -> &'static str {
        match self {
            Type::Ratio => "a ratio",
            Type::Duration => "a duration",
            Type::Count => "a count",
            Type::Number => "a plain number",
            Type::Bool => "a true/false value",
        }
    }

    /// A value of this type as a person reads it: `6.1%`, `180ms`, `2.5s`, `1200`, `1.25`.
    pub fn format(self, value: f64) -> String {
        match self {
            Type::Ratio => format!("{}%", significant(value * 100.0)),
            Type::Duration if value.abs() >= 1000.0 => format!("{}s", significant(value / 1000.0)),
            Type::Duration => format!("{}ms", significant(value)),
            Type::Count if value.fract() == 0.0 && value.abs() < 1e15 => format!("{value}"),
            Type::Count | Type::Number | Type::Bool => significant(value),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Ratio => "ratio",
            Type::Duration => "duration",
            Type::Count => "count",
            Type::Number => "number",
            Type::Bool => "bool",
        })
    }
}

/// `x` with three significant digits (more for large integers), without trailing zeros.
pub(crate) fn significant(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = if x == 0.0 {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    let decimals = (2 - magnitude).clamp(0, 12) as usize;
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Type::{Bool, Count, Duration, Number, Ratio};

    #[test]
    fn sums_need_the_same_type_except_counts_and_numbers() {
        assert_eq!(Type::arith(ArithOp::Add, Ratio, Ratio), Some(Ratio));
        assert_eq!(
            Type::arith(ArithOp::Sub, Duration, Duration),
            Some(Duration)
        );
        assert_eq!(Type::arith(ArithOp::Add, Count, Number), Some(Count));
        assert_eq!(Type::arith(ArithOp::Sub, Number, Count), Some(Count));
        assert_eq!(Type::arith(ArithOp::Sub, Ratio, Number), None);
        assert_eq!(Type::arith(ArithOp::Add, Duration, Ratio), None);
        assert_eq!(Type::arith(ArithOp::Add, Bool, Bool), None);
    }

    #[test]
    fn products_scale() {
        assert_eq!(Type::arith(ArithOp::Mul, Number, Duration), Some(Duration));
        assert_eq!(Type::arith(ArithOp::Mul, Ratio, Number), Some(Ratio));
        assert_eq!(Type::arith(ArithOp::Mul, Ratio, Count), Some(Count));
        assert_eq!(Type::arith(ArithOp::Mul, Ratio, Duration), Some(Duration));
        assert_eq!(Type::arith(ArithOp::Mul, Duration, Duration), None);
        assert_eq!(Type::arith(ArithOp::Mul, Number, Bool), None);
    }

    #[test]
    fn quotients() {
        assert_eq!(Type::arith(ArithOp::Div, Duration, Duration), Some(Number));
        assert_eq!(Type::arith(ArithOp::Div, Count, Count), Some(Number));
        assert_eq!(Type::arith(ArithOp::Div, Duration, Number), Some(Duration));
        assert_eq!(Type::arith(ArithOp::Div, Duration, Count), Some(Duration));
        assert_eq!(Type::arith(ArithOp::Div, Count, Number), Some(Count));
        assert_eq!(Type::arith(ArithOp::Div, Number, Duration), None);
        assert_eq!(Type::arith(ArithOp::Div, Count, Duration), None);
    }

    #[test]
    fn comparisons_share_a_type() {
        assert_eq!(Type::common(Ratio, Ratio), Some(Ratio));
        assert_eq!(Type::common(Count, Number), Some(Count));
        assert_eq!(Type::common(Ratio, Number), None);
        assert_eq!(Type::common(Duration, Number), None);
        assert_eq!(Type::common(Bool, Bool), None);
    }

    #[test]
    fn formats_values_for_people() {
        assert_eq!(Ratio.format(0.061), "6.1%");
        assert_eq!(Ratio.format(0.05), "5%");
        assert_eq!(Ratio.format(0.000123), "0.0123%");
        assert_eq!(Duration.format(180.0), "180ms");
        assert_eq!(Duration.format(0.25), "0.25ms");
        assert_eq!(Duration.format(2500.0), "2.5s");
        assert_eq!(Count.format(1234567.0), "1234567");
        assert_eq!(Count.format(12.345), "12.3");
        assert_eq!(Number.format(1.25), "1.25");
        assert_eq!(Number.format(-0.0001), "-0.0001");
        assert_eq!(Number.format(0.0), "0");
        assert_eq!(Number.format(f64::INFINITY), "inf");
    }
}
