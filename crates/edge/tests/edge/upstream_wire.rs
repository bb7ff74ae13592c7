//! The edge's own HTTP/1.1 client against upstreams that send exact, often hostile, bytes:
//! how response bodies are delimited, which responses are refused, and when the connection
//! goes back to the pool. Reuse is read off the fake's log: which connection each request
//! came on.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::raw::{
    BAD_GATEWAY, PATIENCE, RawUpstream, conn_tag, edge_before, get, line, log, ok, relaxed,
    try_call,
};

const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n\
     5;name=value\r\nhello\r\n\
     7;quoted=\"a;b\";flag\r\n, world\r\n\
     A \t;pad\r\n from conn\r\n\
     0;last=yes\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_with_extensions_and_trailers_arrive_whole_and_keep_the_connection() {
    let raw = RawUpstream::start(|mut peer| async move {
        while let Some(req) = peer.request().await {
            if req.path == "/dribble" {
                // One byte per write: every state of the decoder meets the end of a read.
                for b in CHUNKED.as_bytes() {
                    if !peer.send([*b]).await {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            } else if !peer.send(CHUNKED).await {
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for path in ["/whole", "/dribble", "/whole"] {
        let r = get(&h, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.headers.get("content-length").is_none(),
            "no length was known"
        );
        assert!(r.headers.get("trailer").is_none(), "Trailer is hop-by-hop");
        assert_eq!(r.text(), "hello, world from conn", "{path}");
    }
    // Trailers reach HTTP/2 clients (HTTP/1.1 clients do not get them: `Trailer` is
    // hop-by-hop, so hyper has no leave to send them).
    let h2 = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Empty<Bytes>>();
    let uri = h.url("/h2").parse().expect("a URI");
    let r = timeout(PATIENCE, h2.get(uri))
        .await
        .expect("in time")
        .expect("an answer");
    assert_eq!(r.status(), 200);
    let whole = timeout(PATIENCE, r.into_body().collect())
        .await
        .expect("in time")
        .expect("the whole body");
    let trailers = whole.trailers().cloned().expect("trailers");
    assert_eq!(trailers["x-checksum"], "abc");
    assert_eq!(trailers["x-other"], "1");
    assert_eq!(whole.to_bytes(), "hello, world from conn");
    assert_eq!(raw.accepted(), 1, "one connection for all four");
    assert_eq!(
        log(&raw),
        [
            line(1, "GET", "/whole"),
            line(1, "GET", "/dribble"),
            line(1, "GET", "/whole"),
            line(1, "GET", "/h2"),
        ]
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_delimited_body_arrives_whole_and_its_connection_is_not_reused() {
    let big: String = (0..20_000).map(|i| format!("{i:05}\n")).collect();
    let body = big.clone();
    let raw = RawUpstream::start(move |mut peer| {
        let body = body.clone();
        async move {
            if peer.request().await.is_some() {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
                peer.send(format!("{head}conn {}\n{body}", peer.index))
                    .await;
            }
            // Dropping the peer closes the connection: the end of the body.
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for conn in 1..=2 {
        let r = get(&h, "/until-close").await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("content-length").is_none());
        let text = r.text();
        assert_eq!(text.len(), "conn 1\n".len() + big.len());
        assert_eq!(text, format!("conn {conn}\n{big}"));
    }
    assert_eq!(
        raw.accepted(),
        2,
        "a body that ends with the connection ends it"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_responses_keep_the_connection_only_when_they_say_keep_alive() {
    let raw = RawUpstream::start(|mut peer| async move {
        while let Some(req) = peer.request().await {
            let i = peer.index;
            let reply = match req.path.as_str() {
                // The fake keeps the connection open all the same: only the edge's
                // bookkeeping stops a second request on it.
                "/length" => format!("HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nconn {i}\n"),
                "/keep-alive" => format!(
                    "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n\
                     Content-Length: 7\r\n\r\nconn {i}\n"
                ),
                "/until-close" => {
                    peer.send(format!("HTTP/1.0 200 OK\r\n\r\nconn {i}\nand more\n"))
                        .await;
                    return;
                }
                _ => conn_tag(i),
            };
            if !peer.send(reply).await {
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    assert_eq!(get(&h, "/length").await.text(), "conn 1\n");
    assert_eq!(get(&h, "/length").await.text(), "conn 2\n");
    assert_eq!(get(&h, "/until-close").await.text(), "conn 3\nand more\n");
    let r = get(&h, "/keep-alive").await;
    assert!(r.headers.get("keep-alive").is_none(), "hop-by-hop");
    assert_eq!(r.text(), "conn 4\n");
    assert_eq!(get(&h, "/keep-alive").await.text(), "conn 4\n");
    assert_eq!(raw.accepted(), 4);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interim_responses_are_skipped() {
    let raw = RawUpstream::start(|mut peer| async move {
        while let Some(req) = peer.request().await {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            // Each head in its own write, then one write with both.
            let sent = peer.send("HTTP/1.1 100 Continue\r\n\r\n").await
                && peer
                    .send("HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n")
                    .await
                && peer
                    .send(format!(
                        "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n{}",
                        ok(&format!("{} {body} on conn {}", req.method, peer.index))
                    ))
                    .await;
            if !sent {
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    let r = get(&h, "/continue").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers.get("link").is_none(),
        "interim headers are not kept"
    );
    assert!(r.headers.get("x-interim").is_none());
    assert_eq!(r.text(), "GET  on conn 1");
    let r = h
        .client
        .post(h.url("/continue"))
        .header("X-User-Id", "wire")
        .body("payload")
        .send()
        .await
        .expect("the edge answers");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("the body"), "POST payload on conn 1");
    assert_eq!(raw.accepted(), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_protocols_is_refused_with_a_502() {
    let (tx, mut closed) = mpsc::unbounded_channel();
    let raw = RawUpstream::start(move |mut peer| {
        let tx = tx.clone();
        async move {
            while let Some(req) = peer.request().await {
                if req.path != "/upgrade" {
                    peer.send(conn_tag(peer.index)).await;
                    continue;
                }
                peer.send(
                    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\
                     Upgrade: websocket\r\n\r\n\x01\x05hello",
                )
                .await;
                let _ = tx.send(peer.closed_by_edge().await);
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    let r = get(&h, "/upgrade").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.headers["x-version"], "v1");
    assert!(r.headers.get("upgrade").is_none());
    assert_eq!(r.text(), BAD_GATEWAY);
    let closed = timeout(PATIENCE, closed.recv()).await.expect("in time");
    assert_eq!(
        closed,
        Some(true),
        "the edge hangs up on the upgraded connection"
    );
    assert_eq!(get(&h, "/after").await.text(), "conn 2\n");
    h.shutdown().await;
}

/// Response heads the edge must refuse, each with why.
fn broken_heads() -> Vec<(&'static str, String)> {
    let huge_value = format!(
        "HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Length: 2\r\n\r\nok",
        "a".repeat(70 * 1024)
    );
    let huge_many: String = (0..90)
        .map(|i| format!("X-F{i}: {}\r\n", "b".repeat(800)))
        .collect();
    let too_many: String = (0..101).map(|i| format!("X-F{i}: 1\r\n")).collect();
    vec![
        (
            "conflicting Content-Length",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".into(),
        ),
        (
            "conflicting Content-Length in one field",
            "HTTP/1.1 200 OK\r\nContent-Length: 4, 3\r\n\r\nabcd".into(),
        ),
        (
            "negative Content-Length",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n".into(),
        ),
        (
            "non-numeric status",
            "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n".into(),
        ),
        (
            "status out of range",
            "HTTP/1.1 1000 Big\r\nContent-Length: 0\r\n\r\n".into(),
        ),
        ("not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n".into()),
        (
            // RFC 9112 §6.1: the framing of such a message is faulty (a smuggling attempt).
            "Transfer-Encoding in an HTTP/1.0 response",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n\
             5\r\nhello\r\n0\r\n\r\n"
                .into(),
        ),
        (
            "space in a header name",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n".into(),
        ),
        ("a head over 64 KiB in one field", huge_value),
        (
            "a head over 64 KiB in many fields",
            format!("HTTP/1.1 200 OK\r\n{huge_many}Content-Length: 0\r\n\r\n"),
        ),
        (
            "more than 100 fields",
            format!("HTTP/1.1 200 OK\r\n{too_many}Content-Length: 0\r\n\r\n"),
        ),
        (
            "a head cut short by the close",
            "HTTP/1.1 200 OK\r\nContent-Le".into(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_response_heads_are_502s_and_their_connections_are_dropped() {
    let heads = broken_heads();
    let (tx, mut closed) = mpsc::unbounded_channel();
    let replies: Vec<String> = heads.iter().map(|(_, raw)| raw.clone()).collect();
    let raw = RawUpstream::start(move |mut peer| {
        let (tx, replies) = (tx.clone(), replies.clone());
        async move {
            while let Some(req) = peer.request().await {
                let Some(n) = req.path.strip_prefix("/bad/") else {
                    peer.send(conn_tag(peer.index)).await;
                    continue;
                };
                let n: usize = n.parse().expect("a case number");
                peer.send(&replies[n]).await;
                if replies[n].ends_with("Content-Le") {
                    return;
                }
                let _ = tx.send((n, peer.closed_by_edge().await));
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for (n, (why, _)) in heads.iter().enumerate() {
        let r = get(&h, &format!("/bad/{n}")).await;
        assert_eq!(r.status, 502, "{why}");
        assert_eq!(
            r.headers["content-type"], "text/plain; charset=utf-8",
            "{why}"
        );
        assert_eq!(r.text(), BAD_GATEWAY, "{why}");
        if !why.contains("cut short") {
            let seen = timeout(PATIENCE, closed.recv()).await.expect("in time");
            assert_eq!(seen, Some((n, true)), "{why}: the edge hangs up");
        }
    }
    assert_eq!(raw.accepted(), heads.len(), "a new connection for each");
    let r = get(&h, "/fine").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), format!("conn {}\n", heads.len() + 1));
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_broken_midway_aborts_the_response_and_drops_the_connection() {
    let broken = [
        (
            "/bad-chunk-size",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "zz\r\nmore\r\n0\r\n\r\n",
        ),
        (
            "/chunk-too-long",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "3\r\nmore than three\r\n0\r\n\r\n",
        ),
        (
            "/short-length",
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello",
            "",
        ),
        (
            "/chunked-cut",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "",
        ),
    ];
    let (tx, mut closed) = mpsc::unbounded_channel();
    let raw = RawUpstream::start(move |mut peer| {
        let tx = tx.clone();
        async move {
            while let Some(req) = peer.request().await {
                let Some((_, first, rest)) = broken.iter().find(|(p, ..)| *p == req.path) else {
                    peer.send(conn_tag(peer.index)).await;
                    continue;
                };
                peer.send(first).await;
                if rest.is_empty() {
                    // The upstream dies in the middle of the body.
                    return;
                }
                tokio::task::yield_now().await;
                peer.send(rest).await;
                let _ = tx.send(peer.closed_by_edge().await);
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for (n, (path, _, rest)) in broken.iter().enumerate() {
        // The head may have gone out before the body broke, or hyper may abort the
        // connection with the head still in its buffer: either way the response is cut.
        match try_call(&h, reqwest::Method::GET, path).await {
            Ok(r) => {
                assert_eq!(r.status, 200, "{path}: the head was fine");
                assert!(r.body.is_err(), "{path}: the body must break: {:?}", r.body);
            }
            Err(e) => assert!(e.is_request(), "{path}: {e:?}"),
        }
        if !rest.is_empty() {
            let seen = timeout(PATIENCE, closed.recv()).await.expect("in time");
            assert_eq!(seen, Some(true), "{path}: the edge hangs up");
        }
        let r = get(&h, "/after").await;
        assert_eq!(
            r.text(),
            format!("conn {}\n", n + 2),
            "{path}: a new connection"
        );
        assert_eq!(raw.accepted(), n + 2);
    }
    h.shutdown().await;
}
