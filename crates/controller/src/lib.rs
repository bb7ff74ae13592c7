//! Rollgate's decision engine: the rollout state machine, the strategies that move the canary
//! weight (steps, linear, exponential, PID) and the pure reconcile step that turns a plan, a
//! state and an observation into the next state, the audited decisions and the effects to
//! carry out. Manual commands and version restores go through the same machinery.
//!
//! Nothing here reads a clock, touches a file or the network: time arrives in
//! [`Observation::now`] (or as `now` arguments) and analysis verdicts arrive as [`Health`], so
//! whole rollouts run in simulated time in tests. The runtime persists the returned state and
//! decisions in one transaction, then carries out the effects.

mod command;
mod draft;
mod input;
mod lifecycle;
mod output;
mod plan;
mod reconcile;
mod restore;
mod spec;
mod state;
mod strategy;
mod tick;

pub use command::{CommandError, apply_command};
pub use input::{Command, Health, Observation};
pub use output::{Effect, Notification, NotificationKind, Transition};
pub use plan::{Limits, RollbackMode, RolloutIds, RolloutPlan};
pub use reconcile::reconcile;
pub use restore::{Restore, RestoreError, restore_version};
pub use spec::{
    ControlSpec, ExponentialSpec, GradualSpec, LinearSpec, PauseSpec, PidSpec, RollbackSpec,
    StepSpec, StrategySpec,
};
pub use state::{Draining, Hold, HoldKind, Pause, PauseKind, RolloutState};
pub use strategy::{Exponential, Linear, Pid, PidOutput, PidState, StepPlan, Steps, Strategy};
// The verdict `Health` carries: a core type, so the analysis shares it without this crate
// depending on the analysis.
pub use rollgate_core::model::Outcome;
