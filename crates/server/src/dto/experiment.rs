//! Experiments as the API shows them.

use rollgate_core::model::UnixMillis;
use rollgate_store::ExperimentRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// An A/B experiment: its spec and whether it is still assigning units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Experiment)]
pub struct ExperimentDto {
    /// The name.
    pub name: String,
    /// `running` or `stopped`.
    pub state: String,
    /// When it was created (Unix ms).
    pub created_at: UnixMillis,
    /// When it was stopped (Unix ms), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<UnixMillis>,
    /// The spec: service, layer, allocation, variants (name, weight, value, version), metrics.
    #[schema(value_type = Object)]
    pub spec: Value,
}

/// Every experiment, by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExperimentList {
    /// The experiments.
    pub experiments: Vec<ExperimentDto>,
}

impl From<ExperimentRecord> for ExperimentDto {
    fn from(e: ExperimentRecord) -> ExperimentDto {
        ExperimentDto {
            name: e.name,
            state: e.state.as_str().to_owned(),
            created_at: e.created_at,
            stopped_at: e.stopped_at,
            spec: e.spec,
        }
    }
}
