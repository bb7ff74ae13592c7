//! What a routing decision may look at in a request, behind a small trait so the proxy, the
//! API and the CLI share one decision logic.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::DeviceClass;

/// A read-only view of one request. The proxy implements it over `http::Request` parts; the
/// API, CLI and tests use [`AttributesView`].
pub trait RequestView {
    /// The host the request is for (the `Host` header or URI authority), port included or not.
    fn host(&self) -> Option<&str>;
    /// The request path, without query string (`/api/cart`).
    fn path(&self) -> &str;
    /// The value of header `name`, matched in any case. With repeated headers, the first.
    fn header(&self, name: &str) -> Option<&str>;
    /// The value of cookie `name` (exact case).
    fn cookie(&self, name: &str) -> Option<&str>;
    /// The value of query parameter `name`, percent-decoded when the host decodes.
    fn query(&self, name: &str) -> Option<&str>;
    /// The client's address, when known.
    fn client_ip(&self) -> Option<IpAddr>;
    /// A country the host already knows (ISO 3166-1 alpha-2), taking precedence over the
    /// edge's geo source. The proxy leaves it `None`; the API and CLI use it to ask "what would
    /// a user in DE get".
    fn country(&self) -> Option<&str> {
        None
    }
    /// A device class the host already knows, taking precedence over parsing the User-Agent
    /// (about 2 µs for an agent the thread has not seen lately, ~25 ns from its cache). A proxy can classify once per connection and return it here;
    /// the API and CLI use it for `--device`.
    fn device_class(&self) -> Option<DeviceClass> {
        None
    }
}

/// A request described by its attributes: for the API, the CLI (`--header K=V`, `--cookie`,
/// `--ip`, `--country`) and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttributesView {
    /// The host (`shop.example.com`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path; empty means `/`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Headers; names are matched in any case.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Cookies.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies: BTreeMap<String, String>,
    /// Query parameters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// The client address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The client country (ISO 3166-1 alpha-2), overriding the geo source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The device class, overriding the User-Agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceClass>,
}

impl AttributesView {
    /// A request with no attributes, for path `/`.
    pub fn new() -> AttributesView {
        AttributesView::default()
    }

    /// Sets the host.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Sets the path.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Adds a header (replacing one of the same name in any case).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|k, _| !k.eq_ignore_ascii_case(&name));
        self.headers.insert(name, value.into());
        self
    }

    /// Adds a cookie.
    pub fn with_cookie(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.cookies.insert(name.into(), value.into());
        self
    }

    /// Adds a query parameter.
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.insert(name.into(), value.into());
        self
    }

    /// Sets the client address.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets the client country.
    pub fn with_country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// Sets the device class.
    pub fn with_device(mut self, device: DeviceClass) -> Self {
        self.device = Some(device);
        self
    }

    /// Splits a `NAME=VALUE` pair as given on a command line (`--header X-Beta=1`), trimming
    /// both sides; `None` when there is no `=`.
    pub fn split_pair(pair: &str) -> Option<(&str, &str)> {
        pair.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
    }
}

impl RequestView for AttributesView {
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    fn path(&self) -> &str {
        if self.path.is_empty() {
            "/"
        } else {
            &self.path
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        match self.headers.get(name) {
            Some(v) => Some(v.as_str()),
            None => self
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
        }
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    fn client_ip(&self) -> Option<IpAddr> {
        self.ip
    }

    fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    fn device_class(&self) -> Option<DeviceClass> {
        self.device
    }
}

/// True when `path` is `prefix` or below it, by whole segments: `/api` covers `/api` and
/// `/api/cart` but not `/apix`; a prefix ending in `/` covers everything that starts with it.
pub(crate) fn path_under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        None => false,
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_answer_like_a_request() {
        let r = AttributesView::new()
            .with_host("shop.example.com")
            .with_header("X-User-Id", "alice")
            .with_header("x-user-id", "bob")
            .with_cookie("uid", "c")
            .with_query("q", "1")
            .with_ip("10.0.0.1".parse().unwrap());
        assert_eq!(r.path(), "/");
        assert_eq!(r.header("X-USER-ID"), Some("bob"));
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.cookie("uid"), Some("c"));
        assert_eq!(r.cookie("UID"), None);
        assert_eq!(r.query("q"), Some("1"));
        assert_eq!(r.client_ip(), "10.0.0.1".parse().ok());
        assert_eq!(r.country(), None);
        assert_eq!(AttributesView::split_pair("a = b=c"), Some(("a", "b=c")));
        assert_eq!(AttributesView::split_pair("ab"), None);
    }

    #[test]
    fn path_prefixes_match_whole_segments() {
        assert!(path_under("/anything", "/"));
        assert!(path_under("/api", "/api"));
        assert!(path_under("/api/cart", "/api"));
        assert!(path_under("/api/cart", "/api/"));
        assert!(!path_under("/apix", "/api"));
        assert!(!path_under("/ap", "/api"));
        assert!(!path_under("/api", "/api/"));
    }

    #[test]
    fn deserializes_from_api_json() {
        let r: AttributesView = serde_json::from_str(
            r#"{"path":"/x","headers":{"User-Agent":"curl"},"ip":"::1","country":"DE","device":"tablet"}"#,
        )
        .unwrap();
        assert_eq!(r.header("user-agent"), Some("curl"));
        assert_eq!(r.country(), Some("DE"));
        assert_eq!(r.device_class(), Some(DeviceClass::Tablet));
        assert!(serde_json::from_str::<AttributesView>(r#"{"hdrs":{}}"#).is_err());
    }
}
