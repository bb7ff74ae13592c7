//! Which service a request is for: host (exact, any case, port ignored), then the longest path
//! prefix.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::request::path_under;
use crate::spec::service::ServiceSpec;

/// Every (host, path prefix) → service, indexed by host.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    by_host: HashMap<Box<str>, Vec<Route>, ahash::RandomState>,
    any_host: Vec<Route>,
}

#[derive(Clone, Debug)]
struct Route {
    prefix: Box<str>,
    service: usize,
}

impl Routes {
    /// The routes of `services`, in their order.
    pub(crate) fn new(services: &[ServiceSpec]) -> Routes {
        let mut routes = Routes {
            // Fixed keys: the map is only read after build, and the crate reads no randomness.
            by_host: HashMap::with_hasher(ahash::RandomState::with_seeds(5, 6, 7, 8)),
            any_host: Vec::new(),
        };
        for (i, s) in services.iter().enumerate() {
            let route = Route {
                prefix: s.path_prefix.as_str().into(),
                service: i,
            };
            if s.hosts.is_empty() {
                routes.any_host.push(route);
            } else {
                for h in &s.hosts {
                    let key = normalize_host(h).into_owned().into_boxed_str();
                    routes.by_host.entry(key).or_default().push(route.clone());
                }
            }
        }
        // Longest prefix first; the sort is stable, so declaration order breaks ties.
        for list in routes
            .by_host
            .values_mut()
            .chain(std::iter::once(&mut routes.any_host))
        {
            list.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        }
        routes
    }

    /// The service for a request to `host` and `path`: the longest matching prefix among the
    /// services listing the host and those answering any host (the host-specific one wins a tie).
    pub(crate) fn find(&self, host: Option<&str>, path: &str) -> Option<usize> {
        let specific = host
            .map(normalize_host)
            .and_then(|h| self.by_host.get(h.as_ref()))
            .and_then(|list| best(list, path));
        let any = best(&self.any_host, path);
        match (specific, any) {
            (Some(s), Some(a)) if a.prefix.len() > s.prefix.len() => Some(a.service),
            (Some(s), _) => Some(s.service),
            (None, a) => a.map(|a| a.service),
        }
    }
}

fn best<'r>(list: &'r [Route], path: &str) -> Option<&'r Route> {
    list.iter().find(|r| path_under(path, &r.prefix))
}

/// A host as compared: lower case, without port, IPv6 brackets or a trailing dot. Borrows when
/// nothing changes (the common case).
pub(crate) fn normalize_host(host: &str) -> Cow<'_, str> {
    let h = host.trim_ascii();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        match h.rfind(':') {
            // One colon: a port. More: a bare IPv6 address, kept whole.
            Some(i) if !h[..i].contains(':') => &h[..i],
            _ => h,
        }
    };
    let h = h.strip_suffix('.').unwrap_or(h);
    if h.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(h.to_ascii_lowercase())
    } else {
        Cow::Borrowed(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::routing::tests::service;

    fn svc(name: &str, hosts: &[&str], prefix: &str) -> ServiceSpec {
        let mut s = service(name, &["v1"]);
        s.hosts = hosts.iter().map(|h| (*h).to_string()).collect();
        s.path_prefix = prefix.into();
        s
    }

    #[test]
    fn hosts_normalize() {
        assert_eq!(normalize_host("Shop.Example.com:8080"), "shop.example.com");
        assert_eq!(normalize_host("shop.example.com."), "shop.example.com");
        assert_eq!(normalize_host("[::1]:8080"), "::1");
        assert_eq!(normalize_host("[::1]"), "::1");
        assert_eq!(normalize_host("::1"), "::1");
        assert!(matches!(normalize_host("a.b"), Cow::Borrowed(_)));
    }

    #[test]
    fn host_then_longest_prefix() {
        let routes = Routes::new(&[
            svc("web", &["shop.example.com"], "/"),
            svc("api", &["shop.example.com"], "/api"),
            svc("any", &[], "/"),
            svc("any-admin", &[], "/admin"),
            svc("v6", &["[::1]"], "/"),
        ]);
        assert_eq!(
            routes.find(Some("SHOP.example.com:443"), "/api/cart"),
            Some(1)
        );
        assert_eq!(routes.find(Some("shop.example.com"), "/apis"), Some(0));
        assert_eq!(
            routes.find(Some("shop.example.com"), "/admin/x"),
            Some(3),
            "a longer any-host prefix wins"
        );
        assert_eq!(routes.find(Some("other"), "/x"), Some(2));
        assert_eq!(routes.find(None, "/admin"), Some(3));
        assert_eq!(routes.find(Some("[::1]:80"), "/"), Some(4));
        let only_hosts = Routes::new(&[svc("web", &["a"], "/app")]);
        assert_eq!(only_hosts.find(Some("b"), "/app"), None);
        assert_eq!(only_hosts.find(Some("a"), "/other"), None);
    }
}
