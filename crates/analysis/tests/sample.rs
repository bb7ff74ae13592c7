//! `examples/metrics-sample.json` analysed through the library, with the conditions of
//! `examples/rollgate.toml`: the numbers in it make the outcome depend on the statistics.
#![allow(clippy::unwrap_used)]

use rollgate_analysis::format::p_value;
use rollgate_analysis::{
    AnalysisSpec, ConditionSpec, Method, Outcome, RolloutMetrics, RolloutVerdict, analyze,
};

fn sample() -> RolloutMetrics {
    let path = format!(
        "{}/../../examples/metrics-sample.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn spec() -> AnalysisSpec {
    AnalysisSpec {
        conditions: vec![
            ConditionSpec::new("errors", "error_rate > 5%"),
            ConditionSpec::new("latency", "p99_latency > 1.5 * baseline.p99_latency"),
            ConditionSpec {
                critical: false,
                ..ConditionSpec::new(
                    "conversion",
                    "conversion_rate < baseline.conversion_rate - 2%",
                )
            },
        ],
        ..AnalysisSpec::default()
    }
}

fn verdict() -> RolloutVerdict {
    let doc = sample();
    analyze(&doc, &spec().build(&doc.catalog()).unwrap())
}

#[test]
fn the_sample_fails_on_errors_only() {
    let v = verdict();
    let outcomes: Vec<(&str, Outcome)> = v
        .conditions
        .iter()
        .map(|c| (c.name.as_str(), c.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("errors", Outcome::Fail),
            ("latency", Outcome::Pass),
            ("conversion", Outcome::Inconclusive)
        ],
        "{v}"
    );
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.srm.checked && !v.srm.alarm, "{:?}", v.srm);
}

#[test]
fn the_errors_verdict_carries_its_numbers() {
    let v = verdict();
    let errors = &v.conditions[0];
    assert_eq!(
        errors.reason,
        format!(
            "error_rate 6.9% vs baseline 0.902% (n=12,040 vs 11,980), fails \"error_rate > 5%\"; sequential p={}",
            p_value(errors.p_value.unwrap())
        )
    );
    assert!(errors.p_value.unwrap() < 1e-6);
    assert_eq!(errors.comparisons[0].method, Method::Sequential);
    let margin = errors.comparisons[0].margin.unwrap();
    // 6.9% − 5% with an always-valid lower bound above zero, but well below the estimate.
    assert!(margin.lower.unwrap() > 0.0 && margin.lower.unwrap() < margin.estimate - 0.005);
    let effect = errors.effect.as_ref().unwrap();
    assert!((effect.absolute - (831.0 / 12040.0 - 108.0 / 11980.0)).abs() < 1e-12);
}

#[test]
fn latency_passes_by_intervals_and_conversion_waits() {
    let v = verdict();
    let latency = &v.conditions[1];
    assert_eq!(latency.comparisons[0].method, Method::MannWhitney);
    assert!(
        latency.values.iter().all(|r| r.upper.is_some()),
        "{latency:?}"
    );
    let conversion = &v.conditions[2];
    assert_eq!(conversion.comparisons[0].method, Method::Sequential);
    assert!(conversion.p_value.unwrap() > 0.01);
    assert!(
        conversion.reason.contains("undecided on"),
        "{}",
        conversion.reason
    );
}

#[test]
fn renders_and_serialises() {
    let v = verdict();
    let text = v.to_string();
    println!("{text}");
    assert!(
        text.starts_with("rollout shop-v1.2 at 10%: FAIL — errors failed: error_rate 6.9%"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5, "{text}");
    let json = serde_json::to_string(&v).unwrap();
    let back: RolloutVerdict = serde_json::from_str(&json).unwrap();
    // Floats may come back one ulp off; everything people and scripts read is identical.
    assert_eq!(back.to_string(), text);
    assert_eq!(back.conditions.len(), 3);
}
