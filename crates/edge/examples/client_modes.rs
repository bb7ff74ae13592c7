//! Measures upstream client designs for the edge, stripped of everything else: a minimal
//! HTTP/1.1 reverse proxy to one upstream, in one of three modes.
//!
//! - `legacy`: `hyper_util::client::legacy::Client` with an `HttpConnector` (its own pool,
//!   a task per connection).
//! - `pool`: the edge's design — our own per-thread pool of `hyper::client::conn::http1`
//!   connections, each driven by its own task.
//! - `inline`: the same connections, but driven by the request's own task (no task per
//!   connection, no cross-task wake-ups per request).
//!
//! ```text
//! cargo run --release -p rollgate-edge --example client_modes -- inline 127.0.0.1:18200 127.0.0.1:18081
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};

type Conn = Connection<TokioIo<TcpStream>, Incoming>;
/// A connection with its sending half, driven by whoever holds it.
type Pair = (SendRequest<Incoming>, Pin<Box<Conn>>);

thread_local! {
    static SPAWNED: RefCell<Vec<SendRequest<Incoming>>> = const { RefCell::new(Vec::new()) };
    static INLINE: RefCell<Vec<Pair>> = const { RefCell::new(Vec::new()) };
}

/// A response body that hands its connection back when it ends.
struct Relay {
    inner: Incoming,
    back: Back,
}

enum Back {
    None,
    Spawned(Option<SendRequest<Incoming>>),
    Inline(Option<Pair>),
}

impl Body for Relay {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        if let Back::Inline(Some((_, conn))) = &mut this.back
            && let Poll::Ready(r) = conn.as_mut().poll(cx)
        {
            r?;
        }
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        if this.inner.is_end_stream() || frame.is_none() {
            match std::mem::replace(&mut this.back, Back::None) {
                Back::Spawned(Some(tx)) => SPAWNED.with(|p| p.borrow_mut().push(tx)),
                Back::Inline(Some(pair)) => INLINE.with(|p| p.borrow_mut().push(pair)),
                _ => {}
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

async fn handshake(upstream: SocketAddr) -> (SendRequest<Incoming>, Conn) {
    let stream = TcpStream::connect(upstream).await.unwrap();
    stream.set_nodelay(true).unwrap();
    http1::handshake(TokioIo::new(stream)).await.unwrap()
}

async fn spawned(upstream: SocketAddr, req: Request<Incoming>) -> Response<Relay> {
    let pooled = SPAWNED.with(|p| p.borrow_mut().pop());
    let mut tx = match pooled {
        Some(tx) => tx,
        None => {
            let (tx, conn) = handshake(upstream).await;
            tokio::spawn(conn);
            tx
        }
    };
    tx.ready().await.unwrap();
    let resp = tx.send_request(req).await.unwrap();
    resp.map(|inner| Relay {
        inner,
        back: Back::Spawned(Some(tx)),
    })
}

async fn inline(upstream: SocketAddr, req: Request<Incoming>) -> Response<Relay> {
    let pooled = INLINE.with(|p| p.borrow_mut().pop());
    let (mut tx, mut conn) = match pooled {
        Some(pair) => pair,
        None => {
            let (tx, conn) = handshake(upstream).await;
            (tx, Box::pin(conn))
        }
    };
    let mut sent = std::pin::pin!(tx.send_request(req));
    let resp = std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = conn.as_mut().poll(cx) {
            r.unwrap();
        }
        sent.as_mut().poll(cx)
    })
    .await
    .unwrap();
    resp.map(|inner| Relay {
        inner,
        back: Back::Inline(Some((tx, conn))),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, listen, upstream) = (
        args[0].clone(),
        args[1].parse::<SocketAddr>().unwrap(),
        args[2].parse::<SocketAddr>().unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = TcpListener::bind(listen).await.unwrap();
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let legacy: Client<HttpConnector, Incoming> =
            Client::builder(TokioExecutor::new()).build(connector);
        println!("{mode} proxy on {listen} → {upstream}");
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mode, legacy) = (mode.clone(), legacy.clone());
            tokio::spawn(async move {
                let service = service_fn(move |mut req: Request<Incoming>| {
                    let (mode, legacy) = (mode.clone(), legacy.clone());
                    async move {
                        let resp = match mode.as_str() {
                            "legacy" => {
                                let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
                                *req.uri_mut() =
                                    format!("http://{upstream}{pq}").parse::<Uri>().unwrap();
                                let resp = legacy.request(req).await.unwrap();
                                resp.map(|inner| Relay {
                                    inner,
                                    back: Back::None,
                                })
                            }
                            "pool" => spawned(upstream, req).await,
                            _ => inline(upstream, req).await,
                        };
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
