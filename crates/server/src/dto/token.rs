//! API tokens as the API shows them: never the hash, the secret only once, at creation.

use rollgate_core::model::UnixMillis;
use rollgate_store::{Role, TokenRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::RoleSchema;

/// `POST /api/v1/tokens`: a new token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A name for people (`ci`, `alice`), unique among active tokens; writes made with the
    /// token are recorded with it as their actor.
    pub name: String,
    /// What the token may do.
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

/// A token, without its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenView {
    /// The id (`tok_…`).
    pub id: String,
    /// The name.
    pub name: String,
    /// What it may do.
    #[schema(value_type = RoleSchema)]
    pub role: Role,
    /// When it was created (Unix ms).
    pub created_at: UnixMillis,
    /// When it was revoked (Unix ms); absent while it works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<UnixMillis>,
}

/// A token just created, with its secret: shown this once, never again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    pub token: TokenView,
    /// The secret to send as `Authorization: Bearer <secret>`. Store it now: only its hash is
    /// kept.
    pub secret: String,
}

/// Every token, revoked ones included, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// The tokens.
    pub tokens: Vec<TokenView>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> TokenView {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}
