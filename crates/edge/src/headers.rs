//! Header rewriting on the way to the upstream and back: hop-by-hop headers removed,
//! `X-Forwarded-For` / `Forwarded` appended, the version and cohort headers set by the edge
//! and never taken from a client or an upstream.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The request header naming the version the edge chose, for the upstream and its logs.
pub const VERSION_REQUEST_HEADER: &str = "x-rollgate-version";
/// The request header naming the cohort the unit is in.
pub const COHORT_REQUEST_HEADER: &str = "x-rollgate-cohort";
/// The request header saying why a request was sent to the stable version instead of the
/// one decided (`breaker_open`, `no_healthy_endpoint`); absent when it was not.
pub const REROUTED_REQUEST_HEADER: &str = "x-rollgate-rerouted";

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the
/// historical `Proxy-Connection` and `Keep-Alive`.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static VERSION_HEADER: HeaderName = HeaderName::from_static(VERSION_REQUEST_HEADER);
static COHORT_HEADER: HeaderName = HeaderName::from_static(COHORT_REQUEST_HEADER);
static REROUTED_HEADER: HeaderName = HeaderName::from_static(REROUTED_REQUEST_HEADER);

/// The client connection a request came in on, with its forwarding headers formatted once
/// per connection instead of once per request.
#[derive(Clone, Debug)]
pub(crate) struct Hop {
    /// The client's address (IPv4-mapped addresses shown as IPv4).
    pub(crate) client_ip: IpAddr,
    /// Whether the client connected over TLS.
    pub(crate) tls: bool,
    /// The client address as an `X-Forwarded-For` element.
    xff: HeaderValue,
    /// `for=…;proto=…`, the start of this hop's `Forwarded` element.
    forwarded: String,
}

impl Hop {
    /// The hop of a client at `client_ip`, over TLS or not.
    pub(crate) fn new(client_ip: IpAddr, tls: bool) -> Hop {
        let client_ip = client_ip.to_canonical();
        let proto = if tls { "https" } else { "http" };
        let forwarded = match client_ip {
            IpAddr::V4(ip) => format!("for={ip};proto={proto}"),
            IpAddr::V6(ip) => format!("for=\"[{ip}]\";proto={proto}"),
        };
        // An IP address is always a valid header value.
        let xff = HeaderValue::try_from(client_ip.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
        Hop {
            client_ip,
            tls,
            xff,
            forwarded,
        }
    }

    fn proto(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

/// Removes hop-by-hop headers, including those `Connection` names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    strip(headers, &[]);
}

/// Removes hop-by-hop headers (and those `Connection` names) and every header named in
/// `owned`. One pass over the header names finds out whether there is anything to remove at
/// all, which on the request path there usually is not: cheaper than a lookup per name.
fn strip(headers: &mut HeaderMap, owned: &[&HeaderName]) {
    let found = headers
        .keys()
        .any(|k| HOP_BY_HOP.contains(k) || owned.contains(&k));
    if !found {
        return;
    }
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP.iter().chain(owned.iter().copied()) {
        headers.remove(name);
    }
}

/// Rewrites the headers of a client request for the upstream: strips hop-by-hop headers and
/// every client-supplied copy of the headers the edge owns (`response_header` included, so a
/// client cannot make a backend echo a fake version), appends the client to
/// `X-Forwarded-For` and `Forwarded`, sets `X-Forwarded-Proto`, and names the version and
/// cohort. `host` is what the client asked for: HTTP/2 requests get it as their `Host` header.
pub(crate) fn to_upstream(
    headers: &mut HeaderMap,
    hop: &Hop,
    host: Option<&HeaderValue>,
    response_header: Option<&HeaderName>,
    version: &HeaderValue,
    cohort: &HeaderValue,
) {
    match response_header {
        Some(name) => strip(
            headers,
            &[name, &REROUTED_HEADER, &VERSION_HEADER, &COHORT_HEADER],
        ),
        None => strip(
            headers,
            &[&REROUTED_HEADER, &VERSION_HEADER, &COHORT_HEADER],
        ),
    }
    append_forwarded(headers, hop, host);
    headers.insert(VERSION_HEADER.clone(), version.clone());
    headers.insert(COHORT_HEADER.clone(), cohort.clone());
    if !headers.contains_key(header::HOST)
        && let Some(host) = host
    {
        headers.insert(header::HOST, host.clone());
    }
}

/// Says why the request goes to another version than decided.
pub(crate) fn set_rerouted(headers: &mut HeaderMap, why: &'static str) {
    headers.insert(REROUTED_HEADER.clone(), HeaderValue::from_static(why));
}

/// Renames the version on a request already rewritten by [`to_upstream`] (for a retry on
/// another version).
pub(crate) fn set_version(headers: &mut HeaderMap, version: &HeaderValue) {
    headers.insert(VERSION_HEADER.clone(), version.clone());
}

fn append_forwarded(headers: &mut HeaderMap, hop: &Hop, host: Option<&HeaderValue>) {
    match joined(headers, &X_FORWARDED_FOR) {
        None => {
            headers.insert(X_FORWARDED_FOR.clone(), hop.xff.clone());
        }
        Some(mut prior) => {
            prior.push_str(", ");
            prior.push_str(&hop.client_ip.to_string());
            if let Ok(v) = HeaderValue::try_from(prior) {
                headers.insert(X_FORWARDED_FOR.clone(), v);
            }
        }
    }
    let host = host.and_then(|h| h.to_str().ok()).filter(|h| is_token(h));
    let forwarded = match host {
        Some(host) => HeaderValue::try_from(format!("{};host={host}", hop.forwarded)),
        None => HeaderValue::try_from(hop.forwarded.as_str()),
    };
    if let Ok(v) = forwarded {
        headers.append(header::FORWARDED, v);
    }
    headers.insert(
        X_FORWARDED_PROTO.clone(),
        HeaderValue::from_static(hop.proto()),
    );
}

/// Every value of `name`, joined with ", " (headers may legally be repeated), or `None`.
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    Some(values.fold(first.to_string(), |mut acc, v| {
        acc.push_str(", ");
        acc.push_str(v);
        acc
    }))
}

/// True when `s` can be a `Forwarded` value without quoting (RFC 7239 token characters).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:[]".contains(&b))
}

/// Rewrites an upstream response for the client: strips hop-by-hop headers and sets the
/// version header (overwriting any the upstream sent).
pub(crate) fn to_client(
    headers: &mut HeaderMap,
    version_header: Option<&HeaderName>,
    version: &HeaderValue,
) {
    strip_hop_by_hop(headers);
    if let Some(name) = version_header {
        headers.insert(name.clone(), version.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn values(h: &HeaderMap, name: &str) -> Vec<String> {
        h.get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_removed() {
        let mut h = map(&[
            ("connection", "keep-alive, X-Secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("te", "trailers"),
            ("proxy-authorization", "basic x"),
            ("content-length", "3"),
            ("x-keep", "yes"),
        ]);
        strip_hop_by_hop(&mut h);
        let mut left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-length", "x-keep"]);
    }

    #[test]
    fn the_upstream_request_names_the_version_and_cannot_be_spoofed() {
        let mut h = map(&[
            ("x-rollgate-version", "v9"),
            ("X-Rollgate-Cohort", "canary"),
            ("x-version", "v9"),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=203.0.113.7"),
            ("x-forwarded-proto", "gopher"),
            ("x-rollgate-rerouted", "breaker_open"),
        ]);
        let host = HeaderValue::from_static("shop.example.com");
        let hop = Hop::new("::ffff:10.0.0.9".parse().unwrap(), true);
        let xv = HeaderName::from_static("x-version");
        let v = HeaderValue::from_static("v1.2");
        let c = HeaderValue::from_static("baseline");
        to_upstream(&mut h, &hop, Some(&host), Some(&xv), &v, &c);
        assert_eq!(values(&h, "x-rollgate-version"), ["v1.2"]);
        assert_eq!(values(&h, "x-rollgate-cohort"), ["baseline"]);
        assert!(values(&h, "x-version").is_empty());
        assert!(values(&h, "x-rollgate-rerouted").is_empty());
        set_rerouted(&mut h, "no_healthy_endpoint");
        assert_eq!(values(&h, "x-rollgate-rerouted"), ["no_healthy_endpoint"]);
        assert_eq!(
            values(&h, "x-forwarded-for"),
            ["203.0.113.7, 198.51.100.1, 10.0.0.9"]
        );
        assert_eq!(
            values(&h, "forwarded"),
            [
                "for=203.0.113.7",
                "for=10.0.0.9;proto=https;host=shop.example.com"
            ]
        );
        assert_eq!(values(&h, "x-forwarded-proto"), ["https"]);
        assert_eq!(values(&h, "host"), ["shop.example.com"]);
    }

    #[test]
    fn ipv6_clients_are_quoted_in_forwarded() {
        let mut h = HeaderMap::new();
        let hop = Hop::new("::1".parse().unwrap(), false);
        let v = HeaderValue::from_static("v1");
        to_upstream(&mut h, &hop, None, None, &v, &v);
        assert_eq!(values(&h, "forwarded"), ["for=\"[::1]\";proto=http"]);
        assert_eq!(values(&h, "x-forwarded-for"), ["::1"]);
        assert!(!h.contains_key("host"));
    }

    #[test]
    fn the_response_version_header_overwrites_the_upstreams() {
        let mut h = map(&[
            ("x-version", "fake"),
            ("connection", "close"),
            ("content-type", "text/plain"),
        ]);
        let xv = HeaderName::from_static("x-version");
        to_client(&mut h, Some(&xv), &HeaderValue::from_static("v1.1"));
        assert_eq!(values(&h, "x-version"), ["v1.1"]);
        assert!(!h.contains_key("connection"));
        let mut h = map(&[("x-version", "fake")]);
        to_client(&mut h, None, &HeaderValue::from_static("v1.1"));
        assert_eq!(values(&h, "x-version"), ["fake"]);
    }
}
