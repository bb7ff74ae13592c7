//! The control plane's HTTP surface: the REST API under `/api/v1` (rollouts, services and
//! versions, decisions, metrics, experiments, assignment, tokens) with bearer-token access
//! control by role, the OpenFeature Remote Evaluation Protocol under `/ofrep/v1`, and client
//! event ingest at `/v1/events`. Every error is a problem document naming the bad field.
//!
//! It holds no rollout state of its own: every request is answered by the
//! [`rollgate_control::ControlPlane`] it is given, so the dashboard, the CLI and SDKs all see
//! the same thing. It never trusts a request: bodies have size limits, unknown fields are
//! refused, and a refused request changes nothing.

mod access;
mod api;
mod attributes;
mod auth;
mod body;
mod convert;
mod dto;
mod ingest;
mod ofrep;
mod openapi;
mod options;
mod problem;
mod router;
mod state;

pub use access::{Gate, Need, RULES, Rule, enforce, rule_for};
pub use api::assign::{AssignmentDto, VariantDto};
pub use api::encode as percent_encode;
pub use api::meta::WhoAmI;
pub use api::metrics::{PointDto, SeriesDto, VerdictAnswer};
pub use auth::{
    AuthError, Authenticator, Caller, INGEST_KEY_HEADER, INGEST_KEY_QUERY, IngestKey, bearer,
};
pub use dto::{
    CreateToken, CreateVersion, CreatedToken, DecisionDto, DecisionPage, DecisionParams,
    ExperimentDto, ExperimentList, RestoreDto, RolloutDto, RolloutList, ServiceDto, ServiceList,
    SetWeight, StableDto, StablePeriodDto, TokenList, TokenView, VerdictDto, VersionDto,
    VersionList,
};
pub use ingest::{ClientEvent, EventBatch, EventError, IngestResponse};
pub use ofrep::{
    BulkEvaluationFailure, BulkEvaluationSuccess, BulkItem, ErrorCode, EvaluationFailure,
    EvaluationRequest, EvaluationSuccess, Reason,
};
pub use options::{OptionsError, ServerOptions};
pub use problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem, ProblemKind};
pub use router::{openapi, router};
pub use state::AppState;
