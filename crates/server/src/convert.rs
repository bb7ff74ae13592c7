//! How the control plane's and the store's errors become problem documents: one status per
//! kind of failure, the message as the detail, validation errors as field paths.

use rollgate_control::ControlError;
use rollgate_store::StoreError;

use crate::problem::{Problem, ProblemKind};

impl From<ControlError> for Problem {
    fn from(e: ControlError) -> Problem {
        match e {
            ControlError::NotFound { .. } => Problem::new(ProblemKind::NotFound, e.to_string()),
            ControlError::Invalid(errors) => Problem::from_spec_errors(&errors, ""),
            ControlError::Refused(_)
            | ControlError::RestoreRefused(_)
            | ControlError::Conflict { .. } => {
                Problem::new(ProblemKind::Conflict, format!("{e}; nothing was changed"))
            }
            ControlError::Unavailable(_) => Problem::new(ProblemKind::Unavailable, e.to_string()),
            ControlError::Store(err) => Problem::from(err),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        match e {
            StoreError::NotFound { .. } => Problem::new(ProblemKind::NotFound, e.to_string()),
            StoreError::AlreadyExists { .. }
            | StoreError::VersionExists { .. }
            | StoreError::Conflict { .. }
            | StoreError::DuplicateDecision { .. } => {
                Problem::new(ProblemKind::Conflict, format!("{e}; nothing was changed"))
            }
            StoreError::Invalid(_) => Problem::invalid_field("", e.to_string()),
            StoreError::Backend(_) | StoreError::Open { .. } => {
                tracing::error!(error = %e, "store failed");
                Problem::new(
                    ProblemKind::Unavailable,
                    "the store is not available; retry later (the cause is in the server log)",
                )
            }
            StoreError::SchemaTooNew { .. } | StoreError::Corrupt(_) | StoreError::Entropy(_) => {
                Problem::internal(&e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses() {
        let p = Problem::from(StoreError::not_found("token", "ci"));
        assert_eq!(p.status, 404);
        let p = Problem::from(StoreError::AlreadyExists {
            kind: "token",
            name: "ci".into(),
        });
        assert_eq!(p.status, 409);
        let p = Problem::from(StoreError::Invalid("a token needs a name".into()));
        assert_eq!(p.status, 422);
        let p = Problem::from(StoreError::backend(std::io::Error::other("disk")));
        assert_eq!(p.status, 503);
        assert!(!p.detail.contains("disk"));
    }

    #[test]
    fn control_errors_map_to_statuses() {
        let p = Problem::from(ControlError::not_found("rollout", "shop-v2", ["shop-v1.2"]));
        assert_eq!(p.status, 404);
        let p = Problem::from(ControlError::invalid(
            "strategy.steps[0].weight",
            "above 100%",
        ));
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].path, "strategy.steps[0].weight");
        let p = Problem::from(ControlError::Conflict {
            rollout: "r".into(),
            attempts: 3,
        });
        assert_eq!(p.status, 409);
    }
}
