//! Cookies: reading one out of the `Cookie` header without copying, minting anonymous unit
//! ids, and the `Set-Cookie` header that makes an anonymous unit sticky.

use http::HeaderValue;
use http::header::{COOKIE, HeaderMap};

/// How long the anonymous unit cookie lives: one year, in seconds.
pub const ANONYMOUS_COOKIE_MAX_AGE: u32 = 31_536_000;

/// Why an anonymous id could not be minted.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct MintError(getrandom::Error);

/// The value of cookie `name` in `headers`, in any of the `Cookie` headers (HTTP/2 clients may
/// send one per cookie). Names match exactly; surrounding double quotes are removed.
pub(crate) fn find<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| find_in(line, name))
}

fn find_in<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| {
            let v = v.trim();
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
        })
    })
}

/// A fresh anonymous unit id: 128 bits from the operating system's random source, as 32
/// lowercase hex digits.
pub fn mint_id() -> Result<String, MintError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(MintError)?;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(32);
    for b in bytes {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Ok(id)
}

/// The `Set-Cookie` value that stores anonymous unit `id` in cookie `name` for a year,
/// out of reach of scripts, sent on top-level navigations, and only over TLS when `secure`.
/// `None` when the name or id cannot appear in a header (the spec validates names, and minted
/// ids are hex, so this does not happen in practice).
pub(crate) fn set_cookie(name: &str, id: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={id}; Path=/; Max-Age={ANONYMOUS_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
    );
    HeaderValue::try_from(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_others_and_across_headers() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; uid=alice ;b=\"q\""));
        h.append(COOKIE, HeaderValue::from_static("rg_uid=xyz"));
        assert_eq!(find(&h, "uid"), Some("alice"));
        assert_eq!(find(&h, "b"), Some("q"));
        assert_eq!(find(&h, "rg_uid"), Some("xyz"));
        assert_eq!(find(&h, "UID"), None);
        assert_eq!(find(&h, "ui"), None);
        assert_eq!(find(&HeaderMap::new(), "uid"), None);
        assert_eq!(find_in("novalue; x=", "x"), Some(""));
    }

    #[test]
    fn minted_ids_are_128_bit_hex_and_differ() {
        let a = mint_id().unwrap();
        let b = mint_id().unwrap();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{a}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn the_set_cookie_header_is_sticky_and_safe() {
        let v = set_cookie("rg_uid", "abc", false).unwrap();
        assert_eq!(
            v,
            "rg_uid=abc; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
        );
        let v = set_cookie("rg_uid", "abc", true).unwrap();
        assert!(v.to_str().unwrap().ends_with("; SameSite=Lax; Secure"));
        assert!(set_cookie("a", "b\nc", false).is_none());
    }
}
