//! OpenFeature Remote Evaluation Protocol (OFREP, `open-feature/protocol`): any OpenFeature
//! SDK with the OFREP provider asks which version of a rollout or which variant of an
//! experiment a unit (`targetingKey`) gets, answered by the same routing table and bucketing as
//! the edge.
//!
//! Flags are named after rollouts (value: the version name served; variant: the cohort) and
//! experiments (value: the variant's value, or its name; variant: the variant name). Errors
//! follow OFREP's shapes (`errorCode`, `errorDetails`), not problem documents, so SDKs can
//! read them; authentication failures (401/403) are problem documents, which SDKs read by
//! status alone.

mod context;
mod evaluate;
mod wire;

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::api::responses::{Forbidden, Unauthorized};
use crate::state::AppState;

pub use context::read_context;
pub use evaluate::{evaluate, evaluate_all};
pub use wire::{
    BulkEvaluationFailure, BulkEvaluationSuccess, BulkItem, ErrorCode, EvaluationFailure,
    EvaluationRequest, EvaluationSuccess, Reason,
};

/// Evaluate one flag for a context.
#[utoipa::path(
    post, path = "/ofrep/v1/evaluate/flags/{key}", tag = "ofrep",
    params(("key" = String, Path, description = "The flag: a rollout or experiment name")),
    request_body = EvaluationRequest,
    responses(
        (status = 200, description = "Evaluated", body = EvaluationSuccess),
        (status = 400, description = "Bad context (`TARGETING_KEY_MISSING`, `INVALID_CONTEXT`) or body (`PARSE_ERROR`)", body = EvaluationFailure),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, description = "No rollout or experiment has this name (`FLAG_NOT_FOUND`)", body = EvaluationFailure),
        (status = 413, description = "Body too large (`GENERAL`)", body = EvaluationFailure),
    ),
    security(("bearer" = []))
)]
pub async fn evaluate_flag(
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (unit, attrs) = match read_unit(body) {
        Ok(c) => c,
        Err((status, error_code, error_details)) => {
            let body = EvaluationFailure {
                key,
                error_code,
                error_details,
            };
            return (status, Json(body)).into_response();
        }
    };
    let table = state.control.routing();
    match evaluate(&table, &key, &unit, &attrs) {
        Ok(success) => Json(success).into_response(),
        Err(f) if f.error_code == ErrorCode::FlagNotFound => {
            (StatusCode::NOT_FOUND, Json(f)).into_response()
        }
        Err(f) => (StatusCode::INTERNAL_SERVER_ERROR, Json(f)).into_response(),
    }
}

/// Evaluate every flag (every rollout, then every experiment) for a context. The answer
/// carries an `ETag`; send it back in `If-None-Match` to get `304 Not Modified` while nothing
/// changed for this context.
#[utoipa::path(
    post, path = "/ofrep/v1/evaluate/flags", tag = "ofrep",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of an earlier answer")),
    request_body = EvaluationRequest,
    responses(
        (status = 200, description = "Every flag", body = BulkEvaluationSuccess,
            headers(("ETag" = String, description = "Changes when any flag's answer for this context changes"))),
        (status = 304, description = "Nothing changed since the ETag sent in If-None-Match"),
        (status = 400, description = "Bad context or body", body = BulkEvaluationFailure),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, description = "Body too large (`GENERAL`)", body = BulkEvaluationFailure),
    ),
    security(("bearer" = []))
)]
pub async fn evaluate_flags(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let failure = |(status, error_code, error_details): Failure| {
        let body = BulkEvaluationFailure {
            error_code,
            error_details,
        };
        (status, Json(body)).into_response()
    };
    let (unit, attrs) = match read_unit(body) {
        Ok(c) => c,
        Err(f) => return failure(f),
    };
    let table = state.control.routing();
    let answer = BulkEvaluationSuccess {
        flags: evaluate_all(&table, &unit, &attrs),
    };
    let Ok(bytes) = serde_json::to_vec(&answer) else {
        return failure((
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::General,
            "cannot encode the answer".into(),
        ));
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(HttpBody::from(bytes));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

type Failure = (StatusCode, ErrorCode, String);

/// The unit and attributes of an evaluation request's body.
fn read_unit(
    body: Result<Bytes, BytesRejection>,
) -> Result<(String, rollgate_core::AttributesView), Failure> {
    let request = read_request(body)?;
    read_context(request.context.as_ref()).map_err(|e| (StatusCode::BAD_REQUEST, e.code, e.details))
}

fn read_request(body: Result<Bytes, BytesRejection>) -> Result<EvaluationRequest, Failure> {
    let bytes = body.map_err(|rejection| {
        (
            rejection.status(),
            ErrorCode::General,
            format!("cannot read the request body: {}", rejection.body_text()),
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(EvaluationRequest::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            ErrorCode::ParseError,
            format!("the body is not an evaluation request: {e}"),
        )
    })
}

/// True when `If-None-Match` lists `etag` (or `*`).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists() {
        let mut h = HeaderMap::new();
        assert!(!if_none_match(&h, "\"a\""));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"b\", W/\"a\""),
        );
        assert!(if_none_match(&h, "\"a\""));
        assert!(!if_none_match(&h, "\"c\""));
    }

    #[test]
    fn bodies() {
        assert_eq!(
            read_request(Ok(Bytes::from_static(b" "))).ok(),
            Some(EvaluationRequest::default())
        );
        let e = read_request(Ok(Bytes::from_static(b"{nope"))).unwrap_err();
        assert_eq!((e.0, e.1), (StatusCode::BAD_REQUEST, ErrorCode::ParseError));
    }
}
