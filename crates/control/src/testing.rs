//! Test support for the crates that run a control plane in their tests and benches (the
//! `testing` feature: enable it in `[dev-dependencies]` only). [`TestPlane`] starts a plane
//! from configuration text on `MemStore` (or a store of the test's choice) with a hand-moved
//! clock, the recording publisher and notifier, and the built-in metric provider or a scripted
//! one, so whole rollouts run in simulated time in milliseconds. [`scripted`] reports steady
//! [`Traffic`]; [`many_rollouts`] writes the configuration of a large installation.
//!
//! Everything here panics instead of returning errors: a test that cannot start its plane has
//! nothing else to do.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rollgate_analysis::CohortMetrics;
use rollgate_config::Config;
use rollgate_core::model::UnixMillis;
use rollgate_core::{Cohort, EdgeContext, Ppm};
use rollgate_metrics::{MetricValue, Recorder, SufficientStats};
use rollgate_store::{MemStore, Store};

use crate::notifier::{Notifier, RecordingNotifier};
use crate::options::{Clock, ControlOptions, recorder};
use crate::plane::ControlPlane;
use crate::provider::{Builtin, MetricProvider, MetricQuery, ScriptedProvider};
use crate::publisher::RecordingPublisher;
use crate::view::TickReport;

/// Where a [`TestPlane`]'s clock starts unless told otherwise: a window boundary
/// (2023-11-14 22:13:20 UTC).
pub const T0: UnixMillis = 1_700_000_000_000;

/// A control plane started for a test, with the fakes around it.
pub struct TestPlane {
    /// The plane.
    pub plane: ControlPlane,
    /// The store it runs on.
    pub store: Arc<dyn Store>,
    /// Every snapshot it published.
    pub publisher: Arc<RecordingPublisher>,
    /// Every notification it sent (none when the builder was given another notifier).
    pub notifier: Arc<RecordingNotifier>,
    /// The clock the plane reads: store a time or add to it to move it.
    pub clock: Arc<AtomicI64>,
    /// A recorder cutting the plane's windows and knowing its catalog's events: record edge
    /// traffic into it and hand `close_until(now)` to [`ControlPlane::ingest_windows`].
    pub edge: Arc<Recorder>,
}

/// How a [`TestPlane`] starts: from [`TestPlane::builder`] or [`TestPlane::from_config`].
#[must_use]
pub struct TestPlaneBuilder {
    config: Config,
    store: Option<Arc<dyn Store>>,
    provider: Option<Arc<dyn MetricProvider>>,
    notifier: Option<Arc<dyn Notifier>>,
    edge_context: EdgeContext,
    start: UnixMillis,
}

/// What a [`scripted`] provider reports: requests per second, and the share of them that
/// failed in the canary and in the baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Traffic {
    /// Requests per second in each cohort.
    pub rps: u64,
    /// The canary's error share (`0.01` is 1%).
    pub canary_errors: f64,
    /// The baseline's (and stable's) error share.
    pub baseline_errors: f64,
}

impl TestPlane {
    /// Starts the plane of `config` (TOML) with every default of [`TestPlane::builder`].
    pub async fn start(config: &str) -> TestPlane {
        TestPlane::builder(config).start().await
    }

    /// A plane of `config` (TOML): on a fresh `MemStore`, with the built-in metric provider,
    /// the recording notifier, the default edge context and the clock at [`T0`].
    ///
    /// # Panics
    /// When `config` is not a valid configuration.
    pub fn builder(config: &str) -> TestPlaneBuilder {
        let config = rollgate_config::parse(config, "test.toml")
            .unwrap_or_else(|e| panic!("the test configuration is not valid: {e}"));
        TestPlane::from_config(config)
    }

    /// The same as [`TestPlane::builder`], from a configuration already read.
    pub fn from_config(config: Config) -> TestPlaneBuilder {
        TestPlaneBuilder {
            config,
            store: None,
            provider: None,
            notifier: None,
            edge_context: EdgeContext::default(),
            start: T0,
        }
    }

    /// Now, by the plane's clock.
    pub fn now(&self) -> UnixMillis {
        self.clock.load(Ordering::SeqCst)
    }

    /// Moves the clock `ms` forward and runs one reconcile tick at the new time.
    pub async fn advance(&self, ms: i64) -> TickReport {
        let now = self.clock.fetch_add(ms, Ordering::SeqCst) + ms;
        self.plane.tick(now).await
    }
}

impl TestPlaneBuilder {
    /// Runs on `store` instead of a fresh `MemStore` (to restart on the same state, or to use
    /// a store that misbehaves on purpose).
    pub fn store(mut self, store: Arc<dyn Store>) -> TestPlaneBuilder {
        self.store = Some(store);
        self
    }

    /// Reads metrics from `provider` instead of the built-in provider.
    pub fn provider(mut self, provider: Arc<dyn MetricProvider>) -> TestPlaneBuilder {
        self.provider = Some(provider);
        self
    }

    /// Tells `notifier` about decisions instead of the recording notifier.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> TestPlaneBuilder {
        self.notifier = Some(notifier);
        self
    }

    /// Builds routing tables with `context` (geo source, overrides).
    pub fn edge_context(mut self, context: EdgeContext) -> TestPlaneBuilder {
        self.edge_context = context;
        self
    }

    /// Starts the clock at `start` instead of [`T0`].
    pub fn start_at(mut self, start: UnixMillis) -> TestPlaneBuilder {
        self.start = start;
        self
    }

    /// Starts the plane (seeds the store, publishes the first snapshot). No tick runs yet.
    ///
    /// # Panics
    /// When the plane does not start (the store fails, the configuration does not build).
    pub async fn start(self) -> TestPlane {
        let (clock, time) = Clock::manual(self.start);
        let notifier = Arc::new(RecordingNotifier::new());
        let opts = ControlOptions::new(&self.config, self.edge_context)
            .with_clock(clock)
            .with_notifier(self.notifier.unwrap_or_else(|| notifier.clone()));
        let edge = Arc::new(recorder(opts.window_ms, &opts.catalog));
        let provider = self.provider.unwrap_or_else(|| {
            Arc::new(Builtin::new(
                opts.windows.clone(),
                Arc::clone(&opts.catalog),
            ))
        });
        let store = self.store.unwrap_or_else(|| Arc::new(MemStore::new()));
        let publisher = Arc::new(RecordingPublisher::new());
        let plane = ControlPlane::start(opts, Arc::clone(&store), publisher.clone(), provider)
            .await
            .unwrap_or_else(|e| panic!("the test control plane did not start: {e}"));
        TestPlane {
            plane,
            store,
            publisher,
            notifier,
            clock: time,
            edge,
        }
    }
}

impl Default for Traffic {
    /// 50 requests per second, no errors.
    fn default() -> Traffic {
        Traffic {
            rps: 50,
            canary_errors: 0.0,
            baseline_errors: 0.0,
        }
    }
}

/// A provider reporting what `traffic` holds when asked, for every second of the range:
/// `error_rate` and `requests` per cohort (at 100% nobody is left in the baseline and stable
/// cohorts). Change the traffic through the mutex while the plane runs.
pub fn scripted(traffic: &Arc<Mutex<Traffic>>) -> Arc<dyn MetricProvider> {
    let traffic = Arc::clone(traffic);
    Arc::new(ScriptedProvider::new(move |q: &MetricQuery| {
        let t = *traffic.lock().unwrap_or_else(PoisonError::into_inner);
        let seconds = u64::try_from((q.to - q.from) / 1_000).unwrap_or(0);
        let mut doc = q.empty_document();
        for &cohort in &q.cohorts {
            let (n, rate) = match cohort {
                Cohort::Canary => (seconds * t.rps, t.canary_errors),
                _ if q.weight == Ppm::FULL => (0, t.baseline_errors),
                _ => (seconds * t.rps, t.baseline_errors),
            };
            let errors = (n as f64 * rate).round() as u64;
            doc.cohorts
                .insert(cohort, cohort_metrics(q.version_of(cohort), n, errors));
        }
        Ok(doc)
    }))
}

/// The configuration of `count` services `svc0`, `svc1` … each with versions `v1` and `v2`
/// and a rollout `svc{i}-v2` that holds 10% for an hour, its `[rollouts.analysis]` tables
/// being `analysis` (TOML). Append it to a `[control]` table or another configuration.
pub fn many_rollouts(count: usize, analysis: &str) -> String {
    let mut text = String::new();
    for i in 0..count {
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            r#"
[[services]]
name = "svc{i}"
hosts = ["svc{i}.test"]
[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:1"]
[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:2"]
[[rollouts]]
name = "svc{i}-v2"
service = "svc{i}"
stable = "v1"
canary = "v2"
[rollouts.strategy]
steps = [{{ weight = "10%", min_duration = "1h" }}, {{ weight = "100%" }}]
{analysis}"#
        );
    }
    text
}

fn cohort_metrics(version: &str, n: u64, errors: u64) -> CohortMetrics {
    let value = |v: Option<f64>, stats| MetricValue {
        value: v,
        samples: n,
        stats,
    };
    CohortMetrics {
        version: version.into(),
        metrics: BTreeMap::from([
            (
                "error_rate".to_string(),
                value(
                    (n > 0).then(|| errors as f64 / n as f64),
                    SufficientStats::Ratio {
                        numerator: errors,
                        denominator: n,
                    },
                ),
            ),
            (
                "requests".to_string(),
                value(Some(n as f64), SufficientStats::Count { count: n }),
            ),
        ]),
    }
}
