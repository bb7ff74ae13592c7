//! One reconcile tick with 50 active rollouts on `MemStore`: list, observe (scripted metrics,
//! analysis verdict on a new window), reconcile, and the occasional checkpoint commit.
//!
//! `cargo bench -p rollgate-control --bench tick`
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_control::testing::{TestPlane, Traffic, many_rollouts, scripted};

const ROLLOUTS: usize = 50;

/// Each rollout's analysis: a relative and an absolute error condition.
const ANALYSIS: &str = r#"[rollouts.analysis]
min_samples = 100
[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > baseline.error_rate + 1%"
[[rollouts.analysis.conditions]]
name = "errors-abs"
fail_when = "error_rate > 5%"
"#;

fn config() -> String {
    format!(
        "[control]\nwindow = \"1s\"\n{}",
        many_rollouts(ROLLOUTS, ANALYSIS)
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let traffic = Arc::new(Mutex::new(Traffic {
        rps: 20,
        canary_errors: 0.01,
        baseline_errors: 0.01,
    }));
    let test = rt.block_on(
        TestPlane::builder(&config())
            .provider(scripted(&traffic))
            .start(),
    );
    // Start every rollout, then measure the steady state.
    let report = rt.block_on(test.advance(1_000));
    assert_eq!(report.commits, ROLLOUTS);
    c.bench_function("tick/50 rollouts, memstore, new window each tick", |b| {
        b.iter(|| rt.block_on(test.advance(1_000)));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
