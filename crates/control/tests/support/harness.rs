//! A [`TestPlane`] fed by the scripted provider, with the traffic it reports at hand and
//! helpers that tick once a simulated second: whole rollouts run in milliseconds.
#![allow(dead_code)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use rollgate_control::TickReport;
use rollgate_control::testing::{TestPlane, TestPlaneBuilder, Traffic, scripted};
use rollgate_core::model::{Action, Phase};
use rollgate_store::{DecisionQuery, Store};

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

/// The plane, and the traffic its provider reports.
pub struct Harness {
    pub test: TestPlane,
    pub traffic: Arc<Mutex<Traffic>>,
}

impl Harness {
    pub async fn start(config: &str) -> Harness {
        Harness::start_with(config, |b| b).await
    }

    /// On `store` (a restart on the same state, or a store that misbehaves).
    pub async fn start_on(config: &str, store: Arc<dyn Store>) -> Harness {
        Harness::start_with(config, |b| b.store(store)).await
    }

    /// With whatever else `setup` sets (the provider is the scripted one).
    pub async fn start_with(
        config: &str,
        setup: impl FnOnce(TestPlaneBuilder) -> TestPlaneBuilder,
    ) -> Harness {
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let builder = TestPlane::builder(config).provider(scripted(&traffic));
        Harness {
            test: setup(builder).start().await,
            traffic,
        }
    }

    /// Moves the clock one second and ticks.
    pub async fn step(&self) -> TickReport {
        self.advance(1_000).await
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

/// `h.plane`, `h.store`, `h.publisher`, `h.clock` … of the test plane.
impl Deref for Harness {
    type Target = TestPlane;

    fn deref(&self) -> &TestPlane {
        &self.test
    }
}
