//! Every error the API returns is an RFC 9457 problem document (`application/problem+json`):
//! a stable `type` scripts can match on, a `title`, the HTTP `status`, a `detail` for people,
//! and, for invalid input, `errors` naming each bad field by its path and saying why.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollgate_core::SpecErrors;
use rollgate_core::path::join;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of problem documents.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error response (RFC 9457).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:rollgate:problem:invalid",
    "title": "Invalid request",
    "status": 422,
    "detail": "the request body has 1 invalid field",
    "errors": [{"path": "weight", "message": "\"150%\" is above 100%"}]
}))]
pub struct Problem {
    /// What kind of problem this is: `urn:rollgate:problem:<kind>`, stable across releases.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, and what to do about it.
    pub detail: String,
    /// Each invalid field of the request: its path (`steps[2].weight`) and why it is invalid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the field is in the request (`context.targetingKey`, `events[3].name`); empty for
    /// the request as a whole.
    pub path: String,
    /// Why it is invalid.
    pub message: String,
}

/// The kinds of problem the API reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The body is not valid JSON, or a query parameter cannot be read (400).
    BadRequest,
    /// No valid token was presented (401).
    Unauthorized,
    /// The token's role does not allow this (403).
    Forbidden,
    /// The named rollout, version, experiment or token does not exist (404).
    NotFound,
    /// The request conflicts with the current state: a name is taken, or a command is not
    /// allowed in the rollout's phase (409).
    Conflict,
    /// The body is larger than the endpoint accepts (413).
    PayloadTooLarge,
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// The body is JSON but some fields are invalid; `errors` lists them (422).
    Invalid,
    /// The store or another dependency failed; retrying may help (503).
    Unavailable,
    /// A bug on our side (500).
    Internal,
}

impl ProblemKind {
    /// Every kind.
    pub const ALL: [ProblemKind; 10] = [
        ProblemKind::BadRequest,
        ProblemKind::Unauthorized,
        ProblemKind::Forbidden,
        ProblemKind::NotFound,
        ProblemKind::Conflict,
        ProblemKind::PayloadTooLarge,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::Invalid,
        ProblemKind::Unavailable,
        ProblemKind::Internal,
    ];

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::BadRequest => StatusCode::BAD_REQUEST,
            ProblemKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The last part of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::BadRequest => "bad-request",
            ProblemKind::Unauthorized => "unauthorized",
            ProblemKind::Forbidden => "forbidden",
            ProblemKind::NotFound => "not-found",
            ProblemKind::Conflict => "conflict",
            ProblemKind::PayloadTooLarge => "payload-too-large",
            ProblemKind::UnsupportedMediaType => "unsupported-media-type",
            ProblemKind::Invalid => "invalid",
            ProblemKind::Unavailable => "unavailable",
            ProblemKind::Internal => "internal",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ProblemKind::BadRequest => "Bad request",
            ProblemKind::Unauthorized => "Authentication required",
            ProblemKind::Forbidden => "Not allowed",
            ProblemKind::NotFound => "Not found",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::PayloadTooLarge => "Request body too large",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::Invalid => "Invalid request",
            ProblemKind::Unavailable => "Service unavailable",
            ProblemKind::Internal => "Internal error",
        }
    }
}

impl Problem {
    /// A problem of `kind` with a detail for people.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:rollgate:problem:{}", kind.slug()),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// An `invalid` problem listing every bad field.
    pub fn invalid(errors: Vec<FieldError>) -> Problem {
        let detail = match errors.as_slice() {
            [one] if one.path.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.path, one.message),
            many => format!("the request has {} invalid fields", many.len()),
        };
        Problem {
            errors,
            ..Problem::new(ProblemKind::Invalid, detail)
        }
    }

    /// An `invalid` problem with one bad field.
    pub fn invalid_field(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::invalid(vec![FieldError::new(path, message)])
    }

    /// An `invalid` problem from a spec validation, each path under `prefix` (`""` for none).
    pub fn from_spec_errors(errors: &SpecErrors, prefix: &str) -> Problem {
        let errors = errors
            .iter()
            .map(|e| FieldError::new(join(prefix, &e.path), e.message.clone()))
            .collect();
        Problem::invalid(errors)
    }

    /// A `not-found` problem: "no rollout named \"x\"".
    pub fn not_found(what: &str, name: &str) -> Problem {
        Problem::new(ProblemKind::NotFound, format!("no {what} named {name:?}"))
    }

    /// A `internal` problem; the cause is logged here, never sent to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            ProblemKind::Internal,
            "the server failed to handle the request; the cause is in its log",
        )
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// True when the problem is of `kind`.
    pub fn is(&self, kind: ProblemKind) -> bool {
        self.kind.ends_with(kind.slug()) && self.status == kind.status().as_u16()
    }
}

impl FieldError {
    /// A bad field.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)?;
        for e in &self.errors {
            write!(f, "; {}: {}", e.path, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rollgate\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn kinds_have_distinct_statuses_and_slugs() {
        let all = ProblemKind::ALL;
        let statuses: std::collections::BTreeSet<u16> =
            all.iter().map(|k| k.status().as_u16()).collect();
        let slugs: std::collections::BTreeSet<&str> = all.iter().map(|k| k.slug()).collect();
        assert_eq!(statuses.len(), all.len());
        assert_eq!(slugs.len(), all.len());
    }

    #[test]
    fn spec_errors_keep_their_paths_under_a_prefix() {
        let mut errs = SpecErrors::new();
        errs.push("strategy.steps[1].weight", "above 100%");
        errs.push("[0]", "first");
        errs.push("", "whole");
        let p = Problem::from_spec_errors(&errs, "spec");
        let paths: Vec<&str> = p.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["spec.strategy.steps[1].weight", "spec[0]", "spec"]);
        assert_eq!(p.status, 422);
        assert!(p.is(ProblemKind::Invalid));
    }

    #[test]
    fn a_single_error_is_its_own_detail() {
        let p = Problem::invalid_field("weight", "must be a share");
        assert_eq!(p.detail, "weight: must be a share");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "urn:rollgate:problem:invalid");
        assert_eq!(json["errors"][0]["path"], "weight");
    }

    #[test]
    fn responses_carry_the_problem_media_type_and_a_challenge_on_401() {
        let r = Problem::new(ProblemKind::Unauthorized, "no token").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        let r = Problem::not_found("rollout", "x").into_response();
        assert!(!r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
