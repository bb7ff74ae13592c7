//! An OpenFeature evaluation context → the unit (`targetingKey`) and the request attributes
//! (see [`crate::attributes`] for the names that mean something).

use rollgate_core::AttributesView;
use serde_json::{Map, Value};

use super::wire::ErrorCode;
use crate::attributes::{kind, read_attributes};

/// Why a context cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextError {
    /// `TARGETING_KEY_MISSING` or `INVALID_CONTEXT`.
    pub code: ErrorCode,
    /// Which attribute, and why.
    pub details: String,
}

/// The unit and the attributes of a context.
pub fn read_context(
    context: Option<&Map<String, Value>>,
) -> Result<(String, AttributesView), ContextError> {
    let Some(ctx) = context else {
        return Err(missing(
            "the request has no context; send {\"context\": {\"targetingKey\": \"<unit id>\"}}",
        ));
    };
    let unit = match ctx.get("targetingKey") {
        None | Some(Value::Null) => {
            return Err(missing(
                "context.targetingKey is missing: it is the unit id that is bucketed",
            ));
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(missing("context.targetingKey is empty"));
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(ContextError {
                code: ErrorCode::InvalidContext,
                details: format!("context.targetingKey must be a string, not {}", kind(other)),
            });
        }
    };
    let view = read_attributes(ctx, "context").map_err(|e| ContextError {
        code: ErrorCode::InvalidContext,
        details: format!("{}: {}", e.path, e.message),
    })?;
    Ok((unit, view))
}

fn missing(details: &str) -> ContextError {
    ContextError {
        code: ErrorCode::TargetingKeyMissing,
        details: details.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_core::RequestView;
    use serde_json::json;

    use super::*;

    fn read(v: Value) -> Result<(String, AttributesView), ContextError> {
        read_context(v.as_object())
    }

    #[test]
    fn reads_the_unit_and_the_attributes() {
        let (unit, view) = read(json!({"targetingKey": "user-42", "country": "DE"})).unwrap();
        assert_eq!(unit, "user-42");
        assert_eq!(view.country(), Some("DE"));
    }

    #[test]
    fn the_targeting_key_is_required() {
        assert_eq!(
            read_context(None).unwrap_err().code,
            ErrorCode::TargetingKeyMissing
        );
        for ctx in [
            json!({}),
            json!({"targetingKey": ""}),
            json!({"targetingKey": null}),
        ] {
            assert_eq!(read(ctx).unwrap_err().code, ErrorCode::TargetingKeyMissing);
        }
        let e = read(json!({"targetingKey": 42})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidContext);
        let e = read(json!({"targetingKey": "u", "ip": "nope"})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidContext);
        assert!(e.details.starts_with("context.ip:"), "{}", e.details);
    }
}
