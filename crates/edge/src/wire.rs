//! HTTP/1.1 on the upstream side of the wire, as plain functions over byte buffers: how a
//! request body is delimited, the response head parsed out of the bytes read (RFC 9112 §4–6),
//! and how the response body is delimited. Header values are not copied: they point into the
//! read buffer. The connection that moves the bytes is [`crate::conn`]; chunked bodies are
//! decoded by [`crate::chunked`].

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body::Body;

use crate::headers::is_hop_by_hop;

/// Most header lines in a response head (hyper's limit too).
const MAX_HEADERS: usize = 100;
/// Largest response head accepted (offsets into it fit a `u32`).
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// How a request body goes to the upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestBody {
    /// No body.
    None,
    /// Exactly this many bytes; `declared` when the client's `Content-Length` says so
    /// (otherwise the edge writes one).
    Length { len: u64, declared: bool },
    /// `Transfer-Encoding: chunked`: the length is not known in advance.
    Chunked,
}

/// A response head read from an upstream.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub(crate) status: StatusCode,
    /// The headers for the client: without hop-by-hop headers, those named in `Connection`,
    /// and the one the edge sets itself.
    pub(crate) headers: HeaderMap,
    pub(crate) body: ResponseBody,
    /// The connection may carry another request once this response is read.
    pub(crate) keep_alive: bool,
}

/// How a response body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResponseBody {
    /// No body (`HEAD`, 1xx, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the upstream closes the connection.
    UntilClose,
}

/// What went wrong in an exchange with an upstream once the connection was made.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Reading or writing the connection failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The upstream closed the connection before the response was complete.
    #[error("the upstream closed the connection before the response was complete")]
    Closed,
    /// The response head is not valid HTTP/1.x.
    #[error("malformed response head: {0}")]
    Malformed(&'static str),
    /// The response head is larger than the edge accepts.
    #[error("response head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    /// `Content-Length` is not a number, or several disagree.
    #[error("invalid or conflicting Content-Length")]
    ContentLength,
    /// A `101 Switching Protocols` answer; the edge does not forward upgrades.
    #[error("unexpected 101 Switching Protocols")]
    Upgrade,
    /// The chunked response body is malformed.
    #[error("malformed chunked body: {0}")]
    Chunk(&'static str),
}

impl RequestBody {
    /// How `body`, of a request with `method` and `headers`, is sent (hyper's client rules):
    /// nothing when it is empty; its `Content-Length` (the client's, or the body's exact size);
    /// else chunked — except for `GET`, `HEAD` and `CONNECT`, which are sent without one.
    pub(crate) fn of<B: Body>(method: &Method, headers: &HeaderMap, body: &B) -> RequestBody {
        if body.is_end_stream() {
            return RequestBody::None;
        }
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match (declared, body.size_hint().exact()) {
            (Some(len), _) => RequestBody::Length {
                len,
                declared: true,
            },
            (None, Some(len)) => RequestBody::Length {
                len,
                declared: false,
            },
            (None, None) if matches!(*method, Method::GET | Method::HEAD | Method::CONNECT) => {
                RequestBody::None
            }
            (None, None) => RequestBody::Chunked,
        }
    }
}

/// What the response head says about the connection and the body, gathered in one pass.
#[derive(Default)]
struct Framing {
    length: Option<u64>,
    transfer_encoding: bool,
    chunked: bool,
    close: bool,
    keep_alive: bool,
    connection_lists: bool,
}

/// Where a header line lies in the head: name start and end, value start and end.
type Span = [u32; 4];

/// Parses the response head at the start of `buf`, to a request that was a `HEAD` when
/// `head_request`, and removes it from `buf`. `Ok(None)`: the head is not complete yet.
/// `own` is the header the edge sets on responses: the upstream's copy is dropped.
pub(crate) fn parse_response(
    buf: &mut BytesMut,
    head_request: bool,
    own: Option<&HeaderName>,
) -> Result<Option<ResponseHead>, ExchangeError> {
    let mut raw = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut spans = [[0u32; 4]; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut raw,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
        Ok(httparse::Status::Complete(_)) => return Err(ExchangeError::HeadTooLarge),
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
            return Err(ExchangeError::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(ExchangeError::Malformed(describe(e))),
    };
    let code = response.code.unwrap_or(0);
    let status = StatusCode::from_u16(code).map_err(|_| ExchangeError::Malformed("status code"))?;
    let http10 = response.version == Some(0);
    let base = buf.as_ptr() as usize;
    let offset = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
    let mut framing = Framing::default();
    let count = response.headers.len();
    for (h, span) in response.headers.iter().zip(spans.iter_mut()) {
        let (name, value) = (h.name.as_bytes(), h.value);
        *span = [
            offset(name),
            offset(name) + name.len() as u32,
            offset(value),
            offset(value) + value.len() as u32,
        ];
        framing.note(name, value)?;
    }
    let head = buf.split_to(len).freeze();
    if status.is_informational() {
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(ExchangeError::Upgrade);
        }
        // `100 Continue` and friends: the caller reads on to the final response.
        return Ok(Some(ResponseHead {
            status,
            headers: HeaderMap::new(),
            body: ResponseBody::Empty,
            keep_alive: true,
        }));
    }
    let body =
        if head_request || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            ResponseBody::Empty
        } else if framing.transfer_encoding {
            if http10 {
                // RFC 9112 §6.1: the framing is faulty, maybe a smuggling attempt (hyper's
                // client refuses it too).
                return Err(ExchangeError::Malformed(
                    "Transfer-Encoding in an HTTP/1.0 response",
                ));
            }
            if framing.chunked {
                ResponseBody::Chunked
            } else {
                ResponseBody::UntilClose
            }
        } else {
            match framing.length {
                Some(n) => ResponseBody::Length(n),
                None => ResponseBody::UntilClose,
            }
        };
    let lists = framing
        .connection_lists
        .then(|| connection_list(&head, &spans[..count]));
    let mut headers = HeaderMap::with_capacity(count);
    for span in &spans[..count] {
        let [ns, ne, vs, ve] = span.map(|o| o as usize);
        let name = HeaderName::from_bytes(&head[ns..ne])
            .map_err(|_| ExchangeError::Malformed("header name"))?;
        let dropped = is_hop_by_hop(&name)
            || own == Some(&name)
            || (framing.transfer_encoding && name == header::CONTENT_LENGTH)
            || lists.as_ref().is_some_and(|l| l.contains(&name));
        if !dropped {
            let value = HeaderValue::from_maybe_shared(head.slice(vs..ve))
                .map_err(|_| ExchangeError::Malformed("header value"))?;
            headers.append(name, value);
        }
    }
    // Both `Transfer-Encoding` and `Content-Length`: the coding wins, but the message "ought
    // to be handled as an error" (RFC 9112 §6.3): it is delivered, and the connection retired.
    let ambiguous = framing.transfer_encoding && framing.length.is_some();
    let keep_alive = !framing.close
        && !ambiguous
        && (!http10 || framing.keep_alive)
        && body != ResponseBody::UntilClose;
    Ok(Some(ResponseHead {
        status,
        headers,
        body,
        keep_alive,
    }))
}

impl Framing {
    /// Takes note of one header line.
    fn note(&mut self, name: &[u8], value: &[u8]) -> Result<(), ExchangeError> {
        if name.eq_ignore_ascii_case(b"content-length") {
            for part in value.split(|&b| b == b',') {
                let n = parse_decimal(trim(part)).ok_or(ExchangeError::ContentLength)?;
                if self.length.is_some_and(|l| l != n) {
                    return Err(ExchangeError::ContentLength);
                }
                self.length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
            // Only the last coding matters: chunked must be last to delimit the body.
            let last = value.rsplit(|&b| b == b',').next().map(trim);
            self.chunked = last.is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                if token.eq_ignore_ascii_case(b"close") {
                    self.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    self.keep_alive = true;
                } else if !token.is_empty() {
                    self.connection_lists = true;
                }
            }
        }
        Ok(())
    }
}

/// The header names listed in the `Connection` headers of `head` (they describe this
/// connection only and are removed).
fn connection_list(head: &[u8], spans: &[Span]) -> Vec<HeaderName> {
    spans
        .iter()
        .filter(|[ns, ne, ..]| head[*ns as usize..*ne as usize].eq_ignore_ascii_case(b"connection"))
        .flat_map(|[.., vs, ve]| head[*vs as usize..*ve as usize].split(|&b| b == b','))
        .filter_map(|token| HeaderName::from_bytes(trim(token)).ok())
        .collect()
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// A non-empty run of ASCII digits as a number, `None` on anything else or overflow.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        let d = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(d)
    })
}

fn describe(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid new line",
        httparse::Error::Status => "invalid status line",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<ResponseHead>, ExchangeError> {
        parse_response(&mut BytesMut::from(raw), false, None)
    }

    fn head(raw: &str) -> ResponseHead {
        parse(raw).unwrap().unwrap()
    }

    #[test]
    fn a_head_is_parsed_once_complete_and_leaves_the_body_in_the_buffer() {
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Served-By: v1\r\n\r\nv1\n";
        for cut in 0..raw.len() - 4 {
            assert!(parse(&raw[..cut]).unwrap().is_none(), "{cut}");
        }
        let mut buf = BytesMut::from(raw);
        let h = parse_response(&mut buf, false, None).unwrap().unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.body, ResponseBody::Length(3));
        assert!(h.keep_alive);
        assert_eq!(h.headers["x-served-by"], "v1");
        assert_eq!(h.headers["content-length"], "3");
        assert_eq!(&buf[..], b"v1\n");
    }

    #[test]
    fn bodies_are_delimited_as_rfc_9112_says() {
        let h = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 9\r\n\r\n",
        );
        assert_eq!(h.body, ResponseBody::Chunked);
        assert!(!h.keep_alive, "ambiguous framing retires the connection");
        assert!(
            h.headers.is_empty(),
            "framing headers are the edge's business"
        );
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        assert_eq!(h.body, ResponseBody::UntilClose);
        assert!(!h.keep_alive);
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(h.body, ResponseBody::UntilClose);
        for status in ["204 No Content", "304 Not Modified"] {
            let h = head(&format!("HTTP/1.1 {status}\r\nContent-Length: 5\r\n\r\n"));
            assert_eq!(h.body, ResponseBody::Empty);
        }
        let mut buf = BytesMut::from("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        let h = parse_response(&mut buf, true, None).unwrap().unwrap();
        assert_eq!(
            h.body,
            ResponseBody::Empty,
            "the answer to a HEAD has no body"
        );
        assert_eq!(h.headers["content-length"], "100", "but keeps its length");
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n").body,
            ResponseBody::Length(7)
        );
    }

    #[test]
    fn keep_alive_follows_the_connection_header_and_version() {
        assert!(
            !head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive
        );
        assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert!(
            head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                .keep_alive
        );
    }

    #[test]
    fn hop_by_hop_headers_those_connection_names_and_the_edges_own_are_dropped() {
        let raw = "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n\
                   X-Secret: 1\r\nX-Version: fake\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n\
                   Set-Cookie: b=2\r\nContent-Length: 0\r\n\r\n";
        let own = HeaderName::from_static("x-version");
        let h = parse_response(&mut BytesMut::from(raw), false, Some(&own))
            .unwrap()
            .unwrap();
        let mut left: Vec<_> = h.headers.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-length", "content-type", "set-cookie"]);
        assert_eq!(h.headers.get_all("set-cookie").iter().count(), 2);
        let h = head("HTTP/1.1 200 OK\r\nX-Version: theirs\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            h.headers["x-version"], "theirs",
            "passes when the edge sets none"
        );
    }

    #[test]
    fn interim_responses_are_reported_for_skipping_and_upgrades_refused() {
        let mut buf = BytesMut::from(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        );
        let first = parse_response(&mut buf, false, None).unwrap().unwrap();
        assert_eq!(first.status, 100);
        let second = parse_response(&mut buf, false, None).unwrap().unwrap();
        assert_eq!(second.status, 201);
        assert!(buf.is_empty());
        assert!(matches!(
            parse("HTTP/1.1 101 Switching Protocols\r\n\r\n"),
            Err(ExchangeError::Upgrade)
        ));
    }

    #[test]
    fn broken_heads_are_errors() {
        for raw in [
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n",
            "SSH-2.0-OpenSSH\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
        ] {
            assert!(parse(raw).is_err(), "{raw:?}");
        }
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(parse(&huge), Err(ExchangeError::HeadTooLarge)));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert!(parse(&format!("HTTP/1.1 200 OK\r\n{many}\r\n")).is_err());
    }

    #[test]
    fn request_bodies_are_framed_like_hyper_frames_them() {
        use http_body_util::{Empty, Full};
        let none = HeaderMap::new();
        let mut declared = HeaderMap::new();
        declared.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        let full = Full::new(bytes::Bytes::from_static(b"abc"));
        assert_eq!(
            RequestBody::of(&Method::POST, &none, &Empty::<bytes::Bytes>::new()),
            RequestBody::None
        );
        assert_eq!(
            RequestBody::of(&Method::POST, &declared, &full),
            RequestBody::Length {
                len: 3,
                declared: true
            }
        );
        assert_eq!(
            RequestBody::of(&Method::PUT, &none, &full),
            RequestBody::Length {
                len: 3,
                declared: false
            }
        );
        assert_eq!(
            RequestBody::of(&Method::POST, &none, &Unknown),
            RequestBody::Chunked
        );
        assert_eq!(
            RequestBody::of(&Method::GET, &none, &Unknown),
            RequestBody::None
        );
    }

    /// A body of unknown length.
    struct Unknown;

    impl Body for Unknown {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
            std::task::Poll::Ready(None)
        }
    }
}
