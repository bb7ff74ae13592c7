//! Conversions between SQLite values and the store's records. Anything that does not decode is
//! reported as `Corrupt` with the column it came from, never unwrapped.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, Phase};
use rusqlite::ErrorCode;
use rusqlite::ffi;
use serde_json::Value;

use crate::StoreError;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> StoreError {
        StoreError::backend(err)
    }
}

/// True when `err` is a UNIQUE (not primary key) constraint violation.
pub(crate) fn is_unique_violation(err: &rusqlite::Error) -> bool {
    err.sqlite_error().is_some_and(|e| {
        e.code == ErrorCode::ConstraintViolation && e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
    })
}

/// An unsigned counter as an SQLite integer.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{what} {value} is too large")))
}

/// An SQLite integer as an unsigned counter.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative: {value}")))
}

/// A stored share.
pub(crate) fn ppm(value: i64, what: &str) -> Result<Ppm, StoreError> {
    u32::try_from(value)
        .ok()
        .and_then(Ppm::new)
        .ok_or_else(|| StoreError::Corrupt(format!("{what} is not a share: {value}")))
}

/// A share as an SQLite integer.
pub(crate) fn ppm_value(weight: Ppm) -> i64 {
    i64::from(weight.get())
}

/// A stored JSON document.
pub(crate) fn json(text: &str, what: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what} is not JSON: {e}")))
}

/// A JSON document as text.
pub(crate) fn json_text(value: &impl serde::Serialize, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Invalid(format!("{what} cannot be stored as JSON: {e}")))
}

/// A stored phase.
pub(crate) fn phase(text: &str) -> Result<Phase, StoreError> {
    Phase::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown phase {text:?}")))
}

/// A stored action.
pub(crate) fn action(text: &str) -> Result<Action, StoreError> {
    serde_json::from_value(Value::String(text.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("unknown action {text:?}")))
}

/// An actor as its two columns: kind and name.
pub(crate) fn actor_columns(actor: &Actor) -> (&'static str, Option<&str>) {
    match actor {
        Actor::Controller => ("controller", None),
        Actor::User(name) => ("user", Some(name)),
    }
}

/// An actor from its two columns.
pub(crate) fn actor(kind: &str, name: Option<String>) -> Result<Actor, StoreError> {
    match (kind, name) {
        ("controller", _) => Ok(Actor::Controller),
        ("user", Some(name)) => Ok(Actor::User(name)),
        (kind, _) => Err(StoreError::Corrupt(format!(
            "actor {kind:?} without a valid name"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips() {
        use Action::*;
        for a in [
            Start, Ramp, Reduce, Hold, Pause, Resume, SetWeight, Promote, Rollback, Abort, Retry,
            Restore,
        ] {
            assert_eq!(action(a.as_str()).unwrap(), a);
        }
        assert!(matches!(action("explode"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn actors_round_trip() {
        for a in [Actor::Controller, Actor::User("alice".into())] {
            let (kind, name) = actor_columns(&a);
            assert_eq!(actor(kind, name.map(str::to_owned)).unwrap(), a);
        }
        assert!(actor("user", None).is_err());
        assert!(actor("robot", Some("x".into())).is_err());
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        assert!(matches!(to_u64(-1, "seq"), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            to_i64(u64::MAX, "seq"),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            ppm(1_000_001, "weight"),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(ppm(250_000, "weight").unwrap(), Ppm::percent(25));
    }
}
