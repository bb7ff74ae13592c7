//! The REST API under `/api/v1`: one file per resource, each handler documented for the
//! OpenAPI document with every answer it can give.

pub mod assign;
pub mod decisions;
pub mod experiments;
pub mod meta;
pub mod metrics;
pub mod responses;
pub mod rollouts;
pub mod services;
pub mod tokens;

use axum::extract::rejection::QueryRejection;

use crate::problem::{Problem, ProblemKind};

/// A query string that cannot be read: a problem naming the parameter when serde does.
pub fn query_problem(rejection: QueryRejection) -> Problem {
    let text = rejection.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text)
        .to_owned();
    Problem::new(
        ProblemKind::BadRequest,
        format!("bad query string: {detail}"),
    )
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
