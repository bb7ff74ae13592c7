//! Evaluation of checked conditions: three-valued, over intervals, explained.

use rollgate_expr::{CmpOp, Condition, Interval, Linear, MetricRef, Scope, Term, Truth, Type};

use crate::support::{EXAMPLES, MapEnv, catalog, iv};

fn condition(src: &str) -> Condition {
    Condition::parse(src, &catalog()).unwrap()
}

fn canary(metric: &str, value: Interval) -> MapEnv {
    MapEnv::default().with(Scope::Canary, metric, value)
}

fn versus(metric: &str, canary_value: Interval, baseline_value: Interval) -> MapEnv {
    canary(metric, canary_value).with(Scope::Baseline, metric, baseline_value)
}

#[test]
fn every_example_checks() {
    for src in EXAMPLES {
        let c = condition(src);
        assert_eq!(c.to_string(), src, "the examples are already canonical");
        assert_eq!(c.source(), src);
    }
}

#[test]
fn a_threshold_is_true_false_or_unknown_by_where_the_interval_lies() {
    let c = condition("error_rate > 5%");
    assert_eq!(
        c.eval(&canary("error_rate", iv(0.055, 0.061, 0.07))),
        Truth::True
    );
    assert_eq!(
        c.eval(&canary("error_rate", iv(0.01, 0.02, 0.03))),
        Truth::False
    );
    assert_eq!(
        c.eval(&canary("error_rate", iv(0.04, 0.061, 0.08))),
        Truth::Unknown
    );
    assert_eq!(
        c.eval_point(&canary("error_rate", iv(0.04, 0.061, 0.08))),
        Truth::True
    );
    assert_eq!(
        c.eval_point(&canary("error_rate", iv(0.04, 0.049, 0.08))),
        Truth::False
    );
}

#[test]
fn missing_data_is_unknown_never_false() {
    let empty = MapEnv::default();
    for src in EXAMPLES {
        let c = condition(src);
        assert_eq!(c.eval(&empty), Truth::Unknown, "{src}");
        assert_eq!(c.eval_point(&empty), Truth::Unknown, "{src}");
        let negated = condition(&format!("not ({src})"));
        assert_eq!(negated.eval(&empty), Truth::Unknown, "not ({src})");
    }
    let malformed = canary(
        "error_rate",
        Interval {
            lo: 0.2,
            est: f64::NAN,
            hi: 0.1,
        },
    );
    assert_eq!(
        condition("error_rate > 5%").eval(&malformed),
        Truth::Unknown
    );
}

#[test]
fn kleene_logic_settles_what_it_can() {
    let c = condition("error_rate > 1% and requests > 500");
    let few = canary("requests", Interval::exact(100.0));
    assert_eq!(c.eval(&few), Truth::False, "false and unknown is false");
    let many = canary("requests", Interval::exact(1000.0));
    assert_eq!(c.eval(&many), Truth::Unknown, "true and unknown is unknown");
    let c = condition("error_rate > 1% or requests > 500");
    assert_eq!(c.eval(&many), Truth::True, "unknown or true is true");
}

#[test]
fn ratios_to_the_baseline() {
    let c = condition("p99_latency > 1.5 * baseline.p99_latency");
    let env = versus(
        "p99_latency",
        iv(170.0, 180.0, 190.0),
        iv(95.0, 100.0, 105.0),
    );
    assert_eq!(c.eval(&env), Truth::True);
    let env = env.with(Scope::Baseline, "p99_latency", iv(100.0, 120.0, 140.0));
    assert_eq!(
        c.eval(&env),
        Truth::Unknown,
        "1.5 × [100, 140] overlaps [170, 190]"
    );
    assert_eq!(c.eval_point(&env), Truth::False, "180 is exactly 1.5 × 120");
}

#[test]
fn differences_to_the_baseline() {
    let c = condition("conversion_rate < baseline.conversion_rate - 2%");
    let env = versus(
        "conversion_rate",
        iv(0.05, 0.06, 0.07),
        iv(0.095, 0.10, 0.105),
    );
    assert_eq!(c.eval(&env), Truth::True);
    let c = condition("avg_page_load_ms - baseline.avg_page_load_ms > 200ms");
    let env = versus(
        "avg_page_load_ms",
        iv(1400.0, 1500.0, 1600.0),
        iv(1000.0, 1100.0, 1150.0),
    );
    assert_eq!(
        c.eval(&env),
        Truth::True,
        "the difference is at least 250ms"
    );
}

#[test]
fn division_by_a_value_that_may_be_zero_is_unknown() {
    let c = condition("p99_latency / baseline.p99_latency > 1.5");
    let env = versus("p99_latency", Interval::exact(100.0), iv(0.0, 10.0, 20.0));
    assert_eq!(c.eval(&env), Truth::Unknown);
    let env = env.with(Scope::Baseline, "p99_latency", iv(40.0, 50.0, 60.0));
    assert_eq!(c.eval(&env), Truth::True);
}

#[test]
fn explanations_show_the_values_behind_each_comparison() {
    let c = condition("error_rate > 5% or p99_latency > 1.5 * baseline.p99_latency");
    let env = canary("error_rate", iv(0.055, 0.061, 0.07))
        .with(Scope::Canary, "p99_latency", iv(170.0, 180.0, 190.0))
        .with(Scope::Baseline, "p99_latency", iv(95.0, 100.0, 105.0));
    let explained = c.explain(&env);
    assert_eq!(explained.truth, Truth::True);
    let lines: Vec<String> = explained
        .comparisons
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "error_rate 6.1% > 5%",
            "p99_latency 180ms > 1.5 * baseline.p99_latency 150ms"
        ]
    );
    assert_eq!(
        explained.comparisons[1].rhs_value,
        Some(iv(142.5, 150.0, 157.5))
    );
    assert!(explained.comparisons.iter().all(|o| o.truth == Truth::True));
    let missing = c.explain(&MapEnv::default());
    assert_eq!(
        missing.comparisons[0].to_string(),
        "error_rate (no data) > 5%"
    );
    assert_eq!(missing.truth, Truth::Unknown);
    assert_eq!(c.explain_point(&env).truth, c.eval_point(&env));
}

#[test]
fn comparisons_and_their_linear_form() {
    let c = condition("p99_latency > 1.5 * baseline.p99_latency and requests >= 500");
    let comparisons = c.comparisons();
    assert_eq!(comparisons.len(), 2);
    assert_eq!(
        (comparisons[0].op, comparisons[0].ty),
        (CmpOp::Gt, Type::Duration)
    );
    assert_eq!(
        (comparisons[1].op, comparisons[1].ty),
        (CmpOp::Ge, Type::Count)
    );
    assert_eq!(comparisons[1].rhs.to_string(), "500");
    let linear = comparisons[0].linear().unwrap();
    let terms = vec![
        Term {
            coef: 1.0,
            scope: Scope::Canary,
            metric: "p99_latency".into(),
        },
        Term {
            coef: -1.5,
            scope: Scope::Baseline,
            metric: "p99_latency".into(),
        },
    ];
    assert_eq!(
        linear,
        Linear {
            terms,
            constant: 0.0
        }
    );
    let shifted = condition("conversion_rate < baseline.conversion_rate - 2%").comparisons()[0]
        .linear()
        .unwrap();
    assert_eq!(shifted.constant, 0.02);
    assert_eq!(shifted.coef(Scope::Baseline, "conversion_rate"), -1.0);
}

#[test]
fn metrics_lists_each_read_once_in_order() {
    let c = condition(
        "p99_latency > 1.5 * baseline.p99_latency or p99_latency > 2s and error_rate > 1%",
    );
    let expected = [
        MetricRef {
            scope: Scope::Canary,
            name: "p99_latency".into(),
        },
        MetricRef {
            scope: Scope::Baseline,
            name: "p99_latency".into(),
        },
        MetricRef {
            scope: Scope::Canary,
            name: "error_rate".into(),
        },
    ];
    assert_eq!(c.metrics(), expected);
}

#[test]
fn display_is_canonical_and_serialize_keeps_the_source() {
    let src = "error_rate>5%  AND (canary.requests>500)";
    let c = condition(src);
    assert_eq!(c.to_string(), "error_rate > 5% and requests > 500");
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        serde_json::to_string(src).unwrap()
    );
}

#[test]
fn counts_mix_with_plain_numbers() {
    let c = condition("http_5xx / requests > 0.05 and requests - 10 > 2 * 250");
    let env = canary("http_5xx", Interval::exact(60.0)).with(
        Scope::Canary,
        "requests",
        Interval::exact(1000.0),
    );
    assert_eq!(c.eval(&env), Truth::True);
    assert_eq!(c.comparisons()[0].ty, Type::Number);
}
