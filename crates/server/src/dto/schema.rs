//! OpenAPI schemas of the domain types the API embeds as they are (they live in crates that do
//! not depend on `utoipa`). Each one describes exactly what the type serialises to; the tests
//! at the bottom check that against the real types. They only describe: nothing constructs
//! them.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A token's role.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Role)]
pub enum RoleSchema {
    /// Reads everything but tokens.
    Viewer,
    /// Also pauses, resumes, promotes, aborts, retries, sets weights, restores versions and
    /// stops experiments.
    Operator,
    /// Also creates versions, rollouts, experiments and tokens.
    Admin,
}

/// Where a rollout is in its life; `promoted`, `rolled_back` and `aborted` are terminal.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Phase)]
pub enum PhaseSchema {
    /// Created, not started yet.
    Pending,
    /// The strategy moves the weight.
    Progressing,
    /// Held at its weight until resumed.
    Paused,
    /// The canary became stable.
    Promoted,
    /// All traffic went back to stable.
    RolledBack,
    /// An operator stopped it.
    Aborted,
}

/// What a decision did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Action)]
pub enum ActionSchema {
    /// Started.
    Start,
    /// Weight up.
    Ramp,
    /// Weight down, the rollout goes on.
    Reduce,
    /// Weight kept.
    Hold,
    /// Paused.
    Pause,
    /// Resumed.
    Resume,
    /// Weight set by hand.
    SetWeight,
    /// Canary made stable.
    Promote,
    /// Traffic sent back to stable.
    Rollback,
    /// Stopped by an operator.
    Abort,
    /// Started again.
    Retry,
    /// An earlier version made stable.
    Restore,
}

/// Who decided: `{"kind": "controller"}` or `{"kind": "user", "name": "<token name>"}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Actor)]
pub struct ActorSchema {
    /// `controller` or `user`.
    pub kind: String,
    /// The token name, for `user`.
    pub name: Option<String>,
}

/// A unit's population in a rollout.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Cohort)]
pub enum CohortSchema {
    /// Served by the canary.
    Canary,
    /// The matched slice of stable traffic the canary is compared with.
    Baseline,
    /// Everyone else.
    Stable,
}

/// Why a rollout is paused.
#[derive(Serialize, ToSchema)]
#[schema(as = Pause)]
pub struct PauseSchema {
    /// `step` (a pause step), `manual`, `inconclusive` or `finished` (a ramp reached its max).
    pub kind: String,
    /// One line for people.
    pub reason: String,
    /// When it began (Unix ms).
    pub since: i64,
    /// When it ends by itself (Unix ms); absent: waits for `resume`.
    pub until: Option<i64>,
}

/// Why the weight is not moving.
#[derive(Serialize, ToSchema)]
#[schema(as = Hold)]
pub struct HoldSchema {
    /// `waiting`, `samples`, `no_analysis`, `inconclusive`, `failure_tolerated`, `degraded`
    /// or `no_margin`.
    pub kind: String,
    /// The reason with its numbers.
    pub reason: String,
    /// When the hold began (Unix ms).
    pub since: i64,
}

/// A gradual rollback in progress.
#[derive(Serialize, ToSchema)]
#[schema(as = Draining)]
pub struct DrainingSchema {
    /// Why it rolls back.
    pub reason: String,
    /// When it began (Unix ms).
    pub since: i64,
    /// When the weight was last reduced (Unix ms).
    pub last_at: i64,
    /// The weight when it began.
    #[schema(value_type = String)]
    pub from: String,
}

/// A verdict outcome.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Outcome)]
pub enum OutcomeSchema {
    /// Every critical condition is confidently false.
    Pass,
    /// A critical condition confidently holds.
    Fail,
    /// Not enough evidence either way: hold.
    Inconclusive,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_core::Cohort;
    use rollgate_core::model::{Action, Outcome, Phase};
    use rollgate_store::Role;
    use serde_json::Value;

    use super::*;

    /// The `enum` values of a schema.
    fn variants<T: ToSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn names<T: Serialize>(all: impl IntoIterator<Item = T>) -> Vec<String> {
        all.into_iter()
            .map(|v| match serde_json::to_value(v).unwrap() {
                Value::String(s) => s,
                other => panic!("{other}"),
            })
            .collect()
    }

    #[test]
    fn enums_describe_what_the_real_types_serialise_to() {
        assert_eq!(variants::<RoleSchema>(), names(Role::ALL));
        assert_eq!(variants::<PhaseSchema>(), names(Phase::ALL));
        assert_eq!(variants::<CohortSchema>(), names(Cohort::ALL));
        let actions = [
            Action::Start,
            Action::Ramp,
            Action::Reduce,
            Action::Hold,
            Action::Pause,
            Action::Resume,
            Action::SetWeight,
            Action::Promote,
            Action::Rollback,
            Action::Abort,
            Action::Retry,
            Action::Restore,
        ];
        assert_eq!(variants::<ActionSchema>(), names(actions));
        assert_eq!(variants::<OutcomeSchema>(), names(Outcome::ALL));
    }
}
