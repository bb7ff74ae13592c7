//! How a demo version behaves: how fast it answers, how often it fails, and how often its
//! checkout completes. The stable version gets healthy, realistic numbers; the canary the same
//! numbers changed by the fault flags. Pure: randomness is passed in.

use std::time::Duration;

use rand::{Rng, RngExt};

use crate::options::DemoOptions;

/// Median answer time of a healthy version.
pub const MEDIAN_LATENCY: Duration = Duration::from_millis(20);
/// Spread of the answer time (σ of its logarithm): p99 ≈ 2.25 × the median.
pub const LATENCY_SIGMA: f64 = 0.35;
/// Share of a healthy version's requests that fail with a 5xx.
pub const BASE_ERROR_RATE: f64 = 0.001;
/// Share of page views after which the visitor goes to the checkout.
pub const CHECKOUT_INTENT: f64 = 0.10;
/// Share of checkouts a healthy version completes: with [`CHECKOUT_INTENT`], a 4% conversion
/// rate per page view.
pub const BASE_CHECKOUT_COMPLETION: f64 = 0.40;
/// Slowest answer the model produces (the tail of the log-normal is cut here).
const MAX_BASE_LATENCY: Duration = Duration::from_secs(2);

/// What one version does with the requests it gets.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// The version's name (`v1`, `v2`), shown in its pages.
    pub version: String,
    /// Share of requests answered with a 5xx.
    pub error_rate: f64,
    /// Median answer time before `extra_latency`.
    pub median_latency: Duration,
    /// σ of the log of the answer time.
    pub latency_sigma: f64,
    /// Added to every answer (a slow canary).
    pub extra_latency: Duration,
    /// Share of checkouts that complete (an order is placed).
    pub checkout_completion: f64,
}

impl Behaviour {
    /// A healthy version.
    pub fn healthy(version: &str) -> Behaviour {
        Behaviour {
            version: version.to_string(),
            error_rate: BASE_ERROR_RATE,
            median_latency: MEDIAN_LATENCY,
            latency_sigma: LATENCY_SIGMA,
            extra_latency: Duration::ZERO,
            checkout_completion: BASE_CHECKOUT_COMPLETION,
        }
    }

    /// The canary: healthy, then changed by the fault flags. The conversion change is in
    /// percentage points of page views, applied through the checkout completion.
    pub fn canary(version: &str, opts: &DemoOptions) -> Behaviour {
        let healthy = Behaviour::healthy(version);
        let completion =
            healthy.checkout_completion + opts.canary_conversion.as_fraction() / CHECKOUT_INTENT;
        Behaviour {
            error_rate: opts
                .canary_error_rate
                .map_or(healthy.error_rate, |p| p.as_fraction()),
            extra_latency: opts.canary_latency,
            checkout_completion: completion.clamp(0.0, 1.0),
            ..healthy
        }
    }

    /// Conversions per page view this version leads to.
    pub fn conversion_rate(&self) -> f64 {
        CHECKOUT_INTENT * self.checkout_completion
    }

    /// How long to take for one answer: log-normal around the median, plus the extra latency.
    pub fn latency(&self, rng: &mut impl Rng) -> Duration {
        let z = standard_normal(rng);
        let factor = (self.latency_sigma * z).exp();
        let base = self.median_latency.mul_f64(factor).min(MAX_BASE_LATENCY);
        base + self.extra_latency
    }

    /// Whether this request fails.
    pub fn fails(&self, rng: &mut impl Rng) -> bool {
        rng.random_bool(self.error_rate.clamp(0.0, 1.0))
    }

    /// Whether this checkout completes.
    pub fn completes_checkout(&self, rng: &mut impl Rng) -> bool {
        rng.random_bool(self.checkout_completion.clamp(0.0, 1.0))
    }
}

/// A standard normal draw (Box-Muller).
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;
    use crate::options::Delta;

    fn quantile(mut xs: Vec<Duration>, q: f64) -> Duration {
        xs.sort_unstable();
        xs[((xs.len() - 1) as f64 * q) as usize]
    }

    #[test]
    fn healthy_latency_is_lognormal_around_the_median() {
        let b = Behaviour::healthy("v1");
        let mut rng = SmallRng::seed_from_u64(7);
        let xs: Vec<Duration> = (0..20_000).map(|_| b.latency(&mut rng)).collect();
        let median = quantile(xs.clone(), 0.5).as_secs_f64() * 1e3;
        let p99 = quantile(xs, 0.99).as_secs_f64() * 1e3;
        assert!((19.0..21.0).contains(&median), "median {median} ms");
        assert!((40.0..50.0).contains(&p99), "p99 {p99} ms");
    }

    #[test]
    fn the_canary_takes_the_fault_flags() {
        let opts = DemoOptions {
            canary_error_rate: Some("10%".parse().unwrap()),
            canary_latency: Duration::from_millis(150),
            canary_conversion: Delta { ppm: -30_000 },
            ..DemoOptions::default()
        };
        let c = Behaviour::canary("v2", &opts);
        assert!((c.error_rate - 0.10).abs() < 1e-12);
        assert!(
            (c.conversion_rate() - 0.01).abs() < 1e-9,
            "{}",
            c.conversion_rate()
        );
        let mut rng = SmallRng::seed_from_u64(1);
        assert!(c.latency(&mut rng) >= Duration::from_millis(150));
        let healthy = Behaviour::canary("v2", &DemoOptions::default());
        assert_eq!(healthy, Behaviour::healthy("v2"));
        assert!((healthy.conversion_rate() - 0.04).abs() < 1e-9);
    }

    #[test]
    fn error_and_checkout_draws_follow_their_rates() {
        let b = Behaviour {
            error_rate: 0.1,
            checkout_completion: 0.3,
            ..Behaviour::healthy("v2")
        };
        let mut rng = SmallRng::seed_from_u64(3);
        let n = 50_000;
        let errors = (0..n).filter(|_| b.fails(&mut rng)).count() as f64 / n as f64;
        let done = (0..n).filter(|_| b.completes_checkout(&mut rng)).count() as f64 / n as f64;
        assert!((errors - 0.1).abs() < 0.01, "{errors}");
        assert!((done - 0.3).abs() < 0.01, "{done}");
    }
}
