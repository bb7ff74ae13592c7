//! The runtime strategies: how the canary weight moves while the rollout is healthy.
//!
//! Built from a validated [`StrategySpec`](crate::StrategySpec); the reconcile step asks the
//! strategy for the next weight and decides itself whether the health allows it.

mod pid;
mod ramp;
mod steps;

use rollgate_core::Ppm;
use serde::{Deserialize, Serialize};

pub use pid::{Pid, PidOutput, PidState};
pub use ramp::{Exponential, Linear};
pub use steps::{StepPlan, Steps};

/// How the weight moves: explicit steps, or one of the interval-driven ramps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// An explicit list of weights and pauses.
    Steps(Steps),
    /// `+step` every healthy interval, `-back_off` when degraded.
    Linear(Linear),
    /// The weight multiplied by `factor` every healthy interval.
    Exponential(Exponential),
    /// A PID controller on the margin between a metric and its threshold.
    Pid(Pid),
}

impl Strategy {
    /// The strategy's name as written in config: `steps`, `linear`, `exponential`, `pid`.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Steps(_) => "steps",
            Strategy::Linear(_) => "linear",
            Strategy::Exponential(_) => "exponential",
            Strategy::Pid(_) => "pid",
        }
    }

    /// How long one evaluation interval lasts, for the interval-driven strategies (`None` for
    /// steps, whose steps carry their own minimum durations).
    pub fn interval_ms(&self) -> Option<u64> {
        match self {
            Strategy::Steps(_) => None,
            Strategy::Linear(l) => Some(l.interval_ms),
            Strategy::Exponential(e) => Some(e.interval_ms),
            Strategy::Pid(p) => Some(p.interval_ms),
        }
    }

    /// The weight an interval-driven strategy starts at (`None` for steps: the first step
    /// decides).
    pub fn start_weight(&self) -> Option<Ppm> {
        match self {
            Strategy::Steps(_) => None,
            Strategy::Linear(l) => Some(l.step.min(l.max)),
            Strategy::Exponential(e) => Some(e.start.min(e.max)),
            Strategy::Pid(p) => Some(p.start),
        }
    }

    /// The highest weight the strategy ramps to on its own. At 100% a healthy interval
    /// promotes; below 100% the rollout pauses there and waits for a person to promote.
    pub fn cap(&self) -> Ppm {
        match self {
            Strategy::Steps(_) | Strategy::Pid(_) => Ppm::FULL,
            Strategy::Linear(l) => l.max,
            Strategy::Exponential(e) => e.max,
        }
    }

    /// The longest time the strategy itself waits at one weight while healthy (the largest
    /// step `min_duration` or the interval); a progress deadline must be longer than this.
    pub fn longest_wait_ms(&self) -> u64 {
        match self {
            Strategy::Steps(s) => s.longest_min_duration_ms(),
            other => other.interval_ms().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(step: u32, max: u32) -> Strategy {
        Strategy::Linear(Linear {
            step: Ppm::percent(step),
            interval_ms: 60_000,
            back_off: None,
            max: Ppm::percent(max),
        })
    }

    #[test]
    fn start_weight_never_exceeds_the_cap() {
        assert_eq!(linear(10, 100).start_weight(), Some(Ppm::percent(10)));
        assert_eq!(linear(30, 20).start_weight(), Some(Ppm::percent(20)));
        assert_eq!(linear(30, 20).cap(), Ppm::percent(20));
    }

    #[test]
    fn steps_have_no_interval_and_wait_their_longest_step() {
        let s = Strategy::Steps(Steps::new(vec![
            StepPlan::weight(Ppm::percent(1), 30_000, 0),
            StepPlan::Pause {
                duration_ms: Some(600_000),
            },
            StepPlan::weight(Ppm::FULL, 5_000, 0),
        ]));
        assert_eq!(s.interval_ms(), None);
        assert_eq!(s.start_weight(), None);
        assert_eq!(s.longest_wait_ms(), 30_000);
        assert_eq!(s.name(), "steps");
        assert_eq!(linear(10, 100).longest_wait_ms(), 60_000);
    }
}
