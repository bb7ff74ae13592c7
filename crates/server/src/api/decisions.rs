//! `GET /api/v1/decisions`: the audit log, filtered by rollout and time, a page at a time
//! (cursor + limit, with a `next` link).

use axum::Json;
use axum::extract::{Query, State};
use rollgate_core::model::UnixMillis;
use rollgate_store::{DecisionQuery, Order};

use super::responses::{BadRequest, Forbidden, NotFound, Unauthorized, Unavailable};
use crate::dto::{DecisionDto, DecisionPage, DecisionParams};
use crate::problem::{FieldError, Problem};
use crate::state::AppState;

/// A page of the decision log.
#[utoipa::path(
    get, path = "/api/v1/decisions", tag = "decisions",
    params(DecisionParams),
    responses(
        (status = 200, description = "One page; `next` is the URL of the following one", body = DecisionPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = []))
)]
pub async fn list_decisions(
    State(state): State<AppState>,
    params: Result<Query<DecisionParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DecisionPage>, Problem> {
    let Query(params) = params.map_err(super::query_problem)?;
    let query = to_query(&params)?;
    let page = state.control.decisions(&query).await?;
    let next = page
        .next
        .map(|cursor| next_link(&params, query.order, cursor));
    Ok(Json(DecisionPage {
        decisions: page.decisions.into_iter().map(DecisionDto::from).collect(),
        total: page.total,
        next_cursor: page.next,
        next,
    }))
}

/// The store query of the parameters; every bad parameter is reported.
pub fn to_query(p: &DecisionParams) -> Result<DecisionQuery, Problem> {
    let mut errors = Vec::new();
    let since = time_param("since", p.since.as_deref(), &mut errors);
    let until = time_param("until", p.until.as_deref(), &mut errors);
    let order = match p.order.as_deref() {
        None | Some("asc") => Order::OldestFirst,
        Some("desc") => Order::NewestFirst,
        Some(other) => {
            errors.push(FieldError::new(
                "order",
                format!("{other:?} is not `asc` or `desc`"),
            ));
            Order::OldestFirst
        }
    };
    if let Some(limit) = p.limit
        && !(1..=DecisionQuery::MAX_LIMIT).contains(&limit)
    {
        errors.push(FieldError::new(
            "limit",
            format!("{limit} is not between 1 and {}", DecisionQuery::MAX_LIMIT),
        ));
    }
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        errors.push(FieldError::new("until", "is before `since`"));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    Ok(DecisionQuery {
        rollout: p.rollout.clone(),
        since,
        until,
        after_id: p.after_id,
        before_id: p.before_id,
        limit: p.limit,
        order,
    })
}

/// A time parameter: Unix milliseconds or RFC 3339.
pub fn time_param(
    name: &str,
    value: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<UnixMillis> {
    let v = value?.trim();
    if let Ok(ms) = v.parse::<i64>() {
        return Some(ms);
    }
    match v.parse::<jiff::Timestamp>() {
        Ok(t) => Some(t.as_millisecond()),
        Err(_) => {
            errors.push(FieldError::new(
                name,
                format!(
                    "{v:?} is not a time: give Unix milliseconds or RFC 3339 (2025-06-01T12:00:00Z)"
                ),
            ));
            None
        }
    }
}

fn next_link(p: &DecisionParams, order: Order, cursor: i64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(r) = &p.rollout {
        pairs.push(("rollout", r.clone()));
    }
    if let Some(s) = &p.since {
        pairs.push(("since", s.clone()));
    }
    if let Some(u) = &p.until {
        pairs.push(("until", u.clone()));
    }
    if let Some(l) = p.limit {
        pairs.push(("limit", l.to_string()));
    }
    match order {
        Order::OldestFirst => pairs.push(("after_id", cursor.to_string())),
        Order::NewestFirst => {
            pairs.push(("order", "desc".into()));
            pairs.push(("before_id", cursor.to_string()));
        }
    }
    let query: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", super::encode(&v)))
        .collect();
    format!("/api/v1/decisions?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parameters_become_a_query() {
        let p = DecisionParams {
            rollout: Some("shop v2".into()),
            since: Some("2025-06-01T00:00:00Z".into()),
            until: Some("1748736000001".into()),
            limit: Some(10),
            order: Some("desc".into()),
            ..DecisionParams::default()
        };
        let q = to_query(&p).unwrap();
        assert_eq!(q.since, Some(1_748_736_000_000));
        assert_eq!(q.until, Some(1_748_736_000_001));
        assert_eq!(q.order, Order::NewestFirst);
        let link = next_link(&p, q.order, 42);
        assert_eq!(
            link,
            "/api/v1/decisions?rollout=shop%20v2&since=2025-06-01T00%3A00%3A00Z&until=1748736000001&limit=10&order=desc&before_id=42"
        );
    }

    #[test]
    fn every_bad_parameter_is_reported() {
        let p = DecisionParams {
            since: Some("yesterday".into()),
            limit: Some(0),
            order: Some("random".into()),
            ..DecisionParams::default()
        };
        let err = to_query(&p).unwrap_err();
        let paths: Vec<&str> = err.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["since", "order", "limit"]);
    }
}
