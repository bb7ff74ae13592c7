//! The API describing itself: the OpenAPI document and who the caller is.

use std::sync::Arc;

use axum::Json;
use axum::extract::Extension;
use rollgate_store::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::responses::{Forbidden, Unauthorized};
use crate::auth::Caller;
use crate::dto::schema::RoleSchema;

/// The caller's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The token's name (the actor of the caller's writes).
    pub name: String,
    /// The token's id.
    pub token_id: String,
    /// What the token may do.
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

/// The OpenAPI 3.1 document of this API, generated from the code.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object)),
    security(())
)]
pub async fn openapi_document(
    Extension(doc): Extension<Arc<String>>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.as_str().to_owned(),
    )
}

/// The token the request was made with: its name and role.
#[utoipa::path(
    get, path = "/api/v1/whoami", tag = "meta",
    responses(
        (status = 200, description = "The caller", body = WhoAmI),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: caller.name,
        token_id: caller.token_id,
        role: caller.role,
    })
}
