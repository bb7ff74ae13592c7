//! The PID strategy: the weight's rate of change follows the margin between a metric and its
//! failure threshold.
//!
//! Once per interval the controller reads the error `e = (threshold - observed) / threshold`
//! (1 when the metric is zero, 0 at the threshold, negative beyond it; clamped to `[-1, 1]`)
//! and computes `u = kp·e + ki·Σe + kd·Δe`, clamped to `[-1, 1]`. The weight then moves by
//! `u × max_step`. Gains are per interval. Anti-windup: the integral is bounded so that
//! `ki·Σe` stays within `[-1, 1]`, and it does not integrate while the output is saturated in
//! the direction of the error or the weight sits at 0% or 100%.

use rollgate_core::Ppm;
use serde::{Deserialize, Serialize};

/// PID controller settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pid {
    /// The controlling metric (a ratio such as `error_rate`); the runtime computes its margin.
    pub metric: String,
    /// The metric's failure threshold, as a share.
    pub threshold: Ppm,
    /// Proportional gain.
    pub kp: f64,
    /// Integral gain (per interval).
    pub ki: f64,
    /// Derivative gain (per interval).
    pub kd: f64,
    /// How often the controller acts, in milliseconds.
    pub interval_ms: u64,
    /// The largest change of weight in one interval, up or down.
    pub max_step: Ppm,
    /// The weight the rollout starts at.
    pub start: Ppm,
}

/// What the PID controller remembers between intervals; stored with the rollout's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PidState {
    /// The accumulated error, `Σe` (bounded by the anti-windup).
    pub integral: f64,
    /// The error of the previous interval, for the derivative term.
    pub last_error: Option<f64>,
}

/// One step of the controller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PidOutput {
    /// The signed change of weight, as a fraction of all traffic (`0.05` is +5%).
    pub delta: f64,
    /// The controller's state after this step, to keep if the change is applied.
    pub state: PidState,
    /// The error `e` this step acted on.
    pub error: f64,
}

impl Pid {
    /// The margin of an observed metric value (a fraction, `0.013` for 1.3%) to the threshold:
    /// `(threshold - observed) / threshold`. This is what the runtime puts in
    /// [`Health::margin`](crate::Health::margin).
    pub fn margin(&self, observed: f64) -> f64 {
        let t = self.threshold.as_fraction();
        if t <= 0.0 { -1.0 } else { (t - observed) / t }
    }

    /// One controller step at weight `weight` with the latest `margin`.
    pub fn update(&self, state: &PidState, margin: f64, weight: Ppm) -> PidOutput {
        let e = if margin.is_nan() {
            -1.0
        } else {
            margin.clamp(-1.0, 1.0)
        };
        let derivative = state.last_error.map_or(0.0, |last| e - last);
        let bound = if self.ki > 0.0 { 1.0 / self.ki } else { 0.0 };
        let integrated = (state.integral + e).clamp(-bound, bound);
        let raw = |integral: f64| self.kp * e + self.ki * integral + self.kd * derivative;
        let saturated = raw(integrated).abs() > 1.0 && raw(integrated).signum() == e.signum();
        let pinned = (weight >= Ppm::FULL && e > 0.0) || (weight == Ppm::ZERO && e < 0.0);
        let integral = if saturated || pinned {
            state.integral.clamp(-bound, bound)
        } else {
            integrated
        };
        let u = raw(integral).clamp(-1.0, 1.0);
        PidOutput {
            delta: u * self.max_step.as_fraction(),
            state: PidState {
                integral,
                last_error: Some(e),
            },
            error: e,
        }
    }

    /// The weight after applying `delta` to `weight`, clamped to `[0, 100%]`.
    pub fn apply(weight: Ppm, delta: f64) -> Ppm {
        Ppm::from_fraction(weight.as_fraction() + delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(kp: f64, ki: f64, kd: f64) -> Pid {
        Pid {
            metric: "error_rate".into(),
            threshold: Ppm::percent(2),
            kp,
            ki,
            kd,
            interval_ms: 10_000,
            max_step: Ppm::percent(20),
            start: Ppm::percent(1),
        }
    }

    #[test]
    fn margin_is_relative_to_the_threshold() {
        let p = pid(2.0, 0.2, 0.0);
        assert!((p.margin(0.0) - 1.0).abs() < 1e-12);
        assert!((p.margin(0.01) - 0.5).abs() < 1e-12);
        assert!(p.margin(0.02).abs() < 1e-12);
        assert!((p.margin(0.04) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_healthy_margin_ramps_at_most_max_step() {
        let out = pid(2.0, 0.2, 0.0).update(&PidState::default(), 1.0, Ppm::percent(10));
        assert!((out.delta - 0.2).abs() < 1e-12, "{out:?}");
        // Saturated in the direction of the error: nothing is integrated.
        assert_eq!(out.state.integral, 0.0);
    }

    #[test]
    fn a_small_margin_ramps_slowly_and_a_negative_one_backs_off() {
        let p = pid(2.0, 0.0, 0.0);
        let slow = p.update(&PidState::default(), 0.1, Ppm::percent(10));
        assert!((slow.delta - 0.04).abs() < 1e-12, "{slow:?}");
        let back = p.update(&PidState::default(), -0.25, Ppm::percent(10));
        assert!((back.delta + 0.1).abs() < 1e-12, "{back:?}");
        let floor = p.update(&PidState::default(), -5.0, Ppm::percent(10));
        assert!((floor.delta + 0.2).abs() < 1e-12, "{floor:?}");
    }

    #[test]
    fn the_integral_is_bounded_and_stops_at_the_edges() {
        let p = pid(0.1, 0.5, 0.0);
        let mut st = PidState::default();
        for _ in 0..100 {
            st = p.update(&st, 0.1, Ppm::percent(50)).state;
        }
        assert!(st.integral <= 2.0 + 1e-12, "{st:?}");
        let at_full = p.update(&PidState::default(), 0.5, Ppm::FULL);
        assert_eq!(at_full.state.integral, 0.0);
        let at_zero = p.update(&PidState::default(), -0.5, Ppm::ZERO);
        assert_eq!(at_zero.state.integral, 0.0);
    }

    #[test]
    fn the_derivative_term_damps_a_falling_margin() {
        let p = pid(1.0, 0.0, 1.0);
        let first = p.update(&PidState::default(), 0.5, Ppm::percent(10));
        let second = p.update(&first.state, 0.3, Ppm::percent(10));
        // kp·0.3 + kd·(0.3 − 0.5) = 0.1, times max_step 20%.
        assert!((second.delta - 0.02).abs() < 1e-12, "{second:?}");
    }

    #[test]
    fn apply_clamps_to_the_valid_range() {
        assert_eq!(Pid::apply(Ppm::percent(90), 0.2), Ppm::FULL);
        assert_eq!(Pid::apply(Ppm::percent(5), -0.2), Ppm::ZERO);
        assert_eq!(Pid::apply(Ppm::percent(5), 0.05), Ppm::percent(10));
        assert!(pid(1.0, 0.0, 0.0).margin(f64::NAN).is_nan());
    }
}
