//! `GET /api/v1/assign`: which version, cohort and experiment variants a unit gets — the same
//! answer as `rollgate assign` and the edge, from the current routing table.

use axum::Json;
use axum::extract::{Query, State};
use rollgate_core::{Cohort, DecisionSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::responses::{BadRequest, Forbidden, Invalid, NotFound, Unauthorized};
use crate::attributes::read_attributes;
use crate::problem::{FieldError, Problem, ProblemKind};
use crate::state::AppState;

/// What a unit gets from a service, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Assignment)]
pub struct AssignmentDto {
    /// The service.
    pub service: String,
    /// The version that serves the unit.
    pub version: String,
    /// The unit's cohort.
    #[schema(value_type = crate::dto::schema::CohortSchema)]
    pub cohort: Cohort,
    /// The rollout moving the service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<String>,
    /// The unit id.
    pub unit: String,
    /// The unit's bucket in `[0, 1000000)`, when bucketing decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<u32>,
    /// Why, in words.
    pub reason: String,
    /// The unit's experiment variants.
    #[serde(default)]
    pub experiments: Vec<VariantDto>,
}

/// A unit's variant in one experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Variant)]
pub struct VariantDto {
    /// The experiment.
    pub experiment: String,
    /// The variant.
    pub variant: String,
    /// The variant's value, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
}

/// Which version and variants a unit gets.
#[utoipa::path(
    get, path = "/api/v1/assign", tag = "assignment",
    params(
        ("unit" = String, Query, description = "The unit id (user id, device id…)"),
        ("service" = Option<String>, Query, description = "The service (default: the only one)"),
        ("country" = Option<String>, Query, description = "The client's country (ISO code)"),
        ("ip" = Option<String>, Query, description = "The client address"),
        ("device" = Option<String>, Query, description = "mobile, tablet, desktop or bot"),
        ("host" = Option<String>, Query, description = "The request host"),
        ("path" = Option<String>, Query, description = "The request path"),
        ("header.NAME" = Option<String>, Query, description = "A request header, e.g. `header.X-Beta=1` (repeatable)"),
        ("cookie.NAME" = Option<String>, Query, description = "A cookie, e.g. `cookie.uid=42` (repeatable)"),
        ("query.NAME" = Option<String>, Query, description = "A query parameter of the request (repeatable)"),
    ),
    responses(
        (status = 200, description = "The assignment", body = AssignmentDto),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    ),
    security(("bearer" = []))
)]
pub async fn assign(
    State(state): State<AppState>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AssignmentDto>, Problem> {
    let Query(pairs) = params.map_err(super::query_problem)?;
    let (service, unit, attrs) = read_params(pairs)?;
    let table = state.control.routing();
    let service = match service {
        Some(s) => s,
        None => match table.spec().services.as_slice() {
            [only] => only.name.clone(),
            _ => {
                return Err(Problem::invalid_field(
                    "service",
                    "is required: the control plane serves several services (or none)",
                ));
            }
        },
    };
    let view = read_attributes(&attrs, "").map_err(|e| Problem::invalid(vec![e]))?;
    let decision = table
        .assign(&service, &unit, &view)
        .map_err(|e| Problem::new(ProblemKind::NotFound, e.to_string()))?;
    Ok(Json(decision.summary().into()))
}

type Params = (Option<String>, String, Map<String, Value>);

/// The service, the unit and the attributes (as the JSON the attribute reader takes).
fn read_params(pairs: Vec<(String, String)>) -> Result<Params, Problem> {
    let mut service = None;
    let mut unit = None;
    let mut attrs = Map::new();
    let mut errors = Vec::new();
    for (key, value) in pairs {
        let prefixed = [
            ("header.", "headers"),
            ("cookie.", "cookies"),
            ("query.", "query"),
        ]
        .into_iter()
        .find_map(|(prefix, group)| Some((group, key.strip_prefix(prefix)?)));
        match (key.as_str(), prefixed) {
            ("service", _) => service = Some(value),
            ("unit", _) => unit = Some(value),
            ("country" | "ip" | "device" | "host" | "path", _) => {
                attrs.insert(key, Value::String(value));
            }
            (_, Some((group, name))) if !name.is_empty() => {
                let group = attrs
                    .entry(group)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = group {
                    m.insert(name.to_owned(), Value::String(value));
                }
            }
            _ => errors.push(FieldError::new(
                key.clone(),
                "unknown parameter: use unit, service, country, ip, device, host, path, header.NAME, cookie.NAME or query.NAME",
            )),
        }
    }
    let unit = match unit {
        Some(u) if !u.is_empty() => Some(u),
        _ => {
            errors.push(FieldError::new(
                "unit",
                "is required: the unit id to assign",
            ));
            None
        }
    };
    match unit {
        Some(unit) if errors.is_empty() => Ok((service, unit, attrs)),
        _ => Err(Problem::invalid(errors)),
    }
}

impl From<DecisionSummary> for AssignmentDto {
    fn from(s: DecisionSummary) -> AssignmentDto {
        AssignmentDto {
            service: s.service,
            version: s.version,
            cohort: s.cohort,
            rollout: s.rollout,
            unit: s.unit,
            bucket: s.bucket,
            reason: s.reason,
            experiments: s
                .experiments
                .into_iter()
                .map(|v| VariantDto {
                    experiment: v.experiment,
                    variant: v.variant,
                    value: v.value,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_become_attributes() {
        let (service, unit, attrs) = read_params(pairs(&[
            ("unit", "u1"),
            ("country", "DE"),
            ("header.X-Beta", "1"),
            ("cookie.uid", "7"),
            ("query.q", "x"),
        ]))
        .unwrap();
        assert_eq!(service, None);
        assert_eq!(unit, "u1");
        assert_eq!(
            Value::Object(attrs),
            serde_json::json!({"country": "DE", "headers": {"X-Beta": "1"}, "cookies": {"uid": "7"}, "query": {"q": "x"}})
        );
    }

    #[test]
    fn the_unit_is_required_and_unknown_parameters_are_named() {
        let err = read_params(pairs(&[("colour", "red"), ("header.", "x")])).unwrap_err();
        let paths: Vec<&str> = err.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["colour", "header.", "unit"]);
    }
}
