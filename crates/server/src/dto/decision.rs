//! The audit log as the API shows it: decisions, a page of them, and the query.

use rollgate_core::Ppm;
use rollgate_core::model::{Action, Actor, DecisionRecord, Phase, UnixMillis};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::schema::{ActionSchema, ActorSchema, PhaseSchema};

/// One audited change of a rollout's weight or phase: who, what, why, with the numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Decision)]
pub struct DecisionDto {
    /// Position in the log (grows in commit order across rollouts): the paging cursor.
    pub id: i64,
    /// The rollout.
    pub rollout: String,
    /// The rollout's own decision counter.
    pub seq: u64,
    /// When it was decided (Unix ms).
    pub at: UnixMillis,
    /// Who decided: the controller, or a user named by their token.
    #[schema(value_type = ActorSchema)]
    pub actor: Actor,
    /// What was done.
    #[schema(value_type = ActionSchema)]
    pub action: Action,
    /// Phase before.
    #[schema(value_type = PhaseSchema)]
    pub phase_before: Phase,
    /// Phase after.
    #[schema(value_type = PhaseSchema)]
    pub phase_after: Phase,
    /// Canary weight before.
    #[schema(value_type = String, example = "5%")]
    pub weight_before: Ppm,
    /// Canary weight after.
    #[schema(value_type = String, example = "10%")]
    pub weight_after: Ppm,
    /// The rule that fired, with its numbers, in one line.
    pub reason: String,
    /// The numbers behind it (verdicts, metric values, sample sizes).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub details: Value,
}

/// One page of the decision log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionPage {
    /// The decisions, in the order asked for.
    pub decisions: Vec<DecisionDto>,
    /// How many decisions the filters select in total (all pages).
    pub total: u64,
    /// The cursor of the next page, when this page was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
    /// The URL of the next page (same filters, the cursor set), when this page was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/decisions`: which decisions, in which order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecisionParams {
    /// Only decisions of this rollout.
    pub rollout: Option<String>,
    /// Only decisions at or after this time: Unix ms or RFC 3339 (`2025-06-01T12:00:00Z`).
    pub since: Option<String>,
    /// Only decisions before this time: Unix ms or RFC 3339.
    pub until: Option<String>,
    /// Oldest first: decisions with an id greater than this (the previous page's
    /// `next_cursor`).
    pub after_id: Option<i64>,
    /// Newest first: decisions with an id smaller than this.
    pub before_id: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// `asc` (oldest first, the default) or `desc` (newest first).
    pub order: Option<String>,
}

impl From<DecisionRecord> for DecisionDto {
    fn from(d: DecisionRecord) -> DecisionDto {
        DecisionDto {
            id: d.id,
            rollout: d.rollout,
            seq: d.seq,
            at: d.at,
            actor: d.actor,
            action: d.action,
            phase_before: d.phase_before,
            phase_after: d.phase_after,
            weight_before: d.weight_before,
            weight_after: d.weight_after,
            reason: d.reason,
            details: d.details,
        }
    }
}
