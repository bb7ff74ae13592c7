//! The OFREP request and response documents (`open-feature/protocol`, `service/openapi.yaml`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `POST /ofrep/v1/evaluate/flags/{key}` and `/ofrep/v1/evaluate/flags`: the evaluation
/// context. Unknown top-level fields are ignored, as the protocol may grow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationRequest {
    /// The context: `targetingKey` (the unit id, required) and attributes.
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = json!({"targetingKey": "user-42", "country": "DE"}))]
    pub context: Option<Map<String, Value>>,
}

/// A successful evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationSuccess {
    /// The flag: a rollout or experiment name.
    pub key: String,
    /// The value: the version name a rollout serves the unit, or the experiment variant's
    /// value (its name when it has none). Absent when the unit is in no variant of the
    /// experiment: the SDK then uses its code default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
    /// Why: `SPLIT` (bucketing), `TARGETING_MATCH` (an audience rule kept the unit on
    /// stable), `STATIC` (no rollout moves the service), `DEFAULT` (not in the experiment).
    pub reason: Reason,
    /// The rollout cohort (`canary`, `baseline`, `stable`) or the experiment variant; empty
    /// when the unit is in no variant.
    pub variant: String,
    /// Service, version, cohort, bucket and weight (rollouts), layer (experiments).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// An OpenFeature resolution reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The value does not depend on the unit.
    Static,
    /// The unit is in no variant: use the code default.
    Default,
    /// A targeting (audience) rule decided.
    TargetingMatch,
    /// Pseudo-random bucketing decided.
    Split,
}

/// An OpenFeature error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The body is not valid JSON.
    ParseError,
    /// The context has no `targetingKey`.
    TargetingKeyMissing,
    /// An attribute of the context has the wrong type or value.
    InvalidContext,
    /// No rollout or experiment has this name.
    FlagNotFound,
    /// Anything else.
    General,
}

/// A failed evaluation of one flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationFailure {
    /// The flag.
    pub key: String,
    /// What went wrong.
    pub error_code: ErrorCode,
    /// Details for people.
    pub error_details: String,
}

/// One flag of a bulk evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BulkItem {
    /// Evaluated.
    Success(EvaluationSuccess),
    /// Not evaluated.
    Failure(EvaluationFailure),
}

/// Every flag evaluated for one context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkEvaluationSuccess {
    /// Every rollout and experiment, in that order, by name.
    pub flags: Vec<BulkItem>,
}

/// A bulk evaluation that failed as a whole (a bad context).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkEvaluationFailure {
    /// What went wrong.
    pub error_code: ErrorCode,
    /// Details for people.
    pub error_details: String,
}

impl Reason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
        }
    }
}
