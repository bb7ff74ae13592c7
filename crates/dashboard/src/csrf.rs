//! Cross-site request forgery protection for every POST, in two independent layers on top
//! of the `SameSite=Strict` cookie:
//!
//! 1. the form must carry the session's CSRF token (a hidden field, 256 random bits, compared
//!    in constant time) — a page on another site cannot read it;
//! 2. a browser's `Origin` header, when present, must name this host (`Host`, or
//!    `X-Forwarded-Host` behind a proxy that rewrites `Host`).

use axum::http::{HeaderMap, Uri, header};
use subtle::ConstantTimeEq;

use crate::error::PageError;
use crate::session::Session;

/// Refuses the request unless `presented` is the session's CSRF token and the `Origin` (when
/// the browser sent one) is this host.
pub(crate) fn check(
    session: &Session,
    presented: Option<&str>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<(), PageError> {
    same_origin(headers, uri).map_err(|why| refuse(session, why))?;
    let presented = presented.unwrap_or_default();
    let good: bool = presented.as_bytes().ct_eq(session.csrf.as_bytes()).into();
    if !good || presented.is_empty() {
        let why = if presented.is_empty() {
            "the form has no CSRF token"
        } else {
            "the form's CSRF token is not this session's"
        };
        return Err(refuse(session, why));
    }
    Ok(())
}

/// Checks the sign-in form: its nonce must equal the one in the sign-in cookie, and the
/// `Origin` must be this host.
pub(crate) fn check_login(
    cookie: Option<&str>,
    presented: &str,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<(), &'static str> {
    same_origin(headers, uri)?;
    let cookie = cookie.unwrap_or_default();
    let good: bool = cookie.as_bytes().ct_eq(presented.as_bytes()).into();
    if good && !cookie.is_empty() {
        Ok(())
    } else {
        Err("the sign-in form expired or came from another page; sign in again")
    }
}

fn refuse(session: &Session, why: &'static str) -> PageError {
    tracing::warn!(token = %session.caller.name, reason = why, "dashboard POST refused (possible cross-site request forgery)");
    PageError::Forged(why)
}

/// `Err` when the browser says the request comes from another origin.
fn same_origin(headers: &HeaderMap, uri: &Uri) -> Result<(), &'static str> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| "the Origin header is unreadable")?;
    let Some((scheme, host)) = origin.split_once("://") else {
        return Err("the request comes from an opaque origin");
    };
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err("the request comes from another origin");
    }
    let ours = [
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
        headers
            .get("x-forwarded-host")
            .and_then(|h| h.to_str().ok()),
        uri.authority().map(|a| a.as_str()),
    ];
    if ours
        .iter()
        .flatten()
        .any(|h| h.trim().eq_ignore_ascii_case(host))
    {
        Ok(())
    } else {
        Err("the request comes from another origin")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use rollgate_server::Caller;
    use rollgate_store::Role;

    use super::*;
    use crate::session::Sessions;

    fn session() -> Session {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60), 4);
        let caller = Caller {
            token_id: "tok_1".into(),
            name: "alice".into(),
            role: Role::Operator,
        };
        s.create(caller, "h".into()).unwrap().1
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_session_token_is_required() {
        let s = session();
        let uri: Uri = "/rollouts/x/pause".parse().unwrap();
        let h = headers(&[("host", "127.0.0.1:9000")]);
        assert!(check(&s, Some(&s.csrf), &h, &uri).is_ok());
        assert!(matches!(
            check(&s, None, &h, &uri),
            Err(PageError::Forged(_))
        ));
        assert!(check(&s, Some(""), &h, &uri).is_err());
        let mut wrong = s.csrf.clone();
        wrong.replace_range(0..1, if wrong.starts_with('a') { "b" } else { "a" });
        assert!(check(&s, Some(&wrong), &h, &uri).is_err());
    }

    #[test]
    fn another_origin_is_refused_even_with_the_token() {
        let s = session();
        let uri: Uri = "/x".parse().unwrap();
        let ok = headers(&[
            ("host", "127.0.0.1:9000"),
            ("origin", "http://127.0.0.1:9000"),
        ]);
        assert!(check(&s, Some(&s.csrf), &ok, &uri).is_ok());
        let proxied = headers(&[
            ("host", "backend:9000"),
            ("x-forwarded-host", "rollgate.example.com"),
            ("origin", "https://rollgate.example.com"),
        ]);
        assert!(check(&s, Some(&s.csrf), &proxied, &uri).is_ok());
        for origin in [
            "http://evil.example",
            "null",
            "http://127.0.0.1:9001",
            "file://x",
        ] {
            let h = headers(&[("host", "127.0.0.1:9000"), ("origin", origin)]);
            assert!(check(&s, Some(&s.csrf), &h, &uri).is_err(), "{origin}");
        }
    }

    #[test]
    fn sign_in_nonce_must_match_its_cookie() {
        let uri: Uri = "/login".parse().unwrap();
        let h = headers(&[("host", "h")]);
        assert!(check_login(Some("n1"), "n1", &h, &uri).is_ok());
        assert!(check_login(Some("n1"), "n2", &h, &uri).is_err());
        assert!(check_login(None, "", &h, &uri).is_err());
        let evil = headers(&[("host", "h"), ("origin", "http://evil")]);
        assert!(check_login(Some("n1"), "n1", &evil, &uri).is_err());
    }
}
