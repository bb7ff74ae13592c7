//! Numbers and times as people read them: percentages for ratios, ms or s for durations,
//! thousands separators for counts, UTC times, "3 min 12 s" for elapsed time.

use rollgate_core::model::UnixMillis;
use rollgate_metrics::MetricUnit;

/// Counts and p-values read as in the verdicts' reasons: `12,345`, `p=0.0031`.
pub(crate) use rollgate_analysis::format::{p_value, thousands};

/// A metric value in its unit: `0.83%`, `182 ms`, `1,204`.
pub(crate) fn value(unit: MetricUnit, v: f64) -> String {
    match unit {
        MetricUnit::Ratio => ratio(v),
        MetricUnit::DurationMs => millis(v),
        MetricUnit::Count => count_f(v),
        MetricUnit::Number => number(v),
    }
}

/// A fraction as a percentage with the precision its size deserves.
pub(crate) fn ratio(v: f64) -> String {
    let pct = v * 100.0;
    if !pct.is_finite() {
        return "—".into();
    }
    let text = if pct == 0.0 {
        "0".to_string()
    } else if pct.abs() >= 10.0 {
        format!("{pct:.1}")
    } else if pct.abs() >= 1.0 {
        format!("{pct:.2}")
    } else {
        format!("{pct:.3}")
    };
    format!("{}%", trim_zeros(&text))
}

/// Milliseconds: `0.42 ms`, `182 ms`, `1.53 s`.
pub(crate) fn millis(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.abs() >= 1_000.0 {
        format!("{} s", trim_zeros(&format!("{:.2}", v / 1_000.0)))
    } else if v.abs() >= 10.0 {
        format!("{v:.0} ms")
    } else {
        format!("{} ms", trim_zeros(&format!("{v:.2}")))
    }
}

/// A plain number with at most three decimals.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.abs() >= 1_000.0 && v.fract() == 0.0 {
        return count_f(v);
    }
    trim_zeros(&format!("{v:.3}"))
}

fn count_f(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.fract() != 0.0 {
        return trim_zeros(&format!("{v:.2}"));
    }
    let sign = if v < 0.0 { "-" } else { "" };
    // Counts on charts are far below 2^53; the cast is exact there and saturates beyond.
    format!("{sign}{}", thousands(v.abs().round() as u64))
}

/// How long, in the two largest units: `45 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`.
pub(crate) fn elapsed(ms: i64) -> String {
    let s = ms.max(0) / 1_000;
    let (d, h, m, sec) = (s / 86_400, (s / 3_600) % 24, (s / 60) % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec} s"),
        (0, 0, _) => format!("{m} min {sec} s"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// `2025-06-01 12:00:03 UTC`.
pub(crate) fn time(at: UnixMillis) -> String {
    strftime(at, "%Y-%m-%d %H:%M:%S UTC")
}

/// `12:00:03` (UTC), for axes and compact logs.
pub(crate) fn clock(at: UnixMillis) -> String {
    strftime(at, "%H:%M:%S")
}

/// `12:00` (UTC), for time axes.
pub(crate) fn hour_minute(at: UnixMillis) -> String {
    strftime(at, "%H:%M")
}

/// `06-01 12:00` (UTC), for time axes spanning days.
pub(crate) fn day_hour(at: UnixMillis) -> String {
    strftime(at, "%m-%d %H:%M")
}

fn strftime(at: UnixMillis, pattern: &str) -> String {
    match jiff::Timestamp::from_millisecond(at) {
        Ok(ts) => ts.strftime(pattern).to_string(),
        Err(_) => format!("{at} ms"),
    }
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_as_percentages() {
        assert_eq!(ratio(0.05), "5%");
        assert_eq!(ratio(0.0083), "0.83%");
        assert_eq!(ratio(0.123), "12.3%");
        assert_eq!(ratio(0.000_25), "0.025%");
        assert_eq!(ratio(0.0), "0%");
        assert_eq!(ratio(1.0), "100%");
        assert_eq!(ratio(f64::NAN), "—");
    }

    #[test]
    fn durations_read_in_ms_or_s() {
        assert_eq!(millis(182.4), "182 ms");
        assert_eq!(millis(2.5), "2.5 ms");
        assert_eq!(millis(1_530.0), "1.53 s");
        assert_eq!(millis(2_000.0), "2 s");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(value(MetricUnit::Count, 12_345_678.0), "12,345,678");
        assert_eq!(value(MetricUnit::Count, 1204.0), "1,204");
        assert_eq!(value(MetricUnit::Number, 1.5), "1.5");
    }

    #[test]
    fn elapsed_uses_two_units() {
        assert_eq!(elapsed(45_000), "45 s");
        assert_eq!(elapsed(192_000), "3 min 12 s");
        assert_eq!(elapsed(7_500_000), "2 h 5 min");
        assert_eq!(elapsed(273_600_000), "3 d 4 h");
        assert_eq!(elapsed(-5), "0 s");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(clock(3_723_000), "01:02:03");
        assert_eq!(hour_minute(3_723_000), "01:02");
        assert_eq!(day_hour(86_400_000 + 60_000), "01-02 00:01");
    }
}
