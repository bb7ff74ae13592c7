//! Reading the `Cookie` header and writing `Set-Cookie` for the dashboard's two cookies: the
//! session id and the sign-in form's nonce. Both are `HttpOnly` (no script reads them),
//! `SameSite=Strict` (never sent on a request started by another site) and `Path=/`; `Secure`
//! when the dashboard is reached over HTTPS.

use axum::http::{HeaderMap, HeaderValue, header};

/// The value of cookie `name` in the request, if it has one.
pub(crate) fn read<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// `Set-Cookie` for `name=value` lasting `max_age_secs` (`None`: until the browser closes).
/// `value` must be a cookie-safe token (our values are hex).
pub(crate) fn set(name: &str, value: &str, max_age_secs: Option<u64>, secure: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_secs {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("rg_invalid=; Max-Age=0"))
}

/// `Set-Cookie` that deletes cookie `name`.
pub(crate) fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Some(0), secure)
}

/// True when the request reached us over HTTPS (directly, or through a proxy that says so).
pub(crate) fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn reads_the_named_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; rg_session=abc ; b=2".parse().unwrap());
        h.append(header::COOKIE, "c=3".parse().unwrap());
        assert_eq!(read(&h, "rg_session"), Some("abc"));
        assert_eq!(read(&h, "c"), Some("3"));
        assert_eq!(read(&h, "rg_sess"), None);
        assert_eq!(read(&HeaderMap::new(), "a"), None);
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let v = set("rg_session", "abc", None, false);
        assert_eq!(v, "rg_session=abc; Path=/; HttpOnly; SameSite=Strict");
        let v = set("rg_session", "abc", Some(60), true);
        assert_eq!(
            v,
            "rg_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert_eq!(
            clear("x", false),
            "x=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }
}
