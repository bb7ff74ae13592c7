//! What can go wrong when people (the API, the CLI, the dashboard) ask the control plane for
//! something. Each variant maps to one HTTP status: `NotFound` 404, `Invalid` 422, `Refused` and
//! `Conflict` 409, `Unavailable` 503, `Store` 500.

use rollgate_controller::{CommandError, RestoreError};
use rollgate_core::SpecErrors;
use rollgate_store::StoreError;

use crate::provider::ProviderError;

/// Why a command, a creation or a query failed. Nothing was changed by a failed call.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The rollout, service, version or experiment does not exist.
    #[error("{kind} {name:?} does not exist{hint}")]
    NotFound {
        /// What kind of thing (`rollout`, `service`, `version`, `experiment`, `metric`).
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// ` (did you mean "…"?)` or empty.
        hint: String,
    },
    /// The spec is invalid: every problem with its path.
    #[error("invalid spec:\n{0}")]
    Invalid(SpecErrors),
    /// The command is not allowed in the rollout's current phase (nothing changed).
    #[error(transparent)]
    Refused(#[from] CommandError),
    /// The version restore was refused (nothing changed).
    #[error(transparent)]
    RestoreRefused(#[from] RestoreError),
    /// The rollout kept changing under the command (the reconcile loop or another person wrote
    /// it first) for every attempt; nothing was written. Try again.
    #[error(
        "rollout {rollout:?} changed concurrently {attempts} times in a row; nothing was written, try again"
    )]
    Conflict {
        /// The rollout.
        rollout: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The metrics provider could not answer.
    #[error("metrics unavailable: {0}")]
    Unavailable(#[from] ProviderError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ControlError {
    /// A `NotFound` with a did-you-mean hint among `known`.
    pub fn not_found<'a>(
        kind: &'static str,
        name: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> ControlError {
        ControlError::NotFound {
            kind,
            name: name.to_string(),
            hint: rollgate_core::did_you_mean(name, known),
        }
    }

    /// An `Invalid` with one problem at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> ControlError {
        let mut errs = SpecErrors::new();
        errs.push(path, message);
        ControlError::Invalid(errs)
    }
}
