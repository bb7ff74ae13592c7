//! Every checking error, tested as the text a user sees.

use rollgate_expr::{Condition, ErrorKind, ExprError};

use crate::support::catalog;

fn error(src: &str) -> ExprError {
    Condition::parse(src, &catalog()).unwrap_err()
}

fn rendered(src: &str) -> String {
    error(src).render()
}

#[test]
fn unknown_metric_with_a_suggestion() {
    let expected = "\
error: unknown metric \"eror_rate\"
 --> line 1, column 1
  |
1 | eror_rate > 5%
  | ^^^^^^^^^ did you mean \"error_rate\"?";
    assert_eq!(rendered("eror_rate > 5%"), expected);
    let err = error("eror_rate > 5%");
    assert_eq!(err.kind, ErrorKind::UnknownMetric);
    assert_eq!(
        err.to_string(),
        "unknown metric \"eror_rate\" (did you mean \"error_rate\"?)"
    );
}

#[test]
fn unknown_metric_without_a_close_name_lists_the_declared_ones() {
    let expected = "\
error: unknown metric \"latency\"
 --> line 1, column 1
  |
1 | baseline.latency > 1s
  | ^^^^^^^^^^^^^^^^ declared metrics: apdex, avg_page_load_ms, conversion_rate, error_rate, http_5xx, p99_latency, requests";
    assert_eq!(rendered("baseline.latency > 1s"), expected);
}

#[test]
fn a_ratio_compared_with_a_fraction_points_at_the_literal() {
    let expected = "\
error: cannot compare a ratio with a plain number
 --> line 1, column 14
  |
1 | error_rate > 0.05
  |              ^^^^ write `5%` instead of `0.05`";
    assert_eq!(rendered("error_rate > 0.05"), expected);
    assert_eq!(error("error_rate > 0.05").kind, ErrorKind::Type);
}

#[test]
fn literal_hints() {
    let help = |src: &str| error(src).help.unwrap_or_default();
    assert_eq!(help("error_rate > 5"), "write `5%` instead of `5`");
    assert_eq!(help("0.5 < error_rate"), "write `50%` instead of `0.5`");
    assert_eq!(help("p99_latency > 200"), "write `200ms`");
    assert_eq!(
        help("p99_latency / baseline.p99_latency > 150%"),
        "write `1.5` instead of `150%`"
    );
    assert_eq!(
        error("conversion_rate < baseline.conversion_rate - 0.02").to_string(),
        "cannot subtract a plain number from a ratio (write `2%` instead of `0.02`)"
    );
}

#[test]
fn mismatched_units_name_both_types() {
    let expected = "\
error: cannot compare a ratio with a duration
 --> line 1, column 1
  |
1 | error_rate > p99_latency
  | ^^^^^^^^^^^^^^^^^^^^^^^^";
    assert_eq!(rendered("error_rate > p99_latency"), expected);
    let message = |src: &str| error(src).message;
    assert_eq!(
        message("requests > 5%"),
        "cannot compare a count with a ratio"
    );
    assert_eq!(
        message("p99_latency * p99_latency > 1s"),
        "cannot multiply a duration by a duration"
    );
    assert_eq!(
        message("requests / p99_latency > 1"),
        "cannot divide a count by a duration"
    );
    assert_eq!(
        message("error_rate + 5ms > 1%"),
        "cannot add a ratio and a duration"
    );
    assert_eq!(
        message("(error_rate > 1%) > 2%"),
        "cannot compare a true/false value with a ratio"
    );
}

#[test]
fn conditions_must_be_true_or_false() {
    let expected = "\
error: a condition must be true or false, but this is a ratio
 --> line 1, column 1
  |
1 | error_rate * 2
  | ^^^^^^^^^^^^^^ compare it with a threshold, e.g. `error_rate > 5%`";
    assert_eq!(rendered("error_rate * 2"), expected);
    assert_eq!(
        error("error_rate > 5% and requests").to_string(),
        "`and` needs a comparison, but this is a count (compare it with a threshold, e.g. `error_rate > 5%`)"
    );
    assert_eq!(
        error("not apdex").message,
        "`not` needs a comparison, but this is a plain number"
    );
    assert_eq!(
        error("-(error_rate > 1%) or apdex > 1").to_string(),
        "cannot negate a true/false value with `-` (write `not` to negate a comparison)"
    );
}

#[test]
fn positions_count_characters_across_lines() {
    let src = "error_rate > 5%\n   and größe > 1";
    let err = error(src);
    assert_eq!((err.line(), err.column()), (2, 10));
    let expected = "\
error: unexpected character `ö`
 --> line 2, column 10
  |
2 |    and größe > 1
  |          ^ names are made of ASCII letters, digits and `_`";
    assert_eq!(err.render(), expected);
    let src = "error_rate\u{a0}>\u{a0}5%\u{a0}and eror_rate > 1%";
    let err = error(src);
    assert_eq!(err.span, 23..32);
    assert_eq!((err.line(), err.column()), (1, 21));
    assert!(
        err.render()
            .ends_with("\n  |                     ^^^^^^^^^ did you mean \"error_rate\"?"),
        "{}",
        err.render()
    );
}

#[test]
fn syntax_errors_render_with_their_hint() {
    let expected = "\
error: unknown operator `&&`
 --> line 1, column 17
  |
1 | error_rate > 1% && requests > 500
  |                 ^^ write `and`";
    assert_eq!(rendered("error_rate > 1% && requests > 500"), expected);
    let expected = "\
error: unknown unit `m`
 --> line 1, column 15
  |
1 | p99_latency > 2m
  |               ^^ durations are written in `ms` or `s`: write `120s`";
    assert_eq!(rendered("p99_latency > 2m"), expected);
    let expected = "\
error: expected a number, a metric or `(`, found the end of the condition
 --> line 1, column 13
  |
1 | error_rate >
  |             ^";
    assert_eq!(rendered("error_rate >"), expected);
    let expected = "\
error: unexpected character `≥`
 --> line 1, column 12
  |
1 | error_rate ≥ 5%
  |            ^ write `>=`";
    assert_eq!(rendered("error_rate ≥ 5%"), expected);
}

#[test]
fn the_first_error_in_the_text_is_reported() {
    assert_eq!(error("eror_rate > 0.05").kind, ErrorKind::UnknownMetric);
    assert_eq!(
        error("error_rate > > 5% && x").message,
        "expected a number, a metric or `(`, found `>`"
    );
}
