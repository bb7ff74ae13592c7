//! Posts arbitrary bytes as a `POST /v1/events` body to the real router of `rollgate serve`
//! (`rollgate_server::router` over a `ControlPlane` on `MemStore`, seeded from
//! `examples/rollgate.toml`), then hands the same batch to `ControlPlane::record_json_events`.
//!
//! The answer is never a 5xx and never a panic; a read batch accounts for every event exactly
//! once (`accepted + rejected` = the number sent, one error per refused event, by index, in
//! order), and 422 with a report means nothing was accepted. The plane is built once; its clock
//! stands still, so every event lands in the same window and its registry limits bound memory.

#![no_main]

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use http::{Request, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use rollgate_control::{Builtin, Clock, ControlOptions, ControlPlane, Disabled, IngestReport};
use rollgate_server::{EventBatch, IngestResponse, PROBLEM_CONTENT_TYPE, Problem, ServerOptions};
use rollgate_store::MemStore;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// A window boundary; the rollout starts here.
const T0: i64 = 1_700_000_000_000;

struct Setup {
    rt: Runtime,
    plane: ControlPlane,
    router: axum::Router,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let config = rollgate_config::parse(include_str!("../../examples/rollgate.toml"), "example")
        .expect("the example configuration is valid");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (clock, _time) = Clock::manual(T0);
    let opts = ControlOptions::new(&config, Default::default()).with_clock(clock);
    let provider = Arc::new(Builtin::new(opts.windows.clone(), opts.catalog.clone()));
    let plane = rt.block_on(async {
        let plane = ControlPlane::start(
            opts,
            Arc::new(MemStore::new()),
            Arc::new(Disabled),
            provider,
        )
        .await
        .expect("the control plane starts");
        plane.tick(T0).await; // starts the rollout at its first step
        plane
    });
    let router = rollgate_server::router(plane.clone(), ServerOptions::default());
    Setup { rt, plane, router }
});

fuzz_target!(|data: &[u8]| {
    let s = &*SETUP;
    // The batch as the server reads it (serde also takes a struct's sequence form, `[[…]]`).
    let sent = serde_json::from_slice::<EventBatch>(data)
        .ok()
        .map(|b| b.events);
    post(s, data, sent.as_ref().map(Vec::len));
    if let Some(events) = &sent {
        check_report(&s.plane.record_json_events(events), events.len());
    }
});

/// The HTTP path: status, content type and the per-event accounting.
fn post(s: &Setup, data: &[u8], sent: Option<usize>) {
    let req = Request::post("/v1/events")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(data.to_vec()))
        .expect("a request");
    let resp =
        s.rt.block_on(s.router.clone().oneshot(req))
            .expect("routers are infallible");
    let status = resp.status();
    let problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_CONTENT_TYPE.as_bytes());
    let body =
        s.rt.block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
            .expect("the body is in memory");
    assert!(
        matches!(
            status,
            StatusCode::OK
                | StatusCode::BAD_REQUEST
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "{status} for {:?}: {}",
        String::from_utf8_lossy(data),
        String::from_utf8_lossy(&body)
    );
    if problem {
        let p: Problem = serde_json::from_slice(&body).expect("a problem document");
        assert!(!p.detail.is_empty(), "{p:?}");
        assert_ne!(status, StatusCode::OK, "{p:?}");
        return;
    }
    let answer: IngestResponse = serde_json::from_slice(&body).expect("an ingest response");
    let total = sent.expect("the server read a batch, so it parses as one");
    assert_eq!(answer.accepted + answer.rejected, total, "{answer:?}");
    assert_eq!(answer.errors.len(), answer.rejected, "{answer:?}");
    assert!(
        answer.errors.windows(2).all(|w| w[0].index < w[1].index),
        "{answer:?}"
    );
    assert!(
        answer
            .errors
            .iter()
            .all(|e| e.index < total && !e.reason.is_empty()),
        "{answer:?}"
    );
    let none_taken = answer.accepted == 0 && total > 0;
    assert_eq!(
        status == StatusCode::UNPROCESSABLE_ENTITY,
        none_taken,
        "{status} {answer:?}"
    );
}

/// The control plane's own JSON path.
fn check_report(report: &IngestReport, total: usize) {
    assert_eq!(report.accepted + report.rejected.len(), total, "{report:?}");
    assert!(
        report.rejected.windows(2).all(|w| w[0].index < w[1].index),
        "{report:?}"
    );
    assert!(
        report
            .rejected
            .iter()
            .all(|e| e.index < total && !e.reason.is_empty()),
        "{report:?}"
    );
}
