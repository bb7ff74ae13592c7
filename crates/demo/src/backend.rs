//! A demo version: a small HTTP/1.1 shop on 127.0.0.1 whose answers really take the time and
//! really fail as its [`Behaviour`] says. The rollout sees it only through the proxy.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /healthz` | 200 at once (health checks never fail or wait) |
//! | `GET /` | the shop's page naming the version |
//! | `GET /api/products` | a JSON product list |
//! | `POST /api/checkout` | `{"completed": true, "order": …}` or `{"completed": false, …}` |
//! | anything else | 404 |
//!
//! Every answer but `/healthz` waits the behaviour's latency first, and fails with a 500 as
//! often as its error rate says.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::behaviour::Behaviour;

/// A running demo version. Dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct Backend {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    behaviour: Behaviour,
    seed: u64,
    connections: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
}

const PRODUCTS: &str = r#"[{"id":"p-100","name":"Trail shoes","price":89.0},{"id":"p-101","name":"Rain jacket","price":129.0},{"id":"p-102","name":"Wool socks","price":14.5},{"id":"p-103","name":"Day pack","price":64.0}]"#;

impl Backend {
    /// Starts a version on 127.0.0.1 at a free port. `seed` makes its draws repeatable.
    pub async fn start(behaviour: Behaviour, seed: u64) -> std::io::Result<Backend> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            behaviour,
            seed,
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        });
        let task = tokio::spawn(serve(listener, Arc::clone(&state)));
        Ok(Backend { addr, state, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How it behaves.
    pub fn behaviour(&self) -> &Behaviour {
        &self.state.behaviour
    }

    /// Requests answered so far (health checks excluded), and how many of them failed.
    pub fn served(&self) -> (u64, u64) {
        (
            self.state.requests.load(Ordering::Relaxed),
            self.state.failures.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Backend {
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
        let n = state.connections.fetch_add(1, Ordering::Relaxed);
        let rng = Arc::new(Mutex::new(SmallRng::seed_from_u64(
            state
                .seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(n),
        )));
        let state = Arc::clone(&state);
        conns.spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&state), Arc::clone(&rng), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

async fn answer(
    state: Arc<State>,
    rng: Arc<Mutex<SmallRng>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let b = &state.behaviour;
    if req.uri().path() == "/healthz" {
        return Ok(reply(
            StatusCode::OK,
            "text/plain",
            Bytes::from_static(b"ok\n"),
        ));
    }
    let (delay, fails, completes) = {
        let mut rng = rng.lock().await;
        (
            b.latency(&mut *rng),
            b.fails(&mut *rng),
            b.completes_checkout(&mut *rng),
        )
    };
    tokio::time::sleep(delay).await;
    state.requests.fetch_add(1, Ordering::Relaxed);
    if fails {
        state.failures.fetch_add(1, Ordering::Relaxed);
        let body = format!("{} could not answer: internal error\n", b.version);
        return Ok(reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            body.into(),
        ));
    }
    let n = state.requests.load(Ordering::Relaxed);
    let page = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => reply(StatusCode::OK, "text/html", page(&b.version).into()),
        (&Method::GET, "/api/products") => reply(
            StatusCode::OK,
            "application/json",
            Bytes::from_static(PRODUCTS.as_bytes()),
        ),
        (&Method::POST, "/api/checkout") => {
            let body = if completes {
                format!(r#"{{"completed":true,"order":"o-{}-{n}"}}"#, b.version)
            } else {
                r#"{"completed":false,"reason":"the payment step did not load"}"#.to_string()
            };
            reply(StatusCode::OK, "application/json", body.into())
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found\n"),
        ),
    };
    Ok(page)
}

fn page(version: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><title>Rollgate demo shop</title></head>\n\
         <body data-version=\"{version}\"><h1>Demo shop</h1><p>Served by {version}.</p>\n\
         <div id=\"products\" data-src=\"/api/products\"></div>\
         <form method=\"post\" action=\"/api/checkout\"><button>Buy</button></form></body></html>\n"
    )
}

fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::{Duration, Instant};

    use super::*;

    async fn get(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let status = out[9..12].parse().unwrap();
        let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        (status, body)
    }

    #[tokio::test]
    async fn answers_pages_products_and_checkouts_slowly_as_configured() {
        let slow = Behaviour {
            extra_latency: Duration::from_millis(100),
            checkout_completion: 1.0,
            ..Behaviour::healthy("v2")
        };
        let backend = Backend::start(slow, 1).await.unwrap();
        let t = Instant::now();
        let (status, body) = get(backend.addr(), "GET", "/").await;
        assert_eq!(status, 200);
        assert!(body.contains("Served by v2"), "{body}");
        assert!(t.elapsed() >= Duration::from_millis(100));
        let (_, products) = get(backend.addr(), "GET", "/api/products").await;
        assert!(products.contains("Trail shoes"));
        let (_, order) = get(backend.addr(), "POST", "/api/checkout").await;
        assert!(
            order.starts_with(r#"{"completed":true,"order":"o-v2-"#),
            "{order}"
        );
        let health = Instant::now();
        assert_eq!(get(backend.addr(), "GET", "/healthz").await.0, 200);
        assert!(health.elapsed() < Duration::from_millis(100));
        assert_eq!(get(backend.addr(), "GET", "/nope").await.0, 404);
        assert_eq!(backend.served(), (4, 0));
    }

    #[tokio::test]
    async fn a_failing_version_really_answers_500() {
        let broken = Behaviour {
            error_rate: 1.0,
            median_latency: Duration::from_millis(1),
            ..Behaviour::healthy("v2")
        };
        let backend = Backend::start(broken, 1).await.unwrap();
        let (status, body) = get(backend.addr(), "GET", "/").await;
        assert_eq!(status, 500);
        assert!(body.contains("v2 could not answer"));
        assert_eq!(backend.served(), (1, 1));
    }
}
