//! When a pooled upstream connection carries the next request, and when it must not: bodiless
//! responses keep it, an upstream that closed it while idle is noticed, one that closes it
//! under a request gets the request again only when that is safe, and bytes nobody asked
//! for retire it.

use std::sync::Arc;

use reqwest::Method;
use tokio::sync::{Notify, mpsc};
use tokio::time::timeout;

use crate::raw::{
    BAD_GATEWAY, PATIENCE, RawUpstream, call, conn_tag, edge_before, get, line, log, ok, relaxed,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_head_have_no_body_whatever_their_length_says() {
    let raw = RawUpstream::answering(|_, req| match (req.method.as_str(), req.path.as_str()) {
        ("HEAD", "/chunked") => {
            Some("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".into())
        }
        ("HEAD", _) => Some(
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n".into(),
        ),
        _ => None,
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for _ in 0..2 {
        let r = call(&h, Method::HEAD, "/length").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["content-length"], "1000", "the length is kept");
        assert_eq!(r.headers["content-type"], "text/plain");
        assert_eq!(r.text(), "");
    }
    let r = call(&h, Method::HEAD, "/chunked").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "");
    assert_eq!(
        get(&h, "/after").await.text(),
        "conn 1\n",
        "no body was waited for, so the connection is free"
    );
    assert_eq!(raw.accepted(), 1);
    assert_eq!(
        log(&raw),
        [
            line(1, "HEAD", "/length"),
            line(1, "HEAD", "/length"),
            line(1, "HEAD", "/chunked"),
            line(1, "GET", "/after"),
        ]
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_content_and_not_modified_have_no_body_and_keep_the_connection() {
    let raw = RawUpstream::answering(|_, req| match req.path.as_str() {
        "/204" => Some("HTTP/1.1 204 No Content\r\nX-Done: yes\r\n\r\n".into()),
        "/304" => {
            Some("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1000\r\n\r\n".into())
        }
        _ => None,
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    for _ in 0..2 {
        let r = get(&h, "/204").await;
        assert_eq!(r.status, 204);
        assert_eq!(r.headers["x-done"], "yes");
        assert_eq!(r.text(), "");
        let r = get(&h, "/304").await;
        assert_eq!(r.status, 304);
        assert_eq!(r.headers["etag"], "\"v1\"");
        assert_eq!(r.text(), "");
    }
    assert_eq!(get(&h, "/after").await.text(), "conn 1\n");
    assert_eq!(raw.accepted(), 1);
    assert_eq!(log(&raw).len(), 5);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_the_upstream_closed_while_idle_is_replaced_before_sending() {
    let (tx, mut closed) = mpsc::unbounded_channel();
    // One request per connection, although the answer promises keep-alive.
    let raw = RawUpstream::start(move |mut peer| {
        let tx = tx.clone();
        async move {
            if let Some(req) = peer.request().await {
                let body = format!("{} {} on conn {}", req.method, req.path, peer.index);
                peer.send(ok(&body)).await;
            }
            drop(peer);
            let _ = tx.send(());
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    let calls = [
        (Method::GET, "/a"),
        (Method::GET, "/b"),
        // Not safe to repeat, but nothing of it was sent on the dead connection.
        (Method::POST, "/c"),
        (Method::DELETE, "/d"),
    ];
    for (n, (method, path)) in calls.iter().enumerate() {
        let r = call(&h, method.clone(), path).await;
        assert_eq!(r.status, 200, "{method} {path}");
        assert_eq!(r.text(), format!("{method} {path} on conn {}", n + 1));
        // The upstream has closed the connection before the next request.
        timeout(PATIENCE, closed.recv())
            .await
            .expect("closed in time");
    }
    assert_eq!(raw.accepted(), calls.len());
    assert_eq!(
        log(&raw),
        [
            line(1, "GET", "/a"),
            line(2, "GET", "/b"),
            line(3, "POST", "/c"),
            line(4, "DELETE", "/d"),
        ],
        "each request reached the upstream once"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_closed_under_a_request_retries_it_only_when_safe() {
    // `/vanish`: the upstream reads the request and closes the connection without a word.
    let raw = RawUpstream::start(|mut peer| async move {
        while let Some(req) = peer.request().await {
            if req.path == "/vanish" {
                return;
            }
            let body = format!("{} {} on conn {}", req.method, req.path, peer.index);
            if !peer.send(ok(&body)).await {
                return;
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    assert_eq!(get(&h, "/warm").await.text(), "GET /warm on conn 1");
    // A GET is safe to repeat: it goes again, on a new connection.
    let r = get(&h, "/vanish").await;
    assert_eq!(r.status, 502, "conn 2 vanishes too");
    assert_eq!(r.text(), BAD_GATEWAY);
    assert_eq!(
        log(&raw),
        [
            line(1, "GET", "/warm"),
            line(1, "GET", "/vanish"),
            line(2, "GET", "/vanish"),
        ],
        "repeated once, on a new connection, and only once"
    );

    assert_eq!(get(&h, "/warm").await.text(), "GET /warm on conn 3");
    // A POST may have been acted on: it is not repeated.
    let r = call(&h, Method::POST, "/vanish").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.text(), BAD_GATEWAY);
    assert_eq!(get(&h, "/warm").await.text(), "GET /warm on conn 4");
    assert_eq!(
        log(&raw)[3..],
        [
            line(3, "GET", "/warm"),
            line(3, "POST", "/vanish"),
            line(4, "GET", "/warm"),
        ],
        "the POST reached the upstream once"
    );
    assert_eq!(raw.accepted(), 4);
    h.shutdown().await;
}

const EVIL: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_a_complete_response_retire_the_connection() {
    let go = Arc::new(Notify::new());
    let (tx, mut sent) = mpsc::unbounded_channel();
    let raw = RawUpstream::start({
        let go = Arc::clone(&go);
        move |mut peer| {
            let (go, tx) = (Arc::clone(&go), tx.clone());
            async move {
                while let Some(req) = peer.request().await {
                    let i = peer.index;
                    let reply = match req.path.as_str() {
                        // A second response in the same write as the first.
                        "/stray-now" => format!("{}{EVIL}", ok("first\n")),
                        "/stray-no-content" => {
                            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nbody!".into()
                        }
                        "/stray-later" => {
                            peer.send(ok("first\n")).await;
                            // Once the edge has pooled the connection: bytes nobody asked for.
                            let _ = timeout(PATIENCE, go.notified()).await;
                            peer.send(EVIL).await;
                            let _ = tx.send(());
                            continue;
                        }
                        _ => conn_tag(i),
                    };
                    if !peer.send(reply).await {
                        return;
                    }
                }
            }
        }
    })
    .await;
    let h = edge_before(&raw, relaxed()).await;
    assert_eq!(get(&h, "/stray-now").await.text(), "first\n");
    assert_eq!(get(&h, "/next").await.text(), "conn 2\n");

    let r = get(&h, "/stray-no-content").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.text(), "");
    assert_eq!(get(&h, "/next").await.text(), "conn 3\n");

    assert_eq!(get(&h, "/stray-later").await.text(), "first\n");
    go.notify_one();
    timeout(PATIENCE, sent.recv()).await.expect("sent in time");
    assert_eq!(get(&h, "/next").await.text(), "conn 4\n");

    assert_eq!(raw.accepted(), 4);
    assert_eq!(
        log(&raw),
        [
            line(1, "GET", "/stray-now"),
            line(2, "GET", "/next"),
            line(2, "GET", "/stray-no-content"),
            line(3, "GET", "/next"),
            line(3, "GET", "/stray-later"),
            line(4, "GET", "/next"),
        ]
    );
    h.shutdown().await;
}
