//! A fake upstream that speaks raw bytes: a TCP listener on 127.0.0.1 (port 0) whose
//! connections are handed to the test's own script, which reads the edge's requests and
//! writes exactly the bytes it wants back, however wrong. It counts the connections it
//! accepted and logs every request with the connection it came on, so tests can tell which
//! requests reused a pooled connection. Also: the edge that goes in front of one, and a
//! client call that reports a broken body instead of failing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;

use crate::harness::{Harness, spec};

/// How long the fake waits for the edge before it gives up (a failing test, never a hang).
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A running fake upstream. Dropping it closes the listener and every connection.
pub struct RawUpstream {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    log: Log,
    task: JoinHandle<()>,
}

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The connection it came on, counted from 1 in the order they were accepted.
    pub conn: usize,
    pub method: String,
    pub path: String,
}

/// One request read by a script.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One accepted connection, in the hands of the test's script.
pub struct Peer {
    /// Counted from 1 in the order the connections were accepted.
    pub index: usize,
    io: TcpStream,
    buf: Vec<u8>,
    log: Log,
}

type Log = Arc<Mutex<Vec<Seen>>>;

impl RawUpstream {
    /// Listens on 127.0.0.1 and runs `script` on every connection accepted.
    pub async fn start<F, Fut>(script: F) -> RawUpstream
    where
        F: Fn(Peer) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake upstream");
        let addr = listener.local_addr().expect("the fake's address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let log: Log = Arc::default();
        let task = tokio::spawn({
            let (accepted, log) = (Arc::clone(&accepted), Arc::clone(&log));
            async move {
                // Connection tasks live in the set: aborting this task closes them all.
                let mut conns = JoinSet::new();
                while let Ok((io, _)) = listener.accept().await {
                    // Each write goes out at once: bytes must not wait for an ACK (Nagle), or
                    // "after the response" would not mean what the tests say.
                    let _ = io.set_nodelay(true);
                    let index = accepted.fetch_add(1, Ordering::SeqCst) + 1;
                    let peer = Peer {
                        index,
                        io,
                        buf: Vec::new(),
                        log: Arc::clone(&log),
                    };
                    conns.spawn(script(peer));
                    while conns.try_join_next().is_some() {}
                }
            }
        });
        RawUpstream {
            addr,
            accepted,
            log,
            task,
        }
    }

    /// Answers every request of every connection with `reply(connection index, request)`;
    /// `None` answers [`conn_tag`]. The connection ends when the edge closes it.
    pub async fn answering(
        reply: impl Fn(usize, &Request) -> Option<String> + Send + Sync + 'static,
    ) -> RawUpstream {
        let reply = Arc::new(reply);
        RawUpstream::start(move |mut peer| {
            let reply = Arc::clone(&reply);
            async move {
                while let Some(req) = peer.request().await {
                    let bytes = reply(peer.index, &req).unwrap_or_else(|| conn_tag(peer.index));
                    if !peer.send(bytes).await {
                        return;
                    }
                }
            }
        })
        .await
    }

    /// `host:port`, as the routing spec lists endpoints.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Every request read so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().expect("the log").clone()
    }
}

impl Drop for RawUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    /// The next request with its body (`Content-Length` only); `None` when the edge closed
    /// the connection instead.
    pub async fn request(&mut self) -> Option<Request> {
        let mut req = self.request_head().await?;
        let len = req
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| {
                v.parse::<usize>().expect("a numeric Content-Length")
            });
        assert!(
            !req.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")),
            "the fake reads Content-Length bodies only"
        );
        while self.buf.len() < len {
            if self.fill().await == 0 {
                return None;
            }
        }
        req.body = self.buf.drain(..len).collect();
        Some(req)
    }

    /// The next request head, its body left unread; `None` when the edge closed the
    /// connection instead.
    pub async fn request_head(&mut self) -> Option<Request> {
        let end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if self.fill().await == 0 {
                return None;
            }
        };
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut fields);
        let status = parsed
            .parse(&self.buf[..end])
            .expect("a valid request head");
        assert!(status.is_complete(), "the head ends at the empty line");
        let req = Request {
            method: parsed.method.expect("a method").to_string(),
            path: parsed.path.expect("a path").to_string(),
            headers: parsed
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8_lossy(h.value).into_owned();
                    (h.name.to_ascii_lowercase(), value)
                })
                .collect(),
            body: Vec::new(),
        };
        self.buf.drain(..end);
        self.log.lock().expect("the log").push(Seen {
            conn: self.index,
            method: req.method.clone(),
            path: req.path.clone(),
        });
        Some(req)
    }

    /// Writes `bytes` as they are. A failed write is not an error: the edge may have hung up.
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) -> bool {
        let sent = timeout(PATIENCE, self.io.write_all(bytes.as_ref())).await;
        matches!(sent, Ok(Ok(())))
    }

    /// Waits until the edge closes the connection (true), or sends something or stays
    /// silent for [`PATIENCE`] (false).
    pub async fn closed_by_edge(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match timeout(PATIENCE, self.io.read(&mut byte)).await {
            Ok(Ok(0) | Err(_)) => true,
            Ok(Ok(_)) | Err(_) => false,
        }
    }

    /// Reads more bytes from the edge; 0 at the end of the stream, on an error or after
    /// [`PATIENCE`] of silence.
    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        match timeout(PATIENCE, self.io.read(&mut chunk)).await {
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Ok(Err(_)) | Err(_) => 0,
        }
    }
}

/// A complete `200 OK` response with `body` and its `Content-Length`.
pub fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The edge's 502 body.
pub const BAD_GATEWAY: &str = "502 Bad Gateway: the upstream could not be reached or failed\n";

/// An edge sending all traffic to its stable version `v1`, whose one endpoint is `raw`, with
/// `timeouts`. One worker thread, so every request uses the same idle pool; a breaker that
/// does not open, so broken responses keep reaching the fake.
pub async fn edge_before(raw: &RawUpstream, timeouts: Value) -> Harness {
    let endpoint = raw.endpoint();
    Harness::start_with(
        move |s, c| {
            let service = json!({
                "versions": [
                    {"name": "v1", "endpoints": [endpoint]},
                    {"name": "v2", "endpoints": [c.endpoint()]},
                ],
                "breaker": {"consecutive_failures": 1000, "min_requests": 100000},
                "timeouts": timeouts,
            });
            spec(s, c, "0%", service, json!({}))
        },
        |s| s.workers = Some(1),
    )
    .await
}

/// The usual timeouts: generous.
pub fn relaxed() -> Value {
    json!({"connect": "1s", "first_byte": "5s", "total": "15s"})
}

/// A request through the edge: its status, its headers and its body (or why the body broke).
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Result<Bytes, reqwest::Error>,
}

impl Got {
    /// The body, which must have arrived whole.
    pub fn text(self) -> String {
        let body = self.body.expect("the whole body");
        String::from_utf8(body.to_vec()).expect("a UTF-8 body")
    }
}

/// Sends `method path` through the edge and reads the whole answer, within [`PATIENCE`].
pub async fn call(h: &Harness, method: reqwest::Method, path: &str) -> Got {
    try_call(h, method, path).await.expect("the edge answers")
}

/// As [`call`], for a response that may be cut before its head reached the client.
pub async fn try_call(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
) -> Result<Got, reqwest::Error> {
    let req = h
        .client
        .request(method, h.url(path))
        .header("X-User-Id", "wire");
    let r = timeout(PATIENCE, req.send())
        .await
        .expect("the edge answers in time")?;
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let body = timeout(PATIENCE, r.bytes())
        .await
        .expect("the body ends in time");
    Ok(Got {
        status,
        headers,
        body,
    })
}

/// `GET path` through the edge, as [`call`].
pub async fn get(h: &Harness, path: &str) -> Got {
    call(h, reqwest::Method::GET, path).await
}

/// `(connection, method, path)` of every request the fake saw.
pub fn log(raw: &RawUpstream) -> Vec<(usize, String, String)> {
    raw.seen()
        .into_iter()
        .map(|Seen { conn, method, path }| (conn, method, path))
        .collect()
}

/// Shorthand for an expected log line.
pub fn line(conn: usize, method: &str, path: &str) -> (usize, String, String) {
    (conn, method.into(), path.into())
}

/// The normal answer of the fakes: which connection served the request.
pub fn conn_tag(index: usize) -> String {
    ok(&format!("conn {index}\n"))
}
