//! A control plane on `MemStore` with the recording publisher and notifier, a scripted metric
//! provider and a hand-moved clock: whole rollouts run in simulated time in milliseconds.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use rollgate_analysis::{CohortMetrics, RolloutMetrics};
use rollgate_control::{
    Clock, ControlOptions, ControlPlane, MetricProvider, MetricQuery, RecordingNotifier,
    RecordingPublisher, ScriptedProvider, SnapshotPublisher, TickReport,
};
use rollgate_core::model::{Action, Phase, UnixMillis};
use rollgate_core::{Cohort, Ppm};
use rollgate_metrics::{MetricValue, SufficientStats};
use rollgate_store::{DecisionQuery, MemStore, Store};

/// The simulated start time (a window boundary).
pub const T0: UnixMillis = 1_700_000_000_000;

/// A service with two versions and a three-step rollout guarded by a relative error
/// condition.
pub const CONFIG: &str = r#"
[control]
window = "1s"

[[services]]
name = "shop"
hosts = ["shop.test"]

[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:1"]

[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:2"]

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"

[rollouts.strategy]
steps = [
  { weight = "10%", min_duration = "10s" },
  { weight = "50%", min_duration = "10s" },
  { weight = "100%" },
]

[rollouts.analysis]
min_samples = 100

[[rollouts.analysis.conditions]]
name = "errors"
fail_when = "error_rate > baseline.error_rate + 1%"
"#;

/// Traffic the scripted provider reports: requests per second and error share per cohort.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    pub rps: u64,
    pub canary_errors: f64,
    pub baseline_errors: f64,
}

impl Default for Traffic {
    fn default() -> Traffic {
        Traffic {
            rps: 50,
            canary_errors: 0.0,
            baseline_errors: 0.0,
        }
    }
}

pub struct Harness {
    pub plane: ControlPlane,
    pub store: Arc<MemStore>,
    pub publisher: Arc<RecordingPublisher>,
    pub notifier: Arc<RecordingNotifier>,
    pub clock: Arc<AtomicI64>,
    pub traffic: Arc<Mutex<Traffic>>,
}

impl Harness {
    pub async fn start(config: &str) -> Harness {
        Harness::start_on(config, Arc::new(MemStore::new())).await
    }

    pub async fn start_on(config: &str, store: Arc<MemStore>) -> Harness {
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let publisher = Arc::new(RecordingPublisher::new());
        Harness::start_with(
            config,
            store.clone(),
            store,
            publisher,
            scripted(&traffic),
            traffic,
        )
        .await
    }

    pub async fn start_with(
        config: &str,
        store: Arc<MemStore>,
        dyn_store: Arc<dyn Store>,
        publisher: Arc<RecordingPublisher>,
        provider: Arc<dyn MetricProvider>,
        traffic: Arc<Mutex<Traffic>>,
    ) -> Harness {
        let config = rollgate_config::parse(config, "test.toml").unwrap();
        let (clock, time) = Clock::manual(T0);
        let notifier = Arc::new(RecordingNotifier::new());
        let opts = ControlOptions::new(&config, Default::default())
            .with_clock(clock)
            .with_notifier(notifier.clone());
        let pub_dyn: Arc<dyn SnapshotPublisher> = publisher.clone();
        let plane = ControlPlane::start(opts, dyn_store, pub_dyn, provider)
            .await
            .unwrap();
        Harness {
            plane,
            store,
            publisher,
            notifier,
            clock: time,
            traffic,
        }
    }

    pub fn now(&self) -> UnixMillis {
        self.clock.load(Ordering::SeqCst)
    }

    /// Moves the clock one second and ticks.
    pub async fn step(&self) -> TickReport {
        self.clock.fetch_add(1_000, Ordering::SeqCst);
        self.plane.tick(self.now()).await
    }

    /// Ticks once a second until `rollout` is in `phase` or `limit` seconds passed; returns
    /// the seconds it took.
    pub async fn run_until(&self, rollout: &str, phase: Phase, limit: u32) -> Option<u32> {
        for s in 1..=limit {
            self.step().await;
            if self.plane.rollout(rollout).await.unwrap().phase == phase {
                return Some(s);
            }
        }
        None
    }

    pub fn set_traffic(&self, t: Traffic) {
        *self.traffic.lock().unwrap() = t;
    }

    pub async fn actions(&self, rollout: &str) -> Vec<Action> {
        self.store
            .list_decisions(&DecisionQuery::for_rollout(rollout))
            .await
            .unwrap()
            .iter()
            .map(|d| d.action)
            .collect()
    }
}

/// A provider reporting `traffic` for every second of the range (cumulative counts).
pub fn scripted(traffic: &Arc<Mutex<Traffic>>) -> Arc<dyn MetricProvider> {
    let traffic = Arc::clone(traffic);
    Arc::new(ScriptedProvider::new(move |q: &MetricQuery| {
        let t = *traffic.lock().unwrap();
        let seconds = u64::try_from((q.to - q.from) / 1_000).unwrap_or(0);
        let n = seconds * t.rps;
        let mut doc = q.empty_document();
        for &cohort in &q.cohorts {
            let rate = if cohort == Cohort::Canary {
                t.canary_errors
            } else {
                t.baseline_errors
            };
            // At 100% nobody is left in the baseline or stable cohorts.
            let n = if cohort != Cohort::Canary && q.weight == Ppm::FULL {
                0
            } else {
                n
            };
            let x = (n as f64 * rate).round() as u64;
            doc.cohorts
                .insert(cohort, cohort_metrics(q.version_of(cohort), n, x));
        }
        Ok(doc)
    }))
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

/// An empty document, for providers that have nothing.
pub fn no_data(q: &MetricQuery) -> RolloutMetrics {
    q.empty_document()
}
