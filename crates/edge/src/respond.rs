//! Phase 4 of a request: the response the client gets. Either the upstream's, with its
//! hop-by-hop headers removed, the version header set and the anonymous cookie added, its
//! body streamed through; or a short error of the edge's own.

use http::header::{self, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use tokio::time::Instant;

use crate::body::ProxyBody;
use crate::exchange::Exchange;
use crate::wire::ResponseHead;

/// What the client learns about the version besides the body.
#[derive(Debug, Default)]
pub(crate) struct Tags<'a> {
    /// The version header name (`X-Version`), when turned on.
    pub(crate) version_header: Option<&'a HeaderName>,
    /// The version that served (or failed to serve) the request.
    pub(crate) version: Option<&'a HeaderValue>,
    /// `Set-Cookie` for a freshly minted anonymous unit.
    pub(crate) set_cookie: Option<HeaderValue>,
}

/// The upstream's response, relayed: its head was already stripped of hop-by-hop headers
/// and of the upstream's copy of the version header as it was parsed.
pub(crate) fn relay(
    upstream: ResponseHead,
    mut exchange: Exchange,
    deadline: Instant,
    tags: Tags<'_>,
) -> Response<ProxyBody> {
    exchange.set_status(upstream.status.as_u16());
    let mut response = Response::new(ProxyBody::stream(deadline, exchange));
    *response.status_mut() = upstream.status;
    *response.headers_mut() = upstream.headers;
    let h = response.headers_mut();
    if let (Some(name), Some(v)) = (tags.version_header, tags.version) {
        h.insert(name.clone(), v.clone());
    }
    if let Some(cookie) = tags.set_cookie {
        h.append(header::SET_COOKIE, cookie);
    }
    response
}

/// A response of the edge's own: `status` with `message` as a short plain-text body.
pub(crate) fn error(
    status: StatusCode,
    message: &'static str,
    tags: Tags<'_>,
) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::full(message));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let (Some(name), Some(v)) = (tags.version_header, tags.version) {
        h.insert(name.clone(), v.clone());
    }
    if let Some(cookie) = tags.set_cookie {
        h.append(header::SET_COOKIE, cookie);
    }
    response
}

/// The short bodies of the edge's own errors.
pub(crate) mod messages {
    /// 404: no service is configured for the host and path.
    pub(crate) const NO_SERVICE: &str =
        "404 Not Found: no service is configured for this host and path\n";
    /// 502: the upstream refused, reset or broke the exchange.
    pub(crate) const BAD_GATEWAY: &str =
        "502 Bad Gateway: the upstream could not be reached or failed\n";
    /// 503: every endpoint of the version is down.
    pub(crate) const UNAVAILABLE: &str = "503 Service Unavailable: no healthy upstream endpoint\n";
    /// 504: the upstream did not answer in time.
    pub(crate) const TIMEOUT: &str = "504 Gateway Timeout: the upstream did not answer in time\n";
    /// 400: the client's request could not be forwarded.
    pub(crate) const BAD_REQUEST: &str = "400 Bad Request: the request could not be forwarded\n";
    /// 405: CONNECT is not proxied.
    pub(crate) const NO_CONNECT: &str = "405 Method Not Allowed: CONNECT is not supported\n";
    /// 500: the edge itself failed.
    pub(crate) const INTERNAL: &str =
        "500 Internal Server Error: the edge failed to handle the request\n";
}
