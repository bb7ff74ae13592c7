//! The API's request and response documents. Each derives its OpenAPI schema, so the
//! document at `/api/v1/openapi.json` describes exactly what is sent and accepted; responses
//! are built from the control plane's views by `From` conversions.

mod decision;
mod experiment;
mod rollout;
pub mod schema;
mod service;
mod token;

pub use decision::{DecisionDto, DecisionPage, DecisionParams};
pub use experiment::{ExperimentDto, ExperimentList};
pub use rollout::{RolloutDto, RolloutList, SetWeight, VerdictDto};
pub use service::{
    CreateVersion, RestoreDto, ServiceDto, ServiceList, StableDto, StablePeriodDto, VersionDto,
    VersionList,
};
pub use token::{CreateToken, CreatedToken, TokenList, TokenView};
