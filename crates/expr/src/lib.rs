//! The condition language operators write in config and in the API: `error_rate > 5%`,
//! `p99_latency > 1.5 * baseline.p99_latency`, `error_rate > 1% and requests > 500`.
//!
//! A condition is parsed once (with a byte span on every node), checked against the
//! [`Catalog`] of declared metrics (names resolved, units typed: ratio, duration, count,
//! number), and then evaluated many times over values with confidence intervals, in
//! three-valued logic: missing or inconclusive data is [`Truth::Unknown`], never false.
//! Errors point at a line and column and say what to write instead.
//!
//! Pure: no IO, no clock, no environment. The language is described in `docs/analysis.md`.

mod ast;
mod catalog;
mod check;
mod condition;
mod error;
mod eval;
mod interval;
mod lexer;
mod linear;
mod parser;
mod types;

pub use ast::{ArithOp, CmpOp, Expr, ExprKind, Literal, LiteralUnit, LogicOp, MetricRef, Scope};
pub use catalog::{Catalog, is_metric_name};
pub use condition::{Comparison, Condition};
pub use error::{ErrorKind, ExprError};
pub use eval::{Env, Evaluation, Observation, Truth};
pub use interval::Interval;
pub use linear::{Linear, Term, as_linear};
pub use parser::parse;
pub use rollgate_metrics::MetricUnit;
pub use types::Type;
