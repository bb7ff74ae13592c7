//! `/api/v1/tokens`: create (the secret is in the answer, once), list, revoke. Admin only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::responses::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge, Unauthorized,
    UnsupportedMediaType,
};
use crate::auth::Caller;
use crate::body::Body;
use crate::dto::{CreateToken, CreatedToken, TokenList, TokenView};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Create a token. The secret is in this answer only; the store keeps its hash.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens",
    request_body = CreateToken,
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = CreatedToken),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
    ),
    security(("bearer" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    let name = req.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(Problem::invalid_field(
            "name",
            "must be 1 to 64 printable characters",
        ));
    }
    let (record, secret) = state
        .control
        .store()
        .create_token(name, req.role, state.control.now())
        .await?;
    tracing::info!(token = record.name, id = record.id, role = %record.role, by = caller.name, "token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: TokenView::from(&record),
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// Every token, revoked ones included, oldest first; never a secret or hash.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "tokens",
    responses(
        (status = 200, description = "The tokens", body = TokenList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list_tokens(State(state): State<AppState>) -> Result<Json<TokenList>, Problem> {
    let tokens = state.control.store().list_tokens().await?;
    Ok(Json(TokenList {
        tokens: tokens.iter().map(TokenView::from).collect(),
    }))
}

/// Revoke a token by name or id; it stops working at the next request.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "The token's name or id (`tok_…`)")),
    responses(
        (status = 200, description = "Revoked", body = TokenView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token): Path<String>,
) -> Result<Json<TokenView>, Problem> {
    let record = state
        .control
        .store()
        .revoke_token(&token, state.control.now())
        .await
        .map_err(|e| match e {
            rollgate_store::StoreError::NotFound { .. } => Problem::new(
                ProblemKind::NotFound,
                format!("no active token has the name or id {token:?}"),
            ),
            other => other.into(),
        })?;
    tracing::info!(
        token = record.name,
        id = record.id,
        by = caller.name,
        "token revoked"
    );
    Ok(Json(TokenView::from(&record)))
}
