//! The interval-driven ramps: linear (`+step`) and exponential (`×factor`).

use rollgate_core::Ppm;
use serde::{Deserialize, Serialize};

/// `min(current + step, max)` every healthy interval, `max(current - back_off, 0)` when the
/// canary is degraded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linear {
    /// Added every healthy interval; also the starting weight.
    pub step: Ppm,
    /// How long each weight is held before the next evaluation, in milliseconds.
    pub interval_ms: u64,
    /// Removed every degraded interval; `None` holds instead.
    pub back_off: Option<Ppm>,
    /// The highest weight the ramp reaches on its own.
    pub max: Ppm,
}

/// The weight multiplied by `factor` every healthy interval, up to `max`; divided by `factor`
/// when the canary is degraded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exponential {
    /// The first weight, and the weight a ramp from 0 restarts at.
    pub start: Ppm,
    /// The multiplier, greater than 1.
    pub factor: f64,
    /// How long each weight is held before the next evaluation, in milliseconds.
    pub interval_ms: u64,
    /// The highest weight the ramp reaches on its own.
    pub max: Ppm,
}

impl Linear {
    /// The weight after a healthy interval at `current`.
    pub fn up(&self, current: Ppm) -> Ppm {
        let next = Ppm::saturating(u64::from(current.get()) + u64::from(self.step.get()));
        next.min(self.max).max(current)
    }

    /// The weight after a degraded interval at `current` (unchanged without `back_off`).
    pub fn down(&self, current: Ppm) -> Ppm {
        match self.back_off {
            Some(b) => Ppm::saturating(u64::from(current.get().saturating_sub(b.get()))),
            None => current,
        }
    }
}

impl Exponential {
    /// The weight after a healthy interval at `current`: at least one ppm more, at most `max`.
    pub fn up(&self, current: Ppm) -> Ppm {
        if current < self.start {
            return self.start.min(self.max).max(current);
        }
        let grown = (f64::from(current.get()) * self.factor).ceil();
        let next = if grown.is_finite() && grown < f64::from(Ppm::SCALE) {
            // In range: `grown` is a whole number below one million.
            Ppm::saturating(grown as u64)
        } else {
            Ppm::FULL
        };
        next.max(Ppm::saturating(u64::from(current.get()) + 1))
            .min(self.max)
            .max(current)
    }

    /// The weight after a degraded interval at `current`: divided by `factor`.
    pub fn down(&self, current: Ppm) -> Ppm {
        let shrunk = (f64::from(current.get()) / self.factor).floor();
        if shrunk.is_finite() && shrunk >= 0.0 {
            Ppm::saturating(shrunk as u64).min(current)
        } else {
            Ppm::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(back_off: Option<Ppm>) -> Linear {
        Linear {
            step: Ppm::percent(10),
            interval_ms: 60_000,
            back_off,
            max: Ppm::FULL,
        }
    }

    fn exponential(max: Ppm) -> Exponential {
        Exponential {
            start: Ppm::percent(1),
            factor: 2.0,
            interval_ms: 60_000,
            max,
        }
    }

    #[test]
    fn linear_adds_a_step_up_to_the_max() {
        let l = linear(None);
        assert_eq!(l.up(Ppm::ZERO), Ppm::percent(10));
        assert_eq!(l.up(Ppm::percent(10)), Ppm::percent(20));
        assert_eq!(l.up(Ppm::percent(95)), Ppm::FULL);
        assert_eq!(l.up(Ppm::FULL), Ppm::FULL);
        let capped = Linear {
            max: Ppm::percent(50),
            ..l
        };
        assert_eq!(capped.up(Ppm::percent(45)), Ppm::percent(50));
        // A hand-set weight above the max is never pulled down by a healthy interval.
        assert_eq!(capped.up(Ppm::percent(70)), Ppm::percent(70));
    }

    #[test]
    fn linear_backs_off_to_zero_at_worst() {
        let l = linear(Some(Ppm::percent(5)));
        assert_eq!(l.down(Ppm::percent(30)), Ppm::percent(25));
        assert_eq!(l.down(Ppm::percent(3)), Ppm::ZERO);
        assert_eq!(linear(None).down(Ppm::percent(30)), Ppm::percent(30));
    }

    #[test]
    fn exponential_doubles_up_to_the_cap() {
        let e = exponential(Ppm::FULL);
        let mut w = Ppm::ZERO;
        let mut seen = Vec::new();
        for _ in 0..9 {
            w = e.up(w);
            seen.push(w.get());
        }
        assert_eq!(
            seen,
            [
                10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_000_000, 1_000_000
            ]
        );
        let capped = exponential(Ppm::percent(30));
        assert_eq!(capped.up(Ppm::percent(20)), Ppm::percent(30));
    }

    #[test]
    fn exponential_always_moves_at_least_one_ppm_and_backs_off_by_the_factor() {
        let e = Exponential {
            start: Ppm::new(1).unwrap_or_default(),
            factor: 1.1,
            ..exponential(Ppm::FULL)
        };
        assert_eq!(e.up(Ppm::new(1).unwrap_or_default()).get(), 2);
        assert_eq!(e.up(Ppm::new(2).unwrap_or_default()).get(), 3);
        let e = exponential(Ppm::FULL);
        assert_eq!(e.down(Ppm::percent(20)), Ppm::percent(10));
        assert_eq!(e.down(Ppm::new(1).unwrap_or_default()), Ppm::ZERO);
    }
}
