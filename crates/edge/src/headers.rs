//! Header rewriting on the way to the upstream, done while the request head is written out
//! (nothing is inserted into or removed from the client's header map): hop-by-hop headers
//! left out, `X-Forwarded-For` / `Forwarded` appended, and the version and cohort headers set
//! by the edge, never taken from a client. Responses are rewritten as their head is parsed
//! ([`crate::wire`]).

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;

use crate::wire::RequestBody;

/// The request header naming the version the edge chose, for the upstream and its logs.
pub const VERSION_REQUEST_HEADER: &str = "x-rollgate-version";
/// The request header naming the cohort the unit is in.
pub const COHORT_REQUEST_HEADER: &str = "x-rollgate-cohort";
/// The request header saying why a request was sent to the stable version instead of the
/// one decided (`breaker_open`, `no_healthy_endpoint`); absent when it was not.
pub const REROUTED_REQUEST_HEADER: &str = "x-rollgate-rerouted";

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the
/// historical `Proxy-Connection` and `Keep-Alive`. A `static`, not a `const`: a `const` array
/// of header names would be built (and dropped) at every use.
static HOP_BY_HOP: [HeaderName; 9] = [
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

/// The client connection a request came in on, with its forwarding values formatted once
/// per connection instead of once per request.
#[derive(Clone, Debug)]
pub(crate) struct Hop {
    /// The client's address (IPv4-mapped addresses shown as IPv4).
    pub(crate) client_ip: IpAddr,
    /// Whether the client connected over TLS.
    pub(crate) tls: bool,
    /// The client address as an `X-Forwarded-For` element.
    client: Box<str>,
    /// `for=…;proto=…`, the start of this hop's `Forwarded` element.
    forwarded: Box<str>,
}

/// What the edge adds to a request on its way to the upstream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rewrite<'a> {
    pub(crate) hop: &'a Hop,
    /// The response header naming the version (`X-Version`): a client copy is dropped, so a
    /// client cannot make a backend echo a fake version.
    pub(crate) version_header: Option<&'a HeaderName>,
    /// The version the request goes to.
    pub(crate) version: &'a HeaderValue,
    /// The unit's cohort.
    pub(crate) cohort: &'static str,
    /// Why the request goes to another version than decided, if it does.
    pub(crate) rerouted: Option<&'static str>,
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
        Hop {
            client_ip,
            tls,
            client: client_ip.to_string().into(),
            forwarded: forwarded.into(),
        }
    }

    fn proto(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

/// True for the headers that describe one connection (RFC 9110 §7.6.1).
#[inline]
pub(crate) fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.iter().any(|h| h == name)
}

/// Writes the head of `req` as the upstream gets it into `out`: request line in origin form,
/// HTTP/1.1; the client's headers without hop-by-hop ones (and those `Connection` names) and
/// without any copy of the headers the edge sets; `Host` kept (HTTP/2 requests get one from
/// their authority); the client appended to `X-Forwarded-For` and `Forwarded`;
/// `X-Forwarded-Proto`, the version and cohort headers; and the framing of `body`.
pub(crate) fn write_request(out: &mut Vec<u8>, req: &Parts, rw: &Rewrite<'_>, body: RequestBody) {
    let headers = &req.headers;
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    let target = req.uri.path_and_query().map_or("/", |pq| pq.as_str());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let listed = match headers.contains_key(header::CONNECTION) {
        true => connection_list(headers),
        false => Vec::new(),
    };
    let mut host = None;
    for (name, value) in headers {
        if *name == header::HOST {
            // Kept even when `Connection` names it: the upstream needs to know the site.
            host.get_or_insert(value.as_bytes());
        } else if is_hop_by_hop(name)
            || rw.owns(name)
            || listed.contains(name)
            || (body == RequestBody::Chunked && *name == header::CONTENT_LENGTH)
        {
            continue;
        }
        line(out, name.as_str().as_bytes(), value.as_bytes());
    }
    if host.is_none()
        && let Some(authority) = req.uri.authority()
    {
        host = Some(authority.as_str().as_bytes());
        line(out, b"host", authority.as_str().as_bytes());
    }
    let hop = rw.hop;
    out.extend_from_slice(b"x-forwarded-for: ");
    for prior in headers.get_all(&X_FORWARDED_FOR) {
        if prior.to_str().is_ok() {
            out.extend_from_slice(prior.as_bytes());
            out.extend_from_slice(b", ");
        }
    }
    out.extend_from_slice(hop.client.as_bytes());
    out.extend_from_slice(b"\r\nforwarded: ");
    out.extend_from_slice(hop.forwarded.as_bytes());
    if let Some(host) = host.filter(|h| is_token(h)) {
        out.extend_from_slice(b";host=");
        out.extend_from_slice(host);
    }
    out.extend_from_slice(b"\r\n");
    line(out, b"x-forwarded-proto", hop.proto().as_bytes());
    line(
        out,
        VERSION_REQUEST_HEADER.as_bytes(),
        rw.version.as_bytes(),
    );
    line(out, COHORT_REQUEST_HEADER.as_bytes(), rw.cohort.as_bytes());
    if let Some(why) = rw.rerouted {
        line(out, REROUTED_REQUEST_HEADER.as_bytes(), why.as_bytes());
    }
    match body {
        RequestBody::Length {
            len,
            declared: false,
        } => {
            out.extend_from_slice(b"content-length: ");
            push_decimal(out, len);
            out.extend_from_slice(b"\r\n");
        }
        RequestBody::Chunked => line(out, b"transfer-encoding", b"chunked"),
        RequestBody::None | RequestBody::Length { .. } => {}
    }
    out.extend_from_slice(b"\r\n");
}

impl Rewrite<'_> {
    /// Headers the edge sets itself: a client's copy never reaches the upstream.
    fn owns(&self, name: &HeaderName) -> bool {
        *name == X_FORWARDED_FOR
            || *name == X_FORWARDED_PROTO
            || *name == VERSION_HEADER
            || *name == COHORT_HEADER
            || *name == REROUTED_HEADER
            || self.version_header == Some(name)
    }
}

/// The header names listed in the `Connection` headers (they describe the client's
/// connection only).
fn connection_list(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect()
}

fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// True when `s` can be a `Forwarded` value without quoting (RFC 7239 token characters).
fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:[]".contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, pairs: &[(&str, &str)]) -> Parts {
        let mut req = http::Request::post(uri);
        for (k, v) in pairs {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    /// The head written for `req`: its request line and its header lines, split.
    fn written(
        req: &Parts,
        rw: &Rewrite<'_>,
        body: RequestBody,
    ) -> (String, Vec<(String, String)>) {
        let mut out = Vec::new();
        write_request(&mut out, req, rw, body);
        let text = String::from_utf8(out).unwrap();
        let head = text
            .strip_suffix("\r\n\r\n")
            .expect("the head ends with an empty line");
        let mut lines = head.split("\r\n");
        let start = lines.next().unwrap().to_string();
        let fields = lines
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        (start, fields)
    }

    fn values<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn rewrite<'a>(hop: &'a Hop, version: &'a HeaderValue) -> Rewrite<'a> {
        Rewrite {
            hop,
            version_header: None,
            version,
            cohort: "stable",
            rerouted: None,
        }
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_left_out() {
        let req = parts(
            "/x?y=1",
            &[
                ("connection", "keep-alive, X-Secret"),
                ("keep-alive", "timeout=5"),
                ("x-secret", "1"),
                ("transfer-encoding", "chunked"),
                ("upgrade", "websocket"),
                ("te", "trailers"),
                ("proxy-authorization", "basic x"),
                ("content-length", "3"),
                ("x-keep", "yes"),
            ],
        );
        let hop = Hop::new("10.0.0.9".parse().unwrap(), false);
        let v = HeaderValue::from_static("v1");
        let body = RequestBody::Length {
            len: 3,
            declared: true,
        };
        let (start, fields) = written(&req, &rewrite(&hop, &v), body);
        assert_eq!(start, "POST /x?y=1 HTTP/1.1");
        let mut left: Vec<_> = fields.iter().map(|(k, _)| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(
            left,
            [
                "content-length",
                "forwarded",
                "x-forwarded-for",
                "x-forwarded-proto",
                "x-keep",
                "x-rollgate-cohort",
                "x-rollgate-version",
            ]
        );
        assert_eq!(values(&fields, "content-length"), ["3"]);
    }

    #[test]
    fn the_upstream_request_names_the_version_and_cannot_be_spoofed() {
        let req = parts(
            "/",
            &[
                ("host", "shop.example.com"),
                ("x-rollgate-version", "v9"),
                ("X-Rollgate-Cohort", "canary"),
                ("x-version", "v9"),
                ("x-forwarded-for", "203.0.113.7"),
                ("x-forwarded-for", "198.51.100.1"),
                ("forwarded", "for=203.0.113.7"),
                ("x-forwarded-proto", "gopher"),
                ("x-rollgate-rerouted", "breaker_open"),
            ],
        );
        let hop = Hop::new("::ffff:10.0.0.9".parse().unwrap(), true);
        let xv = HeaderName::from_static("x-version");
        let v = HeaderValue::from_static("v1.2");
        let rw = Rewrite {
            hop: &hop,
            version_header: Some(&xv),
            version: &v,
            cohort: "baseline",
            rerouted: None,
        };
        let (_, fields) = written(&req, &rw, RequestBody::None);
        assert_eq!(values(&fields, "x-rollgate-version"), ["v1.2"]);
        assert_eq!(values(&fields, "x-rollgate-cohort"), ["baseline"]);
        assert!(values(&fields, "x-version").is_empty());
        assert!(values(&fields, "x-rollgate-rerouted").is_empty());
        assert_eq!(
            values(&fields, "x-forwarded-for"),
            ["203.0.113.7, 198.51.100.1, 10.0.0.9"]
        );
        assert_eq!(
            values(&fields, "forwarded"),
            [
                "for=203.0.113.7",
                "for=10.0.0.9;proto=https;host=shop.example.com"
            ]
        );
        assert_eq!(values(&fields, "x-forwarded-proto"), ["https"]);
        assert_eq!(values(&fields, "host"), ["shop.example.com"]);
        let rerouted = Rewrite {
            rerouted: Some("no_healthy_endpoint"),
            ..rw
        };
        let (_, fields) = written(&req, &rerouted, RequestBody::None);
        assert_eq!(
            values(&fields, "x-rollgate-rerouted"),
            ["no_healthy_endpoint"]
        );
    }

    #[test]
    fn ipv6_clients_are_quoted_in_forwarded() {
        let req = parts("/", &[]);
        let hop = Hop::new("::1".parse().unwrap(), false);
        let v = HeaderValue::from_static("v1");
        let (_, fields) = written(&req, &rewrite(&hop, &v), RequestBody::None);
        assert_eq!(values(&fields, "forwarded"), ["for=\"[::1]\";proto=http"]);
        assert_eq!(values(&fields, "x-forwarded-for"), ["::1"]);
        assert!(values(&fields, "host").is_empty());
    }

    #[test]
    fn http2_requests_get_a_host_and_an_origin_form_target() {
        let req = parts("https://shop.example.com:8443/cart?id=7", &[]);
        let hop = Hop::new("10.0.0.1".parse().unwrap(), true);
        let v = HeaderValue::from_static("v1");
        let (start, fields) = written(&req, &rewrite(&hop, &v), RequestBody::None);
        assert_eq!(start, "POST /cart?id=7 HTTP/1.1");
        assert_eq!(values(&fields, "host"), ["shop.example.com:8443"]);
        assert_eq!(
            values(&fields, "forwarded"),
            ["for=10.0.0.1;proto=https;host=shop.example.com:8443"]
        );
    }

    #[test]
    fn the_body_framing_is_written_when_the_client_did_not_declare_it() {
        let req = parts("/", &[]);
        let hop = Hop::new("10.0.0.1".parse().unwrap(), false);
        let v = HeaderValue::from_static("v1");
        let rw = rewrite(&hop, &v);
        let (_, fields) = written(
            &req,
            &rw,
            RequestBody::Length {
                len: 12345,
                declared: false,
            },
        );
        assert_eq!(values(&fields, "content-length"), ["12345"]);
        let (_, fields) = written(&req, &rw, RequestBody::Chunked);
        assert_eq!(values(&fields, "transfer-encoding"), ["chunked"]);
        assert!(values(&fields, "content-length").is_empty());
        let mut n = Vec::new();
        push_decimal(&mut n, 0);
        assert_eq!(n, b"0");
    }
}
