//! Bodies in motion against a raw upstream: a response that starts before the request body
//! is read, and a response body that trickles, within the total timeout and past it.

use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::raw::{PATIENCE, RawUpstream, conn_tag, edge_before, get, line, log, relaxed};

const TOO_LARGE: &str =
    "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 10\r\nConnection: close\r\n\r\ntoo large\n";

/// Big enough not to fit the socket buffers on either side of the edge.
const UPLOAD: usize = 8 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_answer_to_a_large_upload_reaches_the_client() {
    let raw = RawUpstream::start(|mut peer| async move {
        let Some(req) = peer.request_head().await else {
            return;
        };
        // The body is never read.
        peer.send(TOO_LARGE).await;
        match req.path.as_str() {
            // Hang up at once, the request body unread (the kernel answers it with a
            // reset).
            "/close" => drop(peer),
            // Keep the connection open, reading nothing, until the test is over.
            _ => tokio::time::sleep(PATIENCE).await,
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for path in ["/hold", "/close"] {
        let upload = vec![b'u'; UPLOAD];
        let sent = h
            .client
            .post(h.url(path))
            .header("X-User-Id", "wire")
            .body(upload)
            .send();
        let r = timeout(PATIENCE, sent)
            .await
            .expect("an answer in time, not a hang")
            .expect("the edge answers");
        assert_eq!(r.status(), 413, "{path}");
        assert_eq!(r.headers()["x-version"], "v1");
        let body = timeout(PATIENCE, r.text()).await.expect("in time");
        assert_eq!(body.expect("the whole body"), "too large\n", "{path}");
    }
    // The rest of the body was read and dropped, so the client's connection is still good
    // (dropping it unread made hyper close the connection under the client).
    assert_eq!(get(&h, "/next").await.status, 413);
    // An HTTP/2 client's stream is reset once the answer is out; its connection stays.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("an HTTP/2 client");
    for path in ["/hold", "/close"] {
        let sent = h2
            .post(h.url(path))
            .header("X-User-Id", "wire")
            .body(vec![b'u'; UPLOAD])
            .send();
        let r = timeout(PATIENCE, sent)
            .await
            .expect("an answer in time, not a hang")
            .expect("the edge answers");
        assert_eq!(
            (r.version(), r.status().as_u16()),
            (reqwest::Version::HTTP_2, 413)
        );
        let body = timeout(PATIENCE, r.text()).await.expect("in time");
        assert_eq!(
            body.expect("the whole body"),
            "too large\n",
            "HTTP/2 {path}"
        );
    }
    assert_eq!(
        log(&raw),
        [
            line(1, "POST", "/hold"),
            line(2, "POST", "/close"),
            line(3, "GET", "/next"),
            line(4, "POST", "/hold"),
            line(5, "POST", "/close"),
        ],
        "a connection whose request body was not all sent is never reused"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_streams_through_piece_by_piece() {
    let (go_tx, go_rx) = mpsc::unbounded_channel::<()>();
    let go_rx = std::sync::Arc::new(tokio::sync::Mutex::new(go_rx));
    let raw = RawUpstream::start(move |mut peer| {
        let go = std::sync::Arc::clone(&go_rx);
        async move {
            while let Some(req) = peer.request().await {
                if req.path != "/trickle" {
                    peer.send(conn_tag(peer.index)).await;
                    continue;
                }
                peer.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await;
                for i in 0..5 {
                    // The next piece only once the client has the previous one.
                    let mut go = go.lock().await;
                    if timeout(PATIENCE, go.recv()).await.ok().flatten().is_none() {
                        return;
                    }
                    peer.send(format!("7\r\ntick {i}\n\r\n")).await;
                }
                peer.send("0\r\n\r\n").await;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    let sent = h
        .client
        .get(h.url("/trickle"))
        .header("X-User-Id", "wire")
        .send();
    let mut r = timeout(PATIENCE, sent)
        .await
        .expect("the head in time")
        .expect("the head");
    assert_eq!(r.status(), 200);
    for i in 0..5 {
        go_tx.send(()).expect("the fake listens");
        let want = format!("tick {i}\n");
        let mut got = Vec::new();
        while got.len() < want.len() {
            let chunk = timeout(PATIENCE, r.chunk())
                .await
                .expect("the piece in time")
                .expect("a body")
                .expect("more body");
            got.extend_from_slice(&chunk);
        }
        assert_eq!(
            got,
            want.as_bytes(),
            "each piece arrives before the next is sent"
        );
    }
    let end = timeout(PATIENCE, r.chunk()).await.expect("the end in time");
    assert!(end.expect("a clean end").is_none());
    assert_eq!(get(&h, "/next").await.text(), "conn 1\n");
    assert_eq!(
        log(&raw),
        [line(1, "GET", "/trickle"), line(1, "GET", "/next")]
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_still_trickling_at_the_total_timeout_is_cut() {
    let (tx, mut cut) = mpsc::unbounded_channel();
    let raw = RawUpstream::start(move |mut peer| {
        let tx = tx.clone();
        async move {
            while let Some(req) = peer.request().await {
                if req.path != "/forever" {
                    peer.send(conn_tag(peer.index)).await;
                    continue;
                }
                peer.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await;
                // A byte every 20 ms, for longer than the total timeout; writing fails once
                // the edge has hung up.
                let mut pieces = 0;
                let hung_up = loop {
                    if pieces == 500 {
                        break false;
                    }
                    if !peer.send("1\r\n.\r\n").await {
                        break true;
                    }
                    pieces += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                };
                let _ = tx.send((hung_up || peer.closed_by_edge().await, pieces));
                return;
            }
        }
    })
    .await;
    let timeouts = json!({"connect": "500ms", "first_byte": "500ms", "total": "600ms"});
    let h = edge_before(&raw, timeouts).await;
    match crate::raw::try_call(&h, reqwest::Method::GET, "/forever").await {
        Ok(r) => {
            assert_eq!(r.status, 200, "the head came in time");
            assert!(r.body.is_err(), "the body is cut: {:?}", r.body);
        }
        // hyper may abort the connection before its buffered head went out.
        Err(e) => assert!(e.is_request(), "{e:?}"),
    }
    let (hung_up, pieces) = timeout(PATIENCE, cut.recv())
        .await
        .expect("in time")
        .expect("a report");
    assert!(
        hung_up,
        "the edge drops the connection at the total timeout"
    );
    assert!(pieces > 0 && pieces < 500, "cut while streaming: {pieces}");
    // The clock starts again for the next request, on a new connection.
    assert_eq!(get(&h, "/next").await.text(), "conn 2\n");
    let m = h.metrics().await;
    let upstream_errors = m
        .lines()
        .find(|l| l.starts_with("rollgate_errors_total{") && l.contains("side=\"upstream\""))
        .unwrap_or_else(|| panic!("no upstream error recorded: {m}"));
    assert!(upstream_errors.ends_with(" 1"), "{upstream_errors}");
    h.shutdown().await;
}
