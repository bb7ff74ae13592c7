//! Who may call what: one table, [`RULES`], naming for every route the role it needs, and the
//! middleware that enforces it before any handler runs. A route missing from the table is
//! refused (deny by default); a test checks that the table and the OpenAPI document list
//! exactly the same routes.
//!
//! | answer | when |
//! | --- | --- |
//! | 401 | no token, a malformed header, an unknown or revoked token (logged with the reason, never the token) |
//! | 403 | a valid token whose role is too weak (logged with the token's name) |
//! | 401 | `/v1/events` without the ingest key, when one is configured |

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rollgate_store::Role;

use crate::auth::{
    AuthError, Authenticator, Caller, INGEST_KEY_HEADER, INGEST_KEY_QUERY, IngestKey,
};
use crate::problem::{Problem, ProblemKind};

/// What a route needs from its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing: anyone may call it.
    Public,
    /// A bearer token whose role is at least this one.
    Role(Role),
    /// The ingest key, when one is configured (otherwise nothing).
    IngestKey,
}

/// One route and what it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The HTTP method.
    pub method: Method,
    /// The route as registered (`/api/v1/rollouts/{rollout}/pause`).
    pub path: &'static str,
    /// What the caller needs.
    pub need: Need,
}

const fn rule(method: Method, path: &'static str, need: Need) -> Rule {
    Rule { method, path, need }
}

const VIEWER: Need = Need::Role(Role::Viewer);
const OPERATOR: Need = Need::Role(Role::Operator);
const ADMIN: Need = Need::Role(Role::Admin);

/// Every route of the API and what it needs: viewers read, operators steer rollouts and
/// restore versions, admins create services' versions, rollouts, experiments and tokens.
pub const RULES: &[Rule] = &[
    rule(Method::GET, "/api/v1/openapi.json", Need::Public),
    rule(Method::GET, "/api/v1/whoami", VIEWER),
    // Services and versions.
    rule(Method::GET, "/api/v1/services", VIEWER),
    rule(Method::GET, "/api/v1/services/{service}", VIEWER),
    rule(Method::GET, "/api/v1/services/{service}/versions", VIEWER),
    rule(Method::POST, "/api/v1/services/{service}/versions", ADMIN),
    rule(
        Method::GET,
        "/api/v1/services/{service}/versions/{version}",
        VIEWER,
    ),
    rule(
        Method::POST,
        "/api/v1/services/{service}/versions/{version}/restore",
        OPERATOR,
    ),
    // Rollouts.
    rule(Method::GET, "/api/v1/rollouts", VIEWER),
    rule(Method::POST, "/api/v1/rollouts", ADMIN),
    rule(Method::GET, "/api/v1/rollouts/{rollout}", VIEWER),
    rule(Method::POST, "/api/v1/rollouts/{rollout}/pause", OPERATOR),
    rule(Method::POST, "/api/v1/rollouts/{rollout}/resume", OPERATOR),
    rule(Method::POST, "/api/v1/rollouts/{rollout}/promote", OPERATOR),
    rule(Method::POST, "/api/v1/rollouts/{rollout}/abort", OPERATOR),
    rule(Method::POST, "/api/v1/rollouts/{rollout}/retry", OPERATOR),
    rule(Method::POST, "/api/v1/rollouts/{rollout}/weight", OPERATOR),
    rule(Method::GET, "/api/v1/rollouts/{rollout}/metrics", VIEWER),
    rule(Method::GET, "/api/v1/rollouts/{rollout}/verdict", VIEWER),
    rule(Method::GET, "/api/v1/rollouts/{rollout}/series", VIEWER),
    // The audit log.
    rule(Method::GET, "/api/v1/decisions", VIEWER),
    // Experiments.
    rule(Method::GET, "/api/v1/experiments", VIEWER),
    rule(Method::POST, "/api/v1/experiments", ADMIN),
    rule(Method::GET, "/api/v1/experiments/{experiment}", VIEWER),
    rule(
        Method::POST,
        "/api/v1/experiments/{experiment}/stop",
        OPERATOR,
    ),
    // Assignment.
    rule(Method::GET, "/api/v1/assign", VIEWER),
    // Tokens.
    rule(Method::GET, "/api/v1/tokens", ADMIN),
    rule(Method::POST, "/api/v1/tokens", ADMIN),
    rule(Method::DELETE, "/api/v1/tokens/{token}", ADMIN),
    // OpenFeature remote evaluation.
    rule(Method::POST, "/ofrep/v1/evaluate/flags/{key}", VIEWER),
    rule(Method::POST, "/ofrep/v1/evaluate/flags", VIEWER),
    // Client events.
    rule(Method::POST, "/v1/events", Need::IngestKey),
];

/// The rule of a route, if the table has one.
pub fn rule_for(method: &Method, path: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.method == *method && r.path == path)
}

/// What the access middleware needs: the token checker and the ingest key.
#[derive(Clone, Debug)]
pub struct Gate {
    /// Checks bearer tokens.
    pub auth: Authenticator,
    /// The key `/v1/events` needs; `None` leaves ingest open.
    pub ingest_key: Option<IngestKey>,
}

/// The middleware: finds the route's rule, checks the caller, and puts the [`Caller`] in the
/// request for the handler. Refuses before the body is read, so a refused write changes
/// nothing.
pub async fn enforce(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let Some(rule) = rule_for(&method, &route) else {
        tracing::error!(%method, route, "route has no access rule; refused");
        return Problem::new(ProblemKind::Forbidden, "this route has no access rule")
            .into_response();
    };
    match rule.need {
        Need::Public => {}
        Need::IngestKey => {
            if let Some(key) = &gate.ingest_key
                && !ingest_key_presented(&req).is_some_and(|k| key.matches(k))
            {
                tracing::warn!(%method, route, "event ingest refused: missing or wrong ingest key");
                return Problem::new(
                    ProblemKind::Unauthorized,
                    "send the ingest key in the X-Rollgate-Ingest-Key header (or the `key` query parameter)",
                )
                .into_response();
            }
        }
        Need::Role(required) => {
            match check_role(&gate.auth, req.headers(), &method, &route, required).await {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                }
                Err(problem) => return problem.into_response(),
            }
        }
    }
    next.run(req).await
}

async fn check_role(
    auth: &Authenticator,
    headers: &HeaderMap,
    method: &Method,
    route: &str,
    required: Role,
) -> Result<Caller, Problem> {
    let caller = match auth.authenticate(headers).await {
        Ok(caller) => caller,
        Err(AuthError::Store(e)) => {
            tracing::error!(%method, route, error = %e, "cannot check a token");
            return Err(AuthError::Store(e).into());
        }
        Err(e) => {
            tracing::warn!(%method, route, reason = e.reason(), "authentication failed");
            return Err(e.into());
        }
    };
    if !caller.allows(required) {
        tracing::warn!(
            %method, route, token = caller.name, role = %caller.role, required = %required,
            "forbidden: role too weak"
        );
        return Err(Problem::new(
            ProblemKind::Forbidden,
            format!(
                "token {:?} has role {}; this needs {required}",
                caller.name, caller.role
            ),
        ));
    }
    Ok(caller)
}

/// The ingest key from the header, or from the `key` query parameter.
fn ingest_key_presented(req: &Request) -> Option<&str> {
    if let Some(v) = req.headers().get(INGEST_KEY_HEADER) {
        return v.to_str().ok();
    }
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == INGEST_KEY_QUERY).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn each_route_has_one_rule() {
        let unique: BTreeSet<(String, &str)> = RULES
            .iter()
            .map(|r| (r.method.to_string(), r.path))
            .collect();
        assert_eq!(unique.len(), RULES.len());
    }

    #[test]
    fn writes_need_more_than_a_viewer_and_reads_no_more() {
        for r in RULES {
            let write = r.method != Method::GET;
            match (write, r.need) {
                (true, Need::Role(role)) if r.path.starts_with("/api/") => {
                    assert!(
                        role > Role::Viewer,
                        "{} {} needs only {role}",
                        r.method,
                        r.path
                    )
                }
                (false, Need::Role(Role::Admin)) => assert_eq!(r.path, "/api/v1/tokens"),
                (false, Need::Role(role)) => assert_eq!(role, Role::Viewer, "{}", r.path),
                _ => {}
            }
        }
        assert_eq!(
            rule_for(&Method::POST, "/v1/events").map(|r| r.need),
            Some(Need::IngestKey)
        );
        assert!(rule_for(&Method::PUT, "/v1/events").is_none());
    }
}
