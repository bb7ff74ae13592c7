//! Who is calling: `Authorization: Bearer rg_…` → the store's token → a [`Caller`] with a name
//! and a role, and the write-only ingest key of `/v1/events`. Reusable by anything mounted on
//! the same listener (the dashboard): token → role → actor.
//!
//! Nothing is cached: every request looks its token up by hash, so a revoked token stops
//! working at the next request. Secrets are never logged; failures are logged with the
//! reason, and refusals of a valid token with the token's name.

use std::fmt;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use rollgate_core::model::Actor;
use rollgate_store::{Role, Secret, Store, StoreError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::{Problem, ProblemKind};

/// The header that carries the ingest key on `POST /v1/events`.
pub const INGEST_KEY_HEADER: &str = "x-rollgate-ingest-key";
/// The query parameter that may carry the ingest key instead (for `navigator.sendBeacon`,
/// which cannot set headers).
pub const INGEST_KEY_QUERY: &str = "key";

/// The authenticated caller of a request: the token's id, name and role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token id (`tok_…`), safe to log.
    pub token_id: String,
    /// The token name; writes are recorded with it as their actor.
    pub name: String,
    /// What the token may do.
    pub role: Role,
}

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error(
        "no token: send `Authorization: Bearer <token>` (create one with `rollgate token create`)"
    )]
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    /// A token that does not exist or was revoked.
    #[error("the token is unknown or revoked")]
    Invalid,
    /// The store could not be asked.
    #[error("cannot check the token: {0}")]
    Store(#[from] StoreError),
}

/// Checks bearer tokens against the store.
#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
}

/// The write-only key of `POST /v1/events`. Compared in constant time; `Debug` never shows it.
#[derive(Clone)]
pub struct IngestKey {
    digest: [u8; 32],
}

impl Caller {
    /// The actor decisions and records made by this caller name.
    pub fn actor(&self) -> Actor {
        Actor::User(self.name.clone())
    }

    /// True when the caller's role allows what needs `required`.
    pub fn allows(&self, required: Role) -> bool {
        self.role.allows(required)
    }
}

impl AuthError {
    /// A short machine-friendly reason for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed => "malformed",
            AuthError::Invalid => "unknown_or_revoked",
            AuthError::Store(_) => "store_error",
        }
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Problem {
        match e {
            AuthError::Store(err) => Problem::new(
                ProblemKind::Unavailable,
                format!("cannot check the token now: {err}"),
            ),
            other => Problem::new(ProblemKind::Unauthorized, other.to_string()),
        }
    }
}

impl Authenticator {
    /// Checks tokens against `store`.
    pub fn new(store: Arc<dyn Store>) -> Authenticator {
        Authenticator { store }
    }

    /// The caller named by the request's `Authorization: Bearer` header.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let secret = bearer(headers)?;
        self.authenticate_secret(secret).await
    }

    /// The caller owning `secret`, if it is a token that is not revoked.
    pub async fn authenticate_secret(&self, secret: &str) -> Result<Caller, AuthError> {
        self.caller_by_hash(&Secret::new(secret).hash()).await
    }

    /// The caller owning the token whose secret hashes to `hash`, if it is not revoked: for
    /// whoever keeps a hash instead of the secret (the dashboard's sessions) and checks it
    /// again at every request, with the role as stored now.
    pub async fn caller_by_hash(&self, hash: &str) -> Result<Caller, AuthError> {
        let token = self
            .store
            .token_by_hash(hash)
            .await?
            .filter(|t| t.revoked_at.is_none())
            .ok_or(AuthError::Invalid)?;
        Ok(Caller {
            token_id: token.id,
            name: token.name,
            role: token.role,
        })
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authenticator")
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?
        .to_str()
        .map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

impl IngestKey {
    /// The key clients must present. Refuses an empty key.
    pub fn new(key: &str) -> Option<IngestKey> {
        (!key.is_empty()).then(|| IngestKey {
            digest: Sha256::digest(key.as_bytes()).into(),
        })
    }

    /// True when `presented` is the key. Both sides are hashed first, so the comparison takes
    /// the same time whatever the length or content of the presented key.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

impl fmt::Debug for IngestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IngestKey(<redacted>)")
    }
}

/// Handlers take the caller as an argument; the access middleware put it in the request.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, Problem> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            Problem::internal(&format!(
                "{} {} has no authenticated caller: its access rule does not name a role",
                parts.method,
                parts.uri.path()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_store::MemStore;

    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn bearer_header_forms() {
        assert_eq!(bearer(&headers("Bearer rg_abc")).unwrap(), "rg_abc");
        assert_eq!(bearer(&headers("bearer  rg_abc ")).unwrap(), "rg_abc");
        assert!(matches!(bearer(&HeaderMap::new()), Err(AuthError::Missing)));
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "rg_abc"] {
            assert!(
                matches!(bearer(&headers(bad)), Err(AuthError::Malformed)),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn tokens_authenticate_until_revoked() {
        let store = Arc::new(MemStore::new());
        let (record, secret) = store.create_token("ci", Role::Operator, 1).await.unwrap();
        let auth = Authenticator::new(store.clone());
        let caller = auth
            .authenticate(&headers(&format!("Bearer {}", secret.expose())))
            .await
            .unwrap();
        assert_eq!(caller.name, "ci");
        assert_eq!(caller.role, Role::Operator);
        assert_eq!(caller.token_id, record.id);
        assert_eq!(caller.actor(), Actor::User("ci".into()));
        assert!(caller.allows(Role::Viewer) && !caller.allows(Role::Admin));

        let wrong = auth.authenticate(&headers("Bearer rg_0000")).await;
        assert!(matches!(wrong, Err(AuthError::Invalid)));

        let by_hash = auth.caller_by_hash(&secret.hash()).await.unwrap();
        assert_eq!(by_hash, caller);

        store.revoke_token("ci", 2).await.unwrap();
        let revoked = auth.authenticate_secret(secret.expose()).await;
        assert!(matches!(revoked, Err(AuthError::Invalid)));
        let revoked = auth.caller_by_hash(&secret.hash()).await;
        assert!(matches!(revoked, Err(AuthError::Invalid)));
    }

    #[test]
    fn ingest_key_matches_exactly_and_hides_itself() {
        let key = IngestKey::new("s3cret-key").unwrap();
        assert!(key.matches("s3cret-key"));
        assert!(!key.matches("s3cret-kez"));
        assert!(!key.matches("s3cret-key "));
        assert!(!key.matches(""));
        assert!(IngestKey::new("").is_none());
        assert!(!format!("{key:?}").contains("s3cret"));
    }
}
