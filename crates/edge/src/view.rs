//! The routing decision's view of a live request: borrowed straight from the parsed request
//! head, so deciding copies nothing. Cookies and query parameters are looked up lazily.

use std::net::IpAddr;

use http::header::HOST;
use http::request::Parts;
use rollgate_core::RequestView;

use crate::cookie;

/// A request head and the client's address, seen as a [`RequestView`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct PartsView<'a> {
    parts: &'a Parts,
    client_ip: IpAddr,
}

impl<'a> PartsView<'a> {
    /// A view of `parts` from a client at `client_ip` (IPv4-mapped IPv6 addresses are shown
    /// as IPv4, so `10.0.0.0/8` rules match clients of a dual-stack listener).
    pub(crate) fn new(parts: &'a Parts, client_ip: IpAddr) -> PartsView<'a> {
        PartsView {
            parts,
            client_ip: client_ip.to_canonical(),
        }
    }
}

impl RequestView for PartsView<'_> {
    fn host(&self) -> Option<&str> {
        match self.parts.headers.get(HOST) {
            Some(h) => h.to_str().ok(),
            // HTTP/2 carries the host in the `:authority` pseudo-header, i.e. the URI.
            None => self.parts.uri.authority().map(|a| a.as_str()),
        }
    }

    fn path(&self) -> &str {
        self.parts.uri.path()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        cookie::find(&self.parts.headers, name)
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.parts.uri.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }

    fn client_ip(&self) -> Option<IpAddr> {
        Some(self.client_ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(req: http::request::Builder) -> Parts {
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn answers_from_the_request_head() {
        let p = parts(
            http::Request::get("/api/cart?x=1&flag&y=2")
                .header("Host", "shop.example.com:8080")
                .header("x-user-id", "alice")
                .header("Cookie", "uid=bob; rg_uid=anon"),
        );
        let v = PartsView::new(&p, "::ffff:10.1.2.3".parse().unwrap());
        assert_eq!(v.host(), Some("shop.example.com:8080"));
        assert_eq!(v.path(), "/api/cart");
        assert_eq!(v.header("X-User-Id"), Some("alice"));
        assert_eq!(v.header("X-Missing"), None);
        assert_eq!(v.cookie("uid"), Some("bob"));
        assert_eq!(v.cookie("rg_uid"), Some("anon"));
        assert_eq!(v.query("y"), Some("2"));
        assert_eq!(v.query("flag"), Some(""));
        assert_eq!(v.query("z"), None);
        assert_eq!(v.client_ip(), "10.1.2.3".parse().ok());
        assert_eq!(v.country(), None);
    }

    #[test]
    fn http2_requests_take_the_host_from_the_authority() {
        let p =
            parts(http::Request::get("https://shop.example.com/x").version(http::Version::HTTP_2));
        let v = PartsView::new(&p, "::1".parse().unwrap());
        assert_eq!(v.host(), Some("shop.example.com"));
        assert_eq!(v.query("a"), None);
        assert_eq!(v.client_ip(), "::1".parse().ok());
    }
}
