//! Signing in with an API token, and signing out. The token is checked exactly as the API
//! checks a bearer token ([`rollgate_server::Authenticator`]); on success the browser gets a
//! session cookie holding a random id, never the token. The sign-in form carries a nonce
//! that must match a short-lived cookie, so another site cannot sign a browser in with the
//! attacker's token.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use rollgate_server::AuthError;
use rollgate_store::Secret;
use serde::Deserialize;

use super::layout;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::session::{SESSION_COOKIE, random_hex};
use crate::state::DashState;
use crate::{cookie, csrf, respond};

/// The cookie that pairs a sign-in form with the browser that loaded it.
const LOGIN_COOKIE: &str = "rg_login";
/// How long a sign-in form stays usable.
const LOGIN_FORM_SECS: u64 = 600;

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// The sign-in form.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    next: Option<String>,
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub(crate) struct LogoutForm {
    csrf: Option<String>,
}

/// `GET /login`.
pub(crate) async fn show(
    headers: HeaderMap,
    Query(q): Query<Next>,
    State(state): State<DashState>,
) -> Response {
    form_page(&state, &headers, StatusCode::OK, q.next.as_deref(), None)
}

/// `POST /login`.
pub(crate) async fn submit(
    State(state): State<DashState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = respond::local_path(form.next.as_deref());
    if let Err(why) = csrf::check_login(
        cookie::read(&headers, LOGIN_COOKIE),
        &form.nonce,
        &headers,
        &uri,
    ) {
        tracing::warn!(reason = why, "dashboard sign-in refused");
        return form_page(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            Some(&next),
            Some(why),
        );
    }
    let secret = form.token.trim();
    if secret.is_empty() {
        return form_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some(&next),
            Some("Paste an API token."),
        );
    }
    let caller = match state.auth.authenticate_secret(secret).await {
        Ok(caller) => caller,
        Err(AuthError::Store(e)) => {
            return PageError::Unavailable(format!("cannot check the token now: {e}"))
                .into_response();
        }
        Err(e) => {
            tracing::warn!(reason = e.reason(), "dashboard sign-in refused");
            return form_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                Some(&next),
                Some("That token is unknown or revoked."),
            );
        }
    };
    let name = caller.name.clone();
    let role = caller.role;
    let (id, _) = match state.sessions.create(caller, Secret::new(secret).hash()) {
        Ok(created) => created,
        Err(e) => return PageError::Unavailable(e.to_string()).into_response(),
    };
    tracing::info!(token = %name, role = %role, "dashboard sign-in");
    let secure = secure(&state, &headers);
    let mut response = respond::see_other(&next);
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie::set(
            SESSION_COOKIE,
            &id,
            Some(state.opts.session_ttl.as_secs()),
            secure,
        ),
    );
    h.append(header::SET_COOKIE, cookie::clear(LOGIN_COOKIE, secure));
    response
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<DashState>,
    user: Result<SignedIn, PageError>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    let secure = secure(&state, &headers);
    if let Ok(user) = user {
        csrf::check(&user.session, form.csrf.as_deref(), &headers, &uri)?;
        state.sessions.remove(&user.id);
        tracing::info!(token = %user.session.caller.name, "dashboard sign-out");
    }
    let mut response = respond::see_other("/login");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie::clear(SESSION_COOKIE, secure));
    Ok(response)
}

fn secure(state: &DashState, headers: &HeaderMap) -> bool {
    state.opts.secure_cookies || cookie::is_https(headers)
}

/// The sign-in page with a fresh nonce (and its cookie), and `problem` when the last try
/// failed.
fn form_page(
    state: &DashState,
    headers: &HeaderMap,
    status: StatusCode,
    next: Option<&str>,
    problem: Option<&str>,
) -> Response {
    let nonce = match random_hex() {
        Ok(n) => n,
        Err(e) => return PageError::Unavailable(e.to_string()).into_response(),
    };
    let next = respond::local_path(next);
    let mut response = respond::html(status, render(&nonce, &next, problem));
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie::set(
            LOGIN_COOKIE,
            &nonce,
            Some(LOGIN_FORM_SECS),
            secure(state, headers),
        ),
    );
    response
}

fn render(nonce: &str, next: &str, problem: Option<&str>) -> Markup {
    layout::bare_with(
        "Sign in",
        html! {
            section.login {
                h1 { "Sign in" }
                p { "Paste an API token. Create one with "
                    code { "rollgate token create --name NAME --role viewer|operator|admin --data-dir DIR" }
                    " (or " code { "POST /api/v1/tokens" } "). The token is checked once and never stored in your browser: you get a session cookie instead." }
                @if let Some(p) = problem {
                    p.notice.refused role="alert" { (p) }
                }
                form #login method="post" action="/login" autocomplete="off" {
                    input type="hidden" name="nonce" value=(nonce);
                    input type="hidden" name="next" value=(next);
                    label for="token" { "API token" }
                    input #token type="password" name="token" required autofocus spellcheck="false" placeholder="rg_…";
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}
