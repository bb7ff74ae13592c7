//! What the reconcile step reads besides the plan and the state: the latest analysis result,
//! the breaker, sample counts, and commands from people.

use std::fmt;

use rollgate_core::Ppm;
use rollgate_core::model::{Outcome, UnixMillis};
use serde::{Deserialize, Serialize};

/// The analysis of one window, as the controller needs it. The runtime fills it from the
/// analysis verdict; the controller never computes statistics itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The end of the analysis window this verdict is about. Counters (failures, inconclusive
    /// streak) advance once per window, so reconciling twice on the same verdict is harmless.
    pub window_end: UnixMillis,
    /// The verdict.
    pub outcome: Outcome,
    /// One line with the numbers that produced it: `error_rate 7.9% > 5% (canary 95/1200)`.
    pub reason: String,
    /// The name of the critical condition that failed, on `Fail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_condition: Option<String>,
    /// The analysis asks for a person: a condition stayed inconclusive longer than its
    /// `inconclusive_limit`. A progressing rollout pauses (honoured only for windows that end
    /// after the rollout last became progressing, so a resume is not undone by a stale verdict).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub escalate: bool,
    /// A non-critical condition failing (with its numbers): linear and exponential ramps back
    /// off, steps go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<String>,
    /// Canary samples the verdict is based on.
    pub canary_samples: u64,
    /// Baseline samples the verdict is based on.
    pub baseline_samples: u64,
    /// For the PID strategy: `(threshold - observed) / threshold` of its metric (see
    /// [`Pid::margin`](crate::Pid::margin)); `None` when the metric has no value yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The full verdict (conditions, statistics, SRM check) as the analysis produced it; copied
    /// into the decision record.
    #[serde(default)]
    pub details: serde_json::Value,
}

/// Everything observed for one reconcile step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The current time.
    pub now: UnixMillis,
    /// The latest analysis verdict; `None` when there is none (no window closed yet, or the
    /// metrics provider is unreachable): the rollout holds. A rollout without conditions
    /// should get [`Health::unchecked`] instead.
    pub health: Option<Health>,
    /// Since when the canary's circuit breaker has been open, if it is.
    pub breaker_open_since: Option<UnixMillis>,
    /// Canary samples counted since [`RolloutState::step_since`](crate::RolloutState::step_since).
    pub samples_in_step: u64,
}

/// A manual command from a person or a tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "command", content = "weight", rename_all = "snake_case")]
pub enum Command {
    /// Hold the current weight until resumed.
    Pause,
    /// Continue after a pause (a pause step, a manual pause, an inconclusive pause).
    Resume,
    /// Make the canary the stable version now.
    Promote,
    /// Stop the rollout: all traffic back to stable at once.
    Abort,
    /// Set the canary weight by hand; the rollout pauses so the strategy does not fight the
    /// person, and picks up from this weight on resume.
    SetWeight(Ppm),
    /// Start a rolled-back or aborted rollout again from its first step.
    Retry,
}

impl Health {
    /// A passing verdict for a rollout that has no conditions: it moves on time and samples.
    pub fn unchecked(window_end: UnixMillis, canary_samples: u64, baseline_samples: u64) -> Health {
        Health {
            window_end,
            outcome: Outcome::Pass,
            reason: "no conditions configured".to_string(),
            failing_condition: None,
            escalate: false,
            degraded: None,
            canary_samples,
            baseline_samples,
            margin: None,
            details: serde_json::Value::Null,
        }
    }
}

impl Observation {
    /// An observation at `now` with nothing else known.
    pub fn at(now: UnixMillis) -> Observation {
        Observation {
            now,
            health: None,
            breaker_open_since: None,
            samples_in_step: 0,
        }
    }

    /// The same observation with an analysis verdict.
    pub fn with_health(mut self, health: Health) -> Observation {
        self.health = Some(health);
        self
    }

    /// The same observation with a canary sample count for the current step.
    pub fn with_samples(mut self, samples: u64) -> Observation {
        self.samples_in_step = samples;
        self
    }

    /// The same observation with the canary's breaker open since `since`.
    pub fn with_breaker_open_since(mut self, since: UnixMillis) -> Observation {
        self.breaker_open_since = Some(since);
        self
    }
}

impl Command {
    /// The command's name, as the CLI and API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Promote => "promote",
            Command::Abort => "abort",
            Command::SetWeight(_) => "set-weight",
            Command::Retry => "retry",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_serialise_for_the_api() {
        let json = serde_json::to_string(&Command::SetWeight(Ppm::percent(5))).unwrap();
        assert_eq!(json, r#"{"command":"set_weight","weight":"5%"}"#);
        let back: Command = serde_json::from_str(r#"{"command":"pause"}"#).unwrap();
        assert_eq!(back, Command::Pause);
        assert_eq!(Command::SetWeight(Ppm::ZERO).to_string(), "set-weight");
    }

    #[test]
    fn observation_builders_fill_their_fields() {
        let o = Observation::at(5)
            .with_samples(9)
            .with_breaker_open_since(1)
            .with_health(Health::unchecked(4, 9, 8));
        assert_eq!(o.samples_in_step, 9);
        assert_eq!(o.breaker_open_since, Some(1));
        assert_eq!(o.health.map(|h| h.outcome), Some(Outcome::Pass));
    }
}
