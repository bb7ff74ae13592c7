//! The admin listener: `/metrics` (Prometheus text), `/healthz` (the process is alive),
//! `/readyz` (a routing table with a healthy stable endpoint for every service) and
//! `/debug/routing` (the current snapshot as JSON). HTTP/1.1 only, never on the client port.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use rollgate_metrics::Exposition;
use tokio::net::TcpListener;

use crate::body::ProxyBody;
use crate::shared::Shared;
use crate::status;

/// What the admin endpoints read.
#[derive(Clone, Debug)]
pub(crate) struct Admin {
    pub(crate) shared: Arc<Shared>,
    pub(crate) exposition: Option<Exposition>,
}

/// Serves the admin endpoints until `stop` resolves, then lets open admin requests finish
/// for up to `drain`.
pub(crate) async fn serve(
    listener: TcpListener,
    admin: Admin,
    stop: impl Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let admin = admin.clone();
        let service = service_fn(move |req| {
            let admin = admin.clone();
            async move { Ok::<_, Infallible>(answer(&admin, &req)) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!(error = %e, "admin connection ended with an error");
            }
        });
    }
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
}

fn answer(admin: &Admin, req: &Request<Incoming>) -> Response<ProxyBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
    }
    let snap = admin.shared.snapshot();
    match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => {
            let unready = status::unready(&snap);
            if unready.is_empty() {
                text(StatusCode::OK, "ready\n".into())
            } else {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("no healthy stable endpoint: {}\n", unready.join(", ")),
                )
            }
        }
        "/metrics" => {
            let mut out = match &admin.exposition {
                Some(x) => match x.render() {
                    Ok(out) => out,
                    Err(e) => {
                        return text(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("cannot render metrics: {e}\n"),
                        );
                    }
                },
                None => String::new(),
            };
            status::render_gauges(&snap, admin.shared.swaps(), &mut out);
            with_type(
                Response::new(ProxyBody::full(out)),
                "text/plain; version=0.0.4; charset=utf-8",
            )
        }
        "/debug/routing" => {
            let body = serde_json::to_vec_pretty(&status::debug_json(&snap)).unwrap_or_default();
            with_type(Response::new(ProxyBody::full(body)), "application/json")
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /healthz, /readyz or /debug/routing\n".into(),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response<ProxyBody> {
    let mut r = with_type(
        Response::new(ProxyBody::full(body)),
        "text/plain; charset=utf-8",
    );
    *r.status_mut() = status;
    r
}

fn with_type(mut r: Response<ProxyBody>, content_type: &'static str) -> Response<ProxyBody> {
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
