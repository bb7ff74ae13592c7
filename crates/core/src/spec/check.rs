//! Small checks shared by the spec validators.

use std::collections::HashSet;

use ipnet::IpNet;

use crate::{DurationSpec, SpecErrors};

/// Longest name accepted for services, versions, rollouts, experiments, layers and variants.
const MAX_NAME: usize = 128;

/// Splits an upstream endpoint `host:port` (`10.0.0.5:8080`, `[::1]:8080`, `svc.internal:80`)
/// into its host (without brackets) and port. The error says what is wrong, ready to show.
pub fn parse_endpoint(endpoint: &str) -> Result<(&str, u16), String> {
    let bad_port = || format!("{endpoint:?} is not host:port (the port must be a number 1-65535)");
    let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, port) = rest.split_once("]:").ok_or_else(|| {
            format!("{endpoint:?} is not host:port (write IPv6 addresses as \"[::1]:8080\")")
        })?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{endpoint:?}: {host:?} is not an IPv6 address"));
        }
        (host, port)
    } else {
        let (host, port) = endpoint.rsplit_once(':').ok_or_else(|| {
            format!("{endpoint:?} is not host:port (the port is missing, e.g. \"{endpoint}:8080\")")
        })?;
        if host.contains(':') {
            return Err(format!(
                "{endpoint:?} is not host:port (write IPv6 addresses as \"[::1]:8080\")"
            ));
        }
        let host_ok = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if host.is_empty() || !host_ok {
            return Err(format!(
                "{endpoint:?} is not host:port ({host:?} is not a host name or address)"
            ));
        }
        (host, port)
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_port());
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok((host, p)),
        _ => Err(bad_port()),
    }
}

/// A network written as a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address. IPv4-mapped
/// IPv6 networks (`::ffff:10.0.0.0/104`) become IPv4 networks, as clients on mapped addresses
/// are compared as IPv4.
pub(crate) fn parse_network(s: &str) -> Option<IpNet> {
    let t = s.trim();
    let net = t
        .parse::<IpNet>()
        .ok()
        .or_else(|| t.parse::<std::net::IpAddr>().ok().map(IpNet::from))?;
    Some(match net {
        IpNet::V6(v6) if v6.addr().to_ipv4_mapped().is_some() && v6.prefix_len() >= 96 => {
            IpNet::new(v6.addr().to_canonical(), v6.prefix_len() - 96).unwrap_or(net)
        }
        other => other,
    })
}

/// True for a name made of letters, digits, `.`, `_` and `-`, 1 to 128 characters.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Records a problem when `name` is not a valid name of a `kind` (service, version, …).
pub(crate) fn check_name(path: &str, kind: &str, name: &str, errs: &mut SpecErrors) {
    if name.is_empty() {
        errs.push(path, format!("the {kind} name is empty"));
    } else if !is_valid_name(name) {
        errs.push(
            path,
            format!("{kind} name {name:?} may only contain letters, digits, '.', '_' and '-' (at most {MAX_NAME})"),
        );
    }
}

/// [`check_name`], and a problem when the name was already seen.
pub(crate) fn check_duplicate<'a>(
    path: &str,
    kind: &str,
    name: &'a str,
    seen: &mut HashSet<&'a str>,
    errs: &mut SpecErrors,
) {
    check_name(path, kind, name, errs);
    if !name.is_empty() && !seen.insert(name) {
        errs.push(path, format!("{kind} {name:?} is defined twice"));
    }
}

/// Records a problem when `name` is not a valid HTTP header or cookie name.
pub(crate) fn check_header_name(path: &str, name: &str, errs: &mut SpecErrors) {
    // RFC 9110 token characters.
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        errs.push(
            path,
            format!(
                "{name:?} is not a header or cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"
            ),
        );
    }
}

/// Records a problem with an explicit bucketing salt: empty, or holding NUL (the byte that
/// separates salt and unit in the hash input, so it would make two salts collide).
pub(crate) fn check_salt(path: &str, salt: Option<&str>, owner: &str, errs: &mut SpecErrors) {
    match salt {
        Some("") => errs.push(
            path,
            format!("the salt is empty: remove it to use the {owner} name"),
        ),
        Some(s) if s.contains('\0') => errs.push(
            path,
            "the salt must not contain NUL (\\0), the separator of salt and unit",
        ),
        _ => {}
    }
}

/// Records a problem when a duration is zero.
pub(crate) fn check_positive(path: &str, d: DurationSpec, errs: &mut SpecErrors) {
    if d.is_zero() {
        errs.push(path, "must be longer than 0 (e.g. \"500ms\", \"5s\")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("127.0.0.1:8001"), Ok(("127.0.0.1", 8001)));
        assert_eq!(
            parse_endpoint("shop-v2.internal:80"),
            Ok(("shop-v2.internal", 80))
        );
        assert_eq!(parse_endpoint("[::1]:8080"), Ok(("::1", 8080)));
        for bad in [
            "localhost",
            "localhost:",
            "localhost:0",
            "localhost:65536",
            "localhost:80x",
            ":80",
            "::1:80",
            "[::1]",
            "[zz]:80",
            "a b:80",
            "http://x:80",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_endpoint("localhost:80x").unwrap_err(),
            "\"localhost:80x\" is not host:port (the port must be a number 1-65535)"
        );
    }

    #[test]
    fn names() {
        assert!(is_valid_name("shop-v1.2_a"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("é"));
        assert!(!is_valid_name(&"a".repeat(129)));
        let mut errs = SpecErrors::new();
        let mut seen = HashSet::new();
        check_duplicate("a", "rollout", "x", &mut seen, &mut errs);
        check_duplicate("b", "rollout", "x", &mut seen, &mut errs);
        check_header_name("c", "X-User-Id", &mut errs);
        check_header_name("d", "X User", &mut errs);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["b", "d"]);
    }
}
