//! API tokens: random secrets shown once, stored only as a SHA-256 hash, each with a role.

use std::fmt;
use std::str::FromStr;

use rollgate_core::model::UnixMillis;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// What a token may do. Roles are ordered: an admin may do everything an operator may, and an
/// operator everything a viewer may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads rollouts, versions, decisions and metrics.
    Viewer,
    /// Also pauses, resumes, promotes, aborts, sets weights and restores versions.
    Operator,
    /// Also manages tokens and configuration.
    Admin,
}

/// A role name that is not `viewer`, `operator` or `admin`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a role: use viewer, operator or admin")]
pub struct UnknownRole(pub String);

/// An API token as stored: never the secret, only its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// A short random id (`tok_…`), safe to show and log.
    pub id: String,
    /// A name for people (`ci`, `alice`); unique among tokens that are not revoked. Decisions
    /// made with the token name it as their actor.
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it was revoked; a revoked token authenticates nothing.
    pub revoked_at: Option<UnixMillis>,
}

/// A token's secret, shown to the user once at creation. `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The prefix of every token secret, so secret scanners and people recognise one.
pub const SECRET_PREFIX: &str = "rg_";

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The name used in the API, the CLI and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// True when a token with this role may do what needs `required`.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Secret {
    /// Wraps a secret presented by a client (e.g. from an `Authorization: Bearer` header).
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself, to show the user once or to send as a bearer token.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hex SHA-256 of the secret: what the store keeps and looks tokens up by.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A new random secret (`rg_` + 32 bytes from the OS RNG as hex) and its hash.
pub fn generate_token() -> Result<(Secret, String), StoreError> {
    let secret = Secret(format!("{SECRET_PREFIX}{}", random_hex::<32>()?));
    let hash = secret.hash();
    Ok((secret, hash))
}

/// A new random token id (`tok_` + 8 random bytes as hex).
pub fn generate_token_id() -> Result<String, StoreError> {
    Ok(format!("tok_{}", random_hex::<8>()?))
}

/// A new token record with a fresh secret, before it is stored.
pub fn new_token(
    name: &str,
    role: Role,
    created_at: UnixMillis,
) -> Result<(TokenRecord, Secret), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("a token needs a name".into()));
    }
    let (secret, hash) = generate_token()?;
    let record = TokenRecord {
        id: generate_token_id()?,
        name: name.to_owned(),
        role,
        hash,
        created_at,
        revoked_at: None,
    };
    Ok((record, secret))
}

fn random_hex<const N: usize>() -> Result<String, StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Entropy(e.to_string()))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.allows(Role::Operator));
        assert!(Role::Admin.allows(Role::Viewer));
        assert!(Role::Operator.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Operator.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Operator));
    }

    #[test]
    fn roles_parse_and_print() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::Value::String(role.to_string())
            );
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole("root".to_owned())));
    }

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let (a, hash_a) = generate_token().unwrap();
        let (b, hash_b) = generate_token().unwrap();
        assert!(a.expose().starts_with(SECRET_PREFIX));
        assert_eq!(a.expose().len(), SECRET_PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_ne!(hash_a, hash_b);
        assert_eq!(hash_a, a.hash());
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(a.expose()));
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            Secret::new("abc").hash(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let (secret, _) = generate_token().unwrap();
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }

    #[test]
    fn tokens_need_a_name() {
        assert!(matches!(
            new_token("  ", Role::Viewer, 0),
            Err(StoreError::Invalid(_))
        ));
        let (record, secret) = new_token("ci", Role::Operator, 5).unwrap();
        assert!(record.id.starts_with("tok_"));
        assert_eq!(record.hash, secret.hash());
        assert_eq!(record.revoked_at, None);
    }
}
