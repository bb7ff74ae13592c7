//! Why a dashboard request failed, and the page (or status) each reason gets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rollgate_control::ControlError;

use crate::pages::layout;
use crate::respond;

/// Why a dashboard request could not be answered as asked. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No session, an expired one, or its token was revoked: sign in (again).
    #[error("sign in to continue")]
    SignedOut {
        /// Where to come back to after signing in.
        next: String,
        /// The request was the page script's live refresh (answered 401, not redirected).
        fragment: bool,
    },
    /// The token's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A POST without this session's CSRF token, or from another origin.
    #[error("refused: {0}")]
    Forged(&'static str),
    /// No such rollout, service, version or experiment.
    #[error("{0}")]
    NotFound(String),
    /// The form was not filled in correctly.
    #[error("{0}")]
    BadRequest(String),
    /// Not allowed in the current state (the controller's reason).
    #[error("{0}")]
    Conflict(String),
    /// The store or the metrics provider cannot answer now.
    #[error("{0}")]
    Unavailable(String),
}

impl From<ControlError> for PageError {
    fn from(e: ControlError) -> PageError {
        match e {
            ControlError::NotFound { .. } => PageError::NotFound(e.to_string()),
            ControlError::Invalid(_) => PageError::BadRequest(e.to_string()),
            ControlError::Refused(_)
            | ControlError::RestoreRefused(_)
            | ControlError::Conflict { .. } => PageError::Conflict(e.to_string()),
            ControlError::Unavailable(_) | ControlError::Store(_) => {
                tracing::error!(error = %e, "dashboard: the control plane cannot answer");
                PageError::Unavailable(e.to_string())
            }
        }
    }
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::SignedOut { .. } => StatusCode::UNAUTHORIZED,
            PageError::Forbidden(_) | PageError::Forged(_) => StatusCode::FORBIDDEN,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            PageError::SignedOut { .. } => "Signed out",
            PageError::Forbidden(_) => "Not allowed",
            PageError::Forged(_) => "Request refused",
            PageError::NotFound(_) => "Not found",
            PageError::BadRequest(_) => "Bad request",
            PageError::Conflict(_) => "Not possible now",
            PageError::Unavailable(_) => "Unavailable",
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match &self {
            PageError::SignedOut {
                fragment: false,
                next,
            } => {
                let next = respond::local_path(Some(next));
                let to = if next == "/" {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", rollgate_server::percent_encode(&next))
                };
                respond::see_other(&to)
            }
            PageError::SignedOut { fragment: true, .. } => {
                (StatusCode::UNAUTHORIZED, "signed out").into_response()
            }
            _ => respond::html(self.status(), layout::bare(self.title(), &self.to_string())),
        }
    }
}
