//! The explicit steps strategy: a list of weights to hold and pauses to wait at.

use rollgate_core::Ppm;
use serde::{Deserialize, Serialize};

/// One step of a [`Steps`] strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepPlan {
    /// Send `weight` of the audience to the canary, and stay until `min_duration` has passed,
    /// `min_samples` canary samples were seen and the analysis passes.
    Weight {
        /// The canary's share during this step.
        weight: Ppm,
        /// The least time to stay at this step, in milliseconds (0: no minimum).
        min_duration_ms: u64,
        /// The least number of canary samples to see at this step (0: no minimum).
        min_samples: u64,
    },
    /// Hold the current weight: for `duration_ms`, or until a person resumes when `None`.
    Pause {
        /// How long to pause, in milliseconds; `None` waits for `rollgate rollout resume`.
        duration_ms: Option<u64>,
    },
}

/// An explicit list of steps; validation guarantees weights never decrease and the last
/// weight step is 100%.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    /// The steps, in order.
    pub steps: Vec<StepPlan>,
}

impl StepPlan {
    /// A weight step.
    pub fn weight(weight: Ppm, min_duration_ms: u64, min_samples: u64) -> StepPlan {
        StepPlan::Weight {
            weight,
            min_duration_ms,
            min_samples,
        }
    }

    /// The weight this step sets, or `None` for a pause.
    pub fn target(&self) -> Option<Ppm> {
        match self {
            StepPlan::Weight { weight, .. } => Some(*weight),
            StepPlan::Pause { .. } => None,
        }
    }
}

impl Steps {
    /// A strategy walking `steps` in order.
    pub fn new(steps: Vec<StepPlan>) -> Steps {
        Steps { steps }
    }

    /// The step at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&StepPlan> {
        self.steps.get(index)
    }

    /// How many steps there are.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when there are no steps (never the case after validation).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The first weight step whose weight is at least `weight`: where the strategy picks up
    /// after a person set the weight by hand.
    pub fn first_at_or_above(&self, weight: Ppm) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.target().is_some_and(|w| w >= weight))
    }

    /// The largest `min_duration` of any step, in milliseconds.
    pub fn longest_min_duration_ms(&self) -> u64 {
        self.steps
            .iter()
            .map(|s| match s {
                StepPlan::Weight {
                    min_duration_ms, ..
                } => *min_duration_ms,
                StepPlan::Pause { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// A person-readable name for step `index`: `step 2 of 7 (5%)`, `step 4 of 7 (pause)`.
    pub fn describe(&self, index: usize) -> String {
        let what = match self.get(index) {
            Some(StepPlan::Weight { weight, .. }) => weight.to_string(),
            Some(StepPlan::Pause { .. }) => "pause".to_string(),
            None => "end".to_string(),
        };
        format!("step {} of {} ({what})", index + 1, self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Steps {
        Steps::new(vec![
            StepPlan::weight(Ppm::percent(1), 30_000, 500),
            StepPlan::weight(Ppm::percent(10), 60_000, 0),
            StepPlan::Pause { duration_ms: None },
            StepPlan::weight(Ppm::percent(25), 0, 0),
            StepPlan::weight(Ppm::FULL, 0, 0),
        ])
    }

    #[test]
    fn finds_where_a_hand_set_weight_fits() {
        let s = plan();
        assert_eq!(s.first_at_or_above(Ppm::ZERO), Some(0));
        assert_eq!(s.first_at_or_above(Ppm::percent(5)), Some(1));
        assert_eq!(s.first_at_or_above(Ppm::percent(10)), Some(1));
        assert_eq!(s.first_at_or_above(Ppm::percent(11)), Some(3));
        assert_eq!(s.first_at_or_above(Ppm::FULL), Some(4));
    }

    #[test]
    fn describes_steps_for_people() {
        let s = plan();
        assert_eq!(s.describe(0), "step 1 of 5 (1%)");
        assert_eq!(s.describe(2), "step 3 of 5 (pause)");
        assert_eq!(s.longest_min_duration_ms(), 60_000);
        assert_eq!(s.len(), 5);
        assert!(!s.is_empty());
    }
}
