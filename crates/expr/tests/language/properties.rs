//! Properties: the parser is total, printing round-trips, interval evaluation is sound.

use proptest::prelude::*;
use proptest::sample::select;
use rollgate_expr::{
    ArithOp, CmpOp, Condition, Expr, ExprKind, Interval, Literal, LiteralUnit, LogicOp, MetricRef,
    Scope, Truth, parse,
};

use crate::support::{EXAMPLES, MapEnv, catalog};

/// Pieces of conditions, valid and not, glued into random sequences.
const TOKENS: &[&str] = &[
    "error_rate",
    "p99_latency",
    "requests",
    "apdex",
    "eror_rate",
    "baseline",
    "canary",
    "stable",
    ".",
    "baseline.",
    "stable.p99_latency",
    "5%",
    "0.5%",
    "200ms",
    "1.5s",
    "1.5",
    "1_000",
    "0",
    "2m",
    "1e3",
    "(",
    ")",
    "+",
    "-",
    "*",
    "/",
    ">",
    ">=",
    "<",
    "<=",
    "==",
    "!=",
    "and",
    "or",
    "not",
    "AND",
    "&&",
    "||",
    "!",
    "=",
    "≥",
    "é",
    "\n",
    "\t",
    "_",
    "%",
    "\u{a0}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((select(TOKENS), any::<bool>()), 0..40).prop_map(|pieces| {
        pieces
            .into_iter()
            .map(|(t, space)| if space { format!("{t} ") } else { t.to_owned() })
            .collect()
    })
}

/// Parsing and checking any text gives a condition or an error positioned inside the text.
fn total(src: &str) -> Result<(), TestCaseError> {
    match Condition::parse(src, &catalog()) {
        Ok(c) => {
            let canonical = c.to_string();
            let again = Condition::parse(&canonical, &catalog());
            prop_assert!(
                again.is_ok(),
                "{canonical:?} from {src:?} does not parse: {again:?}"
            );
            prop_assert_eq!(again.map(|a| a.to_string()).unwrap_or_default(), canonical);
            // Without data only what holds for every value may be decided.
            let without_data = c.eval(&MapEnv::default());
            let ones = c.metrics().iter().fold(MapEnv::default(), |env, m| {
                env.with(m.scope, &m.name, Interval::exact(1.0))
            });
            if without_data != Truth::Unknown {
                prop_assert_eq!(c.eval(&ones), without_data);
            }
        }
        Err(e) => {
            prop_assert!(
                e.span.start <= e.span.end && e.span.end <= src.len(),
                "{e:?} in {src:?}"
            );
            prop_assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
            prop_assert!(e.line() >= 1 && e.column() >= 1);
            prop_assert!(e.render().starts_with("error: "));
        }
    }
    Ok(())
}

fn node(kind: ExprKind) -> Expr {
    Expr::new(kind, 0..0)
}

fn num_expr() -> impl Strategy<Value = Expr> {
    let units = vec![
        LiteralUnit::None,
        LiteralUnit::Percent,
        LiteralUnit::Millis,
        LiteralUnit::Seconds,
    ];
    let literal = (0u32..100_000, select(units)).prop_map(|(n, unit)| {
        node(ExprKind::Literal(Literal {
            magnitude: f64::from(n) / 100.0,
            unit,
        }))
    });
    let names = vec!["error_rate", "p99_latency", "requests", "x_1"];
    let metric = (select(Scope::ALL.to_vec()), select(names)).prop_map(|(scope, name)| {
        node(ExprKind::Metric(MetricRef {
            scope,
            name: name.to_owned(),
        }))
    });
    let ops = vec![ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div];
    prop_oneof![literal, metric].prop_recursive(4, 24, 2, move |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| node(ExprKind::Neg(Box::new(e)))),
            (select(ops.clone()), inner.clone(), inner)
                .prop_map(|(op, l, r)| node(ExprKind::Arith(op, Box::new(l), Box::new(r)))),
        ]
    })
}

fn bool_expr() -> impl Strategy<Value = Expr> {
    let cmps = vec![
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Eq,
        CmpOp::Ne,
    ];
    let comparison = (select(cmps), num_expr(), num_expr())
        .prop_map(|(op, l, r)| node(ExprKind::Compare(op, Box::new(l), Box::new(r))));
    comparison.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| node(ExprKind::Not(Box::new(e)))),
            (
                select(vec![LogicOp::And, LogicOp::Or]),
                inner.clone(),
                inner
            )
                .prop_map(|(op, l, r)| node(ExprKind::Logic(
                    op,
                    Box::new(l),
                    Box::new(r)
                ))),
        ]
    })
}

/// The tree with every span emptied, to compare structure only.
fn strip(e: &Expr) -> Expr {
    let b = |e: &Expr| Box::new(strip(e));
    node(match &e.kind {
        ExprKind::Literal(lit) => ExprKind::Literal(*lit),
        ExprKind::Metric(m) => ExprKind::Metric(m.clone()),
        ExprKind::Neg(x) => ExprKind::Neg(b(x)),
        ExprKind::Not(x) => ExprKind::Not(b(x)),
        ExprKind::Arith(op, l, r) => ExprKind::Arith(*op, b(l), b(r)),
        ExprKind::Compare(op, l, r) => ExprKind::Compare(*op, b(l), b(r)),
        ExprKind::Logic(op, l, r) => ExprKind::Logic(*op, b(l), b(r)),
    })
}

/// Well-typed conditions using every operator.
const CONDITIONS: &[&str] = &[
    "p99_latency / baseline.p99_latency >= 1.2",
    "-error_rate <= -1% or not apdex == 2",
    "requests * error_rate != 3 and apdex * 2 < baseline.apdex - 1",
    "(error_rate - baseline.error_rate) / 2 > stable.error_rate * -0.5",
    "p99_latency * (error_rate + 1%) < 1s",
];

/// A value on a coarse grid, so equal bounds and touching intervals happen often.
fn grid() -> impl Strategy<Value = f64> {
    (-40i32..40).prop_map(|n| f64::from(n) / 4.0)
}

fn envs(metrics: &[MetricRef], values: &[(f64, f64, f64, f64)]) -> (MapEnv, MapEnv) {
    let (mut intervals, mut points) = (MapEnv::default(), MapEnv::default());
    for (m, &(a, b, c, t)) in metrics.iter().zip(values) {
        let mut v = [a, b, c];
        v.sort_by(f64::total_cmp);
        let [lo, est, hi] = v;
        let point = (lo + t * (hi - lo)).clamp(lo, hi);
        intervals = intervals.with(m.scope, &m.name, Interval { lo, est, hi });
        points = points.with(m.scope, &m.name, Interval::exact(point));
    }
    (intervals, points)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        total(&src)?;
    }

    #[test]
    fn printable_text_never_panics(src in "\\PC{0,80}") {
        total(&src)?;
    }

    #[test]
    fn token_soup_never_panics(src in soup()) {
        total(&src)?;
    }

    #[test]
    fn printing_round_trips(e in bool_expr()) {
        let printed = e.to_string();
        let parsed = parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed:?}: {parsed:?}");
        let parsed = parsed.map_err(|err| TestCaseError::fail(err.render()))?;
        prop_assert_eq!(strip(&parsed), e);
        prop_assert_eq!(parsed.span, 0..printed.len());
    }

    /// Whatever an interval evaluation decides holds for every point inside the intervals.
    #[test]
    fn interval_verdicts_hold_for_every_point(
        which in 0..CONDITIONS.len() + EXAMPLES.len(),
        values in prop::collection::vec((grid(), grid(), grid(), 0.0..=1.0f64), 8),
    ) {
        let src = CONDITIONS.get(which).copied().unwrap_or_else(|| EXAMPLES[which - CONDITIONS.len()]);
        let c = Condition::parse(src, &catalog()).map_err(|e| TestCaseError::fail(e.render()))?;
        let (intervals, points) = envs(c.metrics(), &values);
        let verdict = c.eval(&intervals);
        if verdict != Truth::Unknown {
            prop_assert_eq!(c.eval(&points), verdict, "{} over {:?} vs {:?}", src, intervals, points);
        }
        let negated = Condition::parse(&format!("not ({src})"), &catalog()).map_err(|e| TestCaseError::fail(e.render()))?;
        prop_assert_eq!(negated.eval(&intervals), !verdict);
        prop_assert_eq!(c.explain(&intervals).truth, verdict);
    }
}
