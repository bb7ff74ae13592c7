//! Parses and checks arbitrary UTF-8 as a condition against a fixed catalog; a condition that
//! checks must print to text that checks again to the same text, and evaluate without panic.
//! Every error must point inside the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rollgate_expr::{Catalog, Condition, Env, Interval, MetricUnit, Scope};

struct Fixed;

impl Env for Fixed {
    fn value(&self, scope: Scope, metric: &str) -> Option<Interval> {
        let base = match metric {
            "requests" => 1000.0,
            "error_rate" => 0.02,
            "p99_latency" => 180.0,
            _ => return None,
        };
        let shift = if scope == Scope::Canary { 1.5 } else { 1.0 };
        Interval::new(0.0, base * shift, base * 2.0)
    }
}

fn catalog() -> Catalog {
    [
        ("requests", MetricUnit::Count),
        ("error_rate", MetricUnit::Ratio),
        ("p99_latency", MetricUnit::DurationMs),
        ("conversion_rate", MetricUnit::Ratio),
        ("apdex", MetricUnit::Number),
    ]
    .into_iter()
    .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let catalog = catalog();
    match Condition::parse(src, &catalog) {
        Ok(condition) => {
            let canonical = condition.to_string();
            let again = Condition::parse(&canonical, &catalog)
                .unwrap_or_else(|e| panic!("{canonical:?} (from {src:?}) does not check:\n{}", e.render()));
            assert_eq!(again.to_string(), canonical, "printing is not stable for {src:?}");
            let _ = condition.explain(&Fixed);
            let _ = condition.eval_point(&Fixed);
            for c in condition.comparisons() {
                let _ = c.linear();
            }
        }
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= src.len(), "{e:?} outside {src:?}");
            assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
            assert!(e.line() >= 1 && e.column() >= 1);
            let _ = e.render();
        }
    }
});
