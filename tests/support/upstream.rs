//! A real HTTP/1.1 upstream for tests and benchmarks: a hyper server on 127.0.0.1 (port 0)
//! that answers with its name, and a few paths that exercise the proxy:
//!
//! | path | answer |
//! | --- | --- |
//! | `/healthz` | 200, or 503 after [`Upstream::set_healthy`]`(false)` |
//! | `/echo` | the request headers, one `name: value` line each |
//! | `/bytes/N` | N bytes, streamed in 64 KiB chunks |
//! | `/upload` | reads the request body as it streams; answers its length |
//! | `/status/N` | status N |
//! | `/slow/MS` | waits MS milliseconds, then answers |
//! | anything else | 200, body `<name>\n`, header `X-Served-By: <name>` and a fake `X-Version`; or 500 for the share set by [`Upstream::set_error_rate`] |
//!
//! Shared by the edge crate's integration tests, the end-to-end tests of the binary and the
//! benchmark upstream (`crates/edge/examples/upstream.rs`): include it with
//! `#[path = "…/tests/support/upstream.rs"] mod upstream;`.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// A running upstream. Dropping it (or [`Upstream::stop`]) closes the listener and every
/// connection, so new connections are refused like those to a crashed process.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

struct State {
    name: String,
    /// The default answer, built once: the benchmark upstream must be cheap.
    body: Bytes,
    served_by: HeaderValue,
    healthy: AtomicBool,
    requests: AtomicU64,
    /// Share of "anything else" requests answered 500, in parts per million.
    error_ppm: AtomicU64,
    /// "Anything else" requests answered so far.
    named: AtomicU64,
    /// Connections open now.
    live: AtomicUsize,
}

/// Counts a connection as open while it lives.
struct Live(Arc<State>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body of `left` bytes, produced chunk by chunk as the client reads.
struct Zeros {
    left: u64,
}

const CHUNK: usize = 64 * 1024;
static ZEROS: [u8; CHUNK] = [b'x'; CHUNK];

impl Upstream {
    /// Starts an upstream called `name` on 127.0.0.1, port chosen by the OS.
    pub async fn start(name: &str) -> Upstream {
        Upstream::start_on(name, "127.0.0.1:0".parse().expect("a socket address")).await
    }

    /// Starts an upstream called `name` on `addr`.
    pub async fn start_on(name: &str, addr: SocketAddr) -> Upstream {
        let listener = TcpListener::bind(addr).await.expect("bind the upstream");
        let addr = listener.local_addr().expect("the upstream's address");
        let state = Arc::new(State {
            name: name.to_string(),
            body: Bytes::from(format!("{name}\n")),
            served_by: HeaderValue::from_str(name).expect("a header value"),
            healthy: AtomicBool::new(true),
            requests: AtomicU64::new(0),
            error_ppm: AtomicU64::new(0),
            named: AtomicU64::new(0),
            live: AtomicUsize::new(0),
        });
        let task = tokio::spawn(serve(listener, Arc::clone(&state)));
        Upstream { addr, state, task }
    }

    /// `host:port`, as the routing spec lists endpoints.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Requests answered so far (health checks included).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Makes `/healthz` answer 200 (true) or 503 (false).
    pub fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::Relaxed);
    }

    /// Answers this share (parts per million) of "anything else" requests with 500, spread
    /// evenly: request `n` fails when `⌊(n+1)·p⌋ > ⌊n·p⌋`, so 10% is every tenth request.
    pub fn set_error_rate(&self, ppm: u32) {
        self.state
            .error_ppm
            .store(u64::from(ppm.min(1_000_000)), Ordering::Relaxed);
    }

    /// Stops listening and closes every connection, and returns once they are closed (an
    /// abort only takes effect when the tasks next run; a pooled connection still open would
    /// otherwise answer a request meant to find the upstream gone). Bounded: panics after 5 s.
    pub async fn stop(&self) {
        self.task.abort();
        for _ in 0..1000 {
            if self.task.is_finished() && self.state.live.load(Ordering::Acquire) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!(
            "upstream {} did not close its connections within 5 s",
            self.state.name
        );
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    // Connection tasks live in the set, so aborting this task closes them all.
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        state.live.fetch_add(1, Ordering::AcqRel);
        let live = Live(Arc::clone(&state));
        conns.spawn(async move {
            let _live = live;
            let service = service_fn(move |req| answer(Arc::clone(&state), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

type Reply = Response<http_body_util::Either<http_body_util::Full<Bytes>, Zeros>>;

/// What a request asks for, read from its path.
enum Ask {
    Health,
    Echo,
    Bytes(u64),
    Upload,
    Status(u16),
    Slow(u64),
    Name,
}

fn ask(path: &str) -> Ask {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match head {
        "healthz" => Ask::Health,
        "echo" => Ask::Echo,
        "bytes" => Ask::Bytes(tail.parse().unwrap_or(0)),
        "upload" => Ask::Upload,
        "status" => Ask::Status(tail.parse().unwrap_or(500)),
        "slow" => Ask::Slow(tail.parse().unwrap_or(0)),
        _ => Ask::Name,
    }
}

async fn answer(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let reply = match ask(req.uri().path()) {
        Ask::Health if state.healthy.load(Ordering::Relaxed) => text(StatusCode::OK, "ok\n".into()),
        Ask::Health => text(StatusCode::SERVICE_UNAVAILABLE, "unhealthy\n".into()),
        Ask::Echo => {
            let lines: String = req
                .headers()
                .iter()
                .map(|(k, v)| format!("{}: {}\n", k, String::from_utf8_lossy(v.as_bytes())))
                .collect();
            text(StatusCode::OK, lines)
        }
        Ask::Bytes(n) => {
            let mut r = Response::new(http_body_util::Either::Right(Zeros { left: n }));
            r.headers_mut().insert("content-length", n.into());
            r
        }
        Ask::Upload => {
            let mut body = req.into_body();
            let mut n: u64 = 0;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => n += f.data_ref().map_or(0, |d| d.len() as u64),
                    Err(_) => return Ok(text(StatusCode::BAD_REQUEST, "broken upload\n".into())),
                }
            }
            text(StatusCode::OK, format!("{n}\n"))
        }
        Ask::Status(code) => text(
            StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
            String::new(),
        ),
        Ask::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            text(StatusCode::OK, format!("{}\n", state.name))
        }
        Ask::Name if fails(&state) => {
            let mut r = text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{} failed\n", state.name),
            );
            r.headers_mut()
                .insert("x-served-by", state.served_by.clone());
            r
        }
        Ask::Name => {
            let mut r = Response::new(http_body_util::Either::Left(http_body_util::Full::new(
                state.body.clone(),
            )));
            r.headers_mut()
                .insert("x-served-by", state.served_by.clone());
            r.headers_mut()
                .insert("x-version", HeaderValue::from_static("spoofed-by-upstream"));
            r
        }
    };
    Ok(reply)
}

/// Whether this "anything else" request is one of the configured failures.
fn fails(state: &State) -> bool {
    let p = state.error_ppm.load(Ordering::Relaxed);
    if p == 0 {
        return false;
    }
    let n = state.named.fetch_add(1, Ordering::Relaxed);
    (n + 1) * p / 1_000_000 > n * p / 1_000_000
}

fn text(status: StatusCode, body: String) -> Reply {
    let mut r = Response::new(http_body_util::Either::Left(http_body_util::Full::new(
        Bytes::from(body),
    )));
    *r.status_mut() = status;
    r
}

impl Body for Zeros {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(CHUNK as u64) as usize;
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&ZEROS[..n])))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}
