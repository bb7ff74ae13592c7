//! The error responses the OpenAPI document lists for each operation: every one is a problem
//! document (`application/problem+json`). These types only describe responses; handlers
//! return [`Problem`] itself.
#![allow(dead_code)]

use utoipa::ToResponse;

use crate::problem::Problem;

/// The body is not valid JSON, or a query parameter cannot be read; nothing was changed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(Problem);

/// No token, a malformed `Authorization` header, or an unknown or revoked token.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(Problem);

/// The token's role does not allow this; nothing was changed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(Problem);

/// The named rollout, service, version, experiment or token does not exist.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(Problem);

/// Not allowed in the current state (the rollout's phase, a name taken); nothing was changed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(Problem);

/// The body is larger than the endpoint accepts; nothing was changed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(Problem);

/// The body is not declared as JSON.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(Problem);

/// Some fields are invalid: `errors` lists each with its path; nothing was changed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Invalid(Problem);

/// The store or the metrics provider is not available; retry later.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unavailable(Problem);
