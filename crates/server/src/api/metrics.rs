//! A rollout's measurements: per-cohort metric values over a time range (the document
//! `rollgate analyze` reads), the latest verdict, and one metric over time for charts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::decisions::time_param;
use super::responses::{BadRequest, Forbidden, NotFound, Unauthorized, Unavailable};
use crate::problem::{FieldError, Problem};
use crate::state::AppState;

/// The range asked for when none is given: the last five minutes.
pub const DEFAULT_RANGE_MS: i64 = 5 * 60 * 1000;

/// A time range: `from` (inclusive) to `to` (exclusive), Unix ms or RFC 3339.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Start (default: five minutes before `to`).
    pub from: Option<String>,
    /// End (default: now).
    pub to: Option<String>,
}

/// `GET …/series`: one metric over a range.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// The metric (`error_rate`, `p99_latency`, `conversion_rate`…).
    pub metric: String,
    /// Start (default: five minutes before `to`).
    pub from: Option<String>,
    /// End (default: now).
    pub to: Option<String>,
}

/// The latest verdict, if there is one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerdictAnswer {
    /// The verdict of the last analysis (outcome, every condition with its numbers, the
    /// sample-ratio check; see `docs/analysis.md`); `null` before the first closed window
    /// of the current step, or for a rollout without conditions.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<Value>,
}

/// One metric of a rollout per cohort over time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = MetricSeries)]
pub struct SeriesDto {
    /// The rollout.
    pub rollout: String,
    /// The metric.
    pub metric: String,
    /// Its unit: `ratio`, `count`, `duration_ms` or `number`.
    pub unit: String,
    /// Start of the first point (Unix ms).
    pub from: UnixMillis,
    /// End of the last point (Unix ms).
    pub to: UnixMillis,
    /// Milliseconds each point covers.
    pub step_ms: i64,
    /// The points of each cohort (`canary`, `baseline`, `stable`).
    #[schema(value_type = BTreeMap<String, Vec<PointDto>>)]
    pub cohorts: BTreeMap<Cohort, Vec<PointDto>>,
}

/// One point of a series.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Point)]
pub struct PointDto {
    /// Start of the time it covers (Unix ms).
    pub t: UnixMillis,
    /// The value; `null` without data.
    pub value: Option<f64>,
    /// The sample size behind it.
    pub samples: u64,
}

/// Every metric of the rollout's cohorts (canary, baseline, stable) over a range: the
/// `RolloutMetrics` document (`docs/analysis.md`) that `rollgate analyze FILE` judges offline.
#[utoipa::path(
    get, path = "/api/v1/rollouts/{rollout}/metrics", tag = "metrics",
    params(("rollout" = String, Path, description = "The rollout name"), RangeParams),
    responses(
        (status = 200, description = "The metrics document", body = Object),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn rollout_metrics(
    State(state): State<AppState>,
    Path(rollout): Path<String>,
    params: Result<Query<RangeParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let Query(p) = params.map_err(super::query_problem)?;
    let (from, to) = range(state.control.now(), p.from.as_deref(), p.to.as_deref())?;
    let doc = state.control.metrics(&rollout, from, to).await?;
    serde_json::to_value(doc)
        .map(Json)
        .map_err(|e| Problem::internal(&e))
}

/// The latest analysis verdict on the rollout.
#[utoipa::path(
    get, path = "/api/v1/rollouts/{rollout}/verdict", tag = "metrics",
    params(("rollout" = String, Path, description = "The rollout name")),
    responses(
        (status = 200, description = "The verdict, or null", body = VerdictAnswer),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn rollout_verdict(
    State(state): State<AppState>,
    Path(rollout): Path<String>,
) -> Result<Json<VerdictAnswer>, Problem> {
    let verdict = state.control.verdict(&rollout).await?;
    let verdict = verdict
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Problem::internal(&e))?;
    Ok(Json(VerdictAnswer { verdict }))
}

/// One metric per cohort over time, at most 300 points per cohort (for charts).
#[utoipa::path(
    get, path = "/api/v1/rollouts/{rollout}/series", tag = "metrics",
    params(("rollout" = String, Path, description = "The rollout name"), SeriesParams),
    responses(
        (status = 200, description = "The series", body = SeriesDto),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn rollout_series(
    State(state): State<AppState>,
    Path(rollout): Path<String>,
    params: Result<Query<SeriesParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SeriesDto>, Problem> {
    let Query(p) = params.map_err(super::query_problem)?;
    let (from, to) = range(state.control.now(), p.from.as_deref(), p.to.as_deref())?;
    let s = state.control.series(&rollout, &p.metric, from, to).await?;
    let unit = serde_json::to_value(s.unit)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(Json(SeriesDto {
        rollout: s.rollout,
        metric: s.metric,
        unit,
        from: s.from,
        to: s.to,
        step_ms: s.step_ms,
        cohorts: s
            .cohorts
            .into_iter()
            .map(|(c, points)| {
                let points = points
                    .into_iter()
                    .map(|p| PointDto {
                        t: p.t,
                        value: p.value,
                        samples: p.samples,
                    })
                    .collect();
                (c, points)
            })
            .collect(),
    }))
}

/// `[from, to)` from the parameters, defaulting to the five minutes before now.
pub fn range(
    now: UnixMillis,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(UnixMillis, UnixMillis), Problem> {
    let mut errors = Vec::new();
    let to = time_param("to", to, &mut errors).unwrap_or(now);
    let from = time_param("from", from, &mut errors).unwrap_or(to - DEFAULT_RANGE_MS);
    if errors.is_empty() && from > to {
        errors.push(FieldError::new("from", "is after `to`"));
    }
    if errors.is_empty() {
        Ok((from, to))
    } else {
        Err(Problem::invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ranges_default_to_the_last_five_minutes() {
        assert_eq!(range(1_000_000, None, None).unwrap(), (700_000, 1_000_000));
        assert_eq!(range(1_000_000, Some("5"), Some("10")).unwrap(), (5, 10));
        assert_eq!(
            range(1_000_000, Some("10"), Some("5")).unwrap_err().errors[0].path,
            "from"
        );
        assert_eq!(
            range(1_000_000, Some("soon"), None).unwrap_err().errors[0].path,
            "from"
        );
    }
}
