//! Who is looking: the session cookie → the server-side session → the token it was opened
//! with, looked up again by its hash at every request (the API's `Authenticator`, an indexed
//! read), so a revoked token ends its sessions at the next request. The role comes from the stored token, never from
//! the browser.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use rollgate_core::model::Actor;
use rollgate_server::AuthError;
use rollgate_store::Role;

use crate::cookie;
use crate::error::PageError;
use crate::session::{SESSION_COOKIE, Session};
use crate::state::DashState;

/// The header the page script sends when it fetches a live fragment: an expired session
/// then gets a 401 instead of a redirect to the sign-in page.
pub(crate) const LIVE_HEADER: &str = "x-rollgate-live";

/// A signed-in request: the session id (the cookie) and the session.
#[derive(Clone, Debug)]
pub(crate) struct SignedIn {
    /// The cookie value.
    pub id: String,
    /// The session, with the role as stored now.
    pub session: Session,
}

impl SignedIn {
    /// The actor decisions made from this session name.
    pub(crate) fn actor(&self) -> Actor {
        self.session.caller.actor()
    }

    /// True when the token may pause, resume, promote, abort, set weights and restore.
    pub(crate) fn can_act(&self) -> bool {
        self.session.caller.allows(Role::Operator)
    }

    /// Refuses viewers (the buttons are hidden from them, and this holds without the page).
    pub(crate) fn require_operator(&self, what: &str) -> Result<(), PageError> {
        if self.can_act() {
            return Ok(());
        }
        tracing::warn!(token = %self.session.caller.name, role = %self.session.caller.role, action = what, "dashboard action refused: role too weak");
        Err(PageError::Forbidden(format!(
            "the token {:?} has the {} role, which may not {what}; an operator or admin token may",
            self.session.caller.name, self.session.caller.role
        )))
    }
}

impl FromRequestParts<DashState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &DashState,
    ) -> Result<SignedIn, PageError> {
        let fragment = parts.headers.contains_key(LIVE_HEADER);
        let next = if parts.method == Method::GET && !fragment {
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string()
        } else {
            "/".to_string()
        };
        let signed_out = || PageError::SignedOut {
            next: next.clone(),
            fragment,
        };
        let id = cookie::read(&parts.headers, SESSION_COOKIE).ok_or_else(signed_out)?;
        let mut session = state.sessions.get(id).ok_or_else(signed_out)?;
        match state.auth.caller_by_hash(&session.token_hash).await {
            Ok(caller) if caller.token_id == session.caller.token_id => {
                session.caller.role = caller.role;
            }
            Err(AuthError::Store(e)) => {
                return Err(PageError::Unavailable(format!(
                    "cannot check the session's token: {e}"
                )));
            }
            _ => {
                let ended = state.sessions.remove_token(&session.caller.token_id);
                tracing::info!(token = %session.caller.name, sessions = ended, "token revoked: its dashboard sessions ended");
                return Err(signed_out());
            }
        }
        Ok(SignedIn {
            id: id.to_string(),
            session,
        })
    }
}
