//! The statistics against reference values computed independently with scipy
//! (`tests/reference/make_reference.py` at the repository root), within 1e-6 relative.
#![allow(clippy::unwrap_used)]

use rollgate_analysis::stats::{
    Anytime, Estimate, Moments, chi_square_gof, mann_whitney, mann_whitney_bins, quantile_bounds,
    welch,
};
use serde_json::Value;

const RELATIVE: f64 = 1e-6;

fn cases(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/../../tests/reference/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 50, "{name}: only {} cases", cases.len());
    cases
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// Equal within 1e-6 relative; p-values scipy puts below 1e-290 (at or past underflow) must be
/// below 1e-290 here too.
fn close(what: &str, i: usize, actual: f64, expected: f64) {
    let ok = if expected.abs() < 1e-290 {
        actual.abs() < 1e-290
    } else {
        ((actual - expected) / expected).abs() <= RELATIVE
    };
    assert!(ok, "case {i}: {what} = {actual:e}, scipy says {expected:e}");
}

fn anytime(case: &Value) -> Anytime {
    Anytime::new(f(&case["alpha"]), f(&case["design_samples"])).unwrap()
}

fn check_sequential(i: usize, case: &Value, estimate: &Estimate) {
    let t = anytime(case).test(estimate);
    close("estimate", i, t.estimate, f(&case["estimate"]));
    close("lower", i, t.lower, f(&case["lower"]));
    close("upper", i, t.upper, f(&case["upper"]));
    close("p_above", i, t.p_above, f(&case["p_above"]));
    close("p_below", i, t.p_below, f(&case["p_below"]));
}

#[test]
fn sequential_proportion_against_a_threshold() {
    for (i, c) in cases("sequential_proportion").iter().enumerate() {
        let p = Estimate::proportion(u(&c["successes"]), u(&c["trials"])).unwrap();
        let a = anytime(c);
        let bounds = a.test(&p);
        close("estimate", i, bounds.estimate, f(&c["estimate"]));
        close("lower", i, bounds.lower, f(&c["lower"]));
        close("upper", i, bounds.upper, f(&c["upper"]));
        let test = a.test(&Estimate::linear(&[(1.0, p)], -f(&c["threshold"])));
        close("p_above", i, test.p_above, f(&c["p_above"]));
        close("p_below", i, test.p_below, f(&c["p_below"]));
    }
}

#[test]
fn sequential_two_proportion_difference() {
    for (i, c) in cases("sequential_two_proportion").iter().enumerate() {
        let cohort = |k: &str| Estimate::proportion(u(&c[k][0]), u(&c[k][1])).unwrap();
        let d = Estimate::linear(
            &[(1.0, cohort("canary")), (-f(&c["k"]), cohort("baseline"))],
            -f(&c["c"]),
        );
        check_sequential(i, c, &d);
    }
}

#[test]
fn sequential_difference_of_means() {
    for (i, c) in cases("sequential_mean").iter().enumerate() {
        let m = |k: &str| Estimate::mean(u(&c[k][0]), f(&c[k][1]), f(&c[k][2])).unwrap();
        check_sequential(
            i,
            c,
            &Estimate::linear(&[(-1.0, m("a")), (1.0, m("b"))], 0.0),
        );
    }
}

#[test]
fn welch_t_test() {
    for (i, c) in cases("welch").iter().enumerate() {
        let m = |k: &str| Moments {
            n: u(&c[k][0]),
            mean: f(&c[k][1]),
            m2: f(&c[k][2]),
        };
        let w = welch(&m("a"), &m("b")).unwrap();
        close("t", i, w.t, f(&c["t"]));
        close("df", i, w.df, f(&c["df"]));
        close("p_two_sided", i, w.p_two_sided, f(&c["p_two_sided"]));
        close("p_greater", i, w.p_greater, f(&c["p_greater"]));
        close("p_less", i, w.p_less, f(&c["p_less"]));
    }
}

fn check_mann_whitney(i: usize, c: &Value, r: &rollgate_analysis::stats::MannWhitney) {
    close("u1", i, r.u1, f(&c["u1"]));
    close("p_two_sided", i, r.p_two_sided, f(&c["p_two_sided"]));
    close("p_greater", i, r.p_greater, f(&c["p_greater"]));
    close("p_less", i, r.p_less, f(&c["p_less"]));
}

#[test]
fn mann_whitney_on_samples() {
    for (i, c) in cases("mann_whitney_samples").iter().enumerate() {
        let s = |k: &str| c[k].as_array().unwrap().iter().map(f).collect::<Vec<_>>();
        check_mann_whitney(i, c, &mann_whitney(&s("x"), &s("y")).unwrap());
    }
}

fn bins(v: &Value) -> Vec<(f64, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| (f(&b[0]), u(&b[1])))
        .collect()
}

#[test]
fn mann_whitney_on_bins() {
    for (i, c) in cases("mann_whitney_bins").iter().enumerate() {
        check_mann_whitney(
            i,
            c,
            &mann_whitney_bins(&bins(&c["x"]), &bins(&c["y"])).unwrap(),
        );
    }
}

#[test]
fn chi_square_goodness_of_fit() {
    for (i, c) in cases("chi_square").iter().enumerate() {
        let observed: Vec<u64> = c["observed"].as_array().unwrap().iter().map(u).collect();
        let shares: Vec<f64> = c["shares"].as_array().unwrap().iter().map(f).collect();
        let r = chi_square_gof(&observed, &shares).unwrap();
        close("statistic", i, r.statistic, f(&c["statistic"]));
        close("p_value", i, r.p_value, f(&c["p_value"]));
    }
}

#[test]
fn quantile_order_statistic_bounds() {
    for (i, c) in cases("quantile_bounds").iter().enumerate() {
        let b = quantile_bounds(&bins(&c["bins"]), f(&c["q"]), &anytime(c)).unwrap();
        assert_eq!(b.lower, c["lower"].as_f64(), "case {i}: lower");
        assert_eq!(b.upper, c["upper"].as_f64(), "case {i}: upper");
    }
}
