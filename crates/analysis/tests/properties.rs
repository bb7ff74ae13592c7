//! Properties the statistics must have for any input.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rollgate_analysis::stats::{
    Anytime, Estimate, chi_square_gof, mann_whitney, mann_whitney_bins, quantile_bounds,
};

fn bins() -> impl Strategy<Value = Vec<(f64, u64)>> {
    prop::collection::vec((0u32..60, 0u64..20), 1..25).prop_map(|v| {
        let mut b: Vec<(f64, u64)> = v
            .into_iter()
            .map(|(x, c)| (f64::from(x) * 2.5, c))
            .collect();
        if b.iter().all(|(_, c)| *c == 0) {
            b[0].1 = 1;
        }
        b
    })
}

fn expand(bins: &[(f64, u64)]) -> Vec<f64> {
    bins.iter()
        .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
        .collect()
}

proptest! {
    #[test]
    fn sequential_p_value_and_bounds_agree(
        x in 0u64..2_000, extra in 1u64..50_000, threshold in 0.0f64..0.5,
        alpha in prop::sample::select(vec![0.001, 0.01, 0.05]),
    ) {
        let n = x + extra;
        let a = Anytime::new(alpha, 1_000.0).unwrap();
        let p = Estimate::proportion(x, n).unwrap();
        let t = a.test(&Estimate::linear(&[(1.0, p)], -threshold));
        prop_assert!(t.lower <= t.estimate && t.estimate <= t.upper);
        prop_assert!((0.0..=1.0).contains(&t.p_above) && (0.0..=1.0).contains(&t.p_below));
        // Rejecting "θ ≤ 0" at α is the same event as the lower bound clearing 0 (away from
        // the boundary itself, where rounding may land on either side).
        if (t.p_above - alpha).abs() > 1e-9 {
            prop_assert_eq!(t.p_above < alpha, t.lower > 0.0);
        }
        if (t.p_below - alpha).abs() > 1e-9 {
            prop_assert_eq!(t.p_below < alpha, t.upper < 0.0);
        }
    }

    #[test]
    fn p_value_falls_as_evidence_grows(z in 0.0f64..20.0, dz in 0.0f64..5.0, t in 1.0f64..1e6) {
        let a = Anytime::default();
        prop_assert!(a.p_value(z + dz, t) <= a.p_value(z, t));
    }

    #[test]
    fn mann_whitney_bins_equal_expanded_samples(x in bins(), y in bins()) {
        let a = mann_whitney_bins(&x, &y).unwrap();
        let b = mann_whitney(&expand(&x), &expand(&y)).unwrap();
        prop_assert!((a.u1 - b.u1).abs() < 1e-9);
        prop_assert!((a.p_two_sided - b.p_two_sided).abs() < 1e-12);
    }

    #[test]
    fn mann_whitney_is_antisymmetric(x in bins(), y in bins()) {
        let xy = mann_whitney_bins(&x, &y).unwrap();
        let yx = mann_whitney_bins(&y, &x).unwrap();
        prop_assert!((xy.u1 + yx.u1 - (xy.n1 * xy.n2) as f64).abs() < 1e-9);
        prop_assert!((xy.p_greater - yx.p_less).abs() < 1e-12);
        prop_assert!((xy.p_two_sided - yx.p_two_sided).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&xy.p_two_sided));
    }

    #[test]
    fn quantile_bounds_bracket_the_sample_quantile(
        b in bins(), q in prop::sample::select(vec![0.1, 0.5, 0.9, 0.99]),
    ) {
        let bounds = quantile_bounds(&b, q, &Anytime::default()).unwrap();
        let mut sample = expand(&b);
        sample.sort_by(f64::total_cmp);
        let empirical = sample[((q * sample.len() as f64).ceil() as usize).max(1) - 1];
        if let Some(lo) = bounds.lower {
            prop_assert!(lo <= empirical);
        }
        if let Some(hi) = bounds.upper {
            prop_assert!(hi >= empirical);
        }
    }

    #[test]
    fn chi_square_p_is_a_probability(counts in prop::collection::vec(0u64..10_000, 2..5)) {
        let shares = vec![1.0; counts.len()];
        let r = chi_square_gof(&counts, &shares).unwrap();
        prop_assert!((0.0..=1.0).contains(&r.p_value));
        prop_assert!(r.statistic >= 0.0);
    }
}

#[test]
fn exact_shares_give_no_evidence() {
    let r = chi_square_gof(&[500, 500, 9_000], &[0.05, 0.05, 0.9]).unwrap();
    assert!(r.statistic < 1e-9 && r.p_value > 0.999_999);
}
