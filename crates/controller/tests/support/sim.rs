//! A simulated world for whole rollouts in simulated time: per-second traffic split by the
//! rollout's weight into canary and matched baseline, binomial errors per cohort, a simple
//! sequential-enough health check (`error_rate > 5%` with a 99.9% Wilson interval over the last
//! minute), and a restart (state through JSON) after every reconcile, as if the process were
//! killed and started again each second.
#![allow(dead_code)]

use std::collections::VecDeque;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rollgate_controller::{
    Command, Health, Observation, Outcome, RolloutPlan, RolloutState, Transition, apply_command,
    reconcile,
};
use rollgate_core::model::{Actor, DecisionRecord, UnixMillis};
use rollgate_core::{Cohort, Ppm};
use serde_json::json;

/// Requests per second from the rollout's whole audience.
pub const RPS: u64 = 2_000;
/// Canary samples before the health check gives a verdict.
pub const MIN_SAMPLES: u64 = 300;
/// The failure threshold of the `errors` condition.
pub const THRESHOLD: f64 = 0.05;
const Z: f64 = 3.29;
const WINDOW_SECONDS: usize = 60;

#[derive(Clone, Copy, Default)]
struct Counts {
    canary: (u64, u64),
    baseline: (u64, u64),
}

/// The canary's true error rate, given the rollout state and the time.
pub type ErrorModel = Box<dyn Fn(&RolloutState, UnixMillis) -> f64>;

pub struct Sim {
    pub plan: RolloutPlan,
    pub state: RolloutState,
    pub now: UnixMillis,
    pub log: Vec<DecisionRecord>,
    /// Every weight published, with the time.
    pub published: Vec<(UnixMillis, Ppm)>,
    canary_error: ErrorModel,
    baseline_error: f64,
    rng: Xoshiro256PlusPlus,
    windows: VecDeque<Counts>,
    step_samples: u64,
    step_since: UnixMillis,
}

impl Sim {
    pub fn new(plan: RolloutPlan, canary_error: ErrorModel) -> Sim {
        Sim {
            plan,
            state: RolloutState::new(0),
            now: 0,
            log: Vec::new(),
            published: Vec::new(),
            canary_error,
            baseline_error: 0.005,
            rng: Xoshiro256PlusPlus::seed_from_u64(0x5eed),
            windows: VecDeque::new(),
            step_samples: 0,
            step_since: 0,
        }
    }

    /// One simulated second: traffic, a verdict, a reconcile, a restart.
    pub fn second(&mut self) {
        self.now += 1_000;
        let w = self.state.weight.get();
        let canary_n = RPS * u64::from(w) / u64::from(Ppm::SCALE);
        let baseline_share = (u64::from(w)).min(u64::from(Ppm::SCALE - w.max(500_000)));
        let baseline_n = RPS * baseline_share / u64::from(Ppm::SCALE);
        let p = (self.canary_error)(&self.state, self.now);
        let counts = Counts {
            canary: (canary_n, self.binomial(canary_n, p)),
            baseline: (baseline_n, self.binomial(baseline_n, self.baseline_error)),
        };
        self.windows.push_back(counts);
        if self.windows.len() > WINDOW_SECONDS {
            self.windows.pop_front();
        }
        if self.state.step_since != self.step_since {
            self.step_since = self.state.step_since;
            self.step_samples = 0;
        }
        self.step_samples += canary_n;
        let obs = Observation::at(self.now)
            .with_health(self.judge())
            .with_samples(self.step_samples);
        let t = reconcile(&self.plan, &self.state, &obs);
        self.apply(t);
    }

    /// Runs until `stop` holds or `max_seconds` pass; true if `stop` held.
    pub fn run_until(&mut self, max_seconds: u64, stop: impl Fn(&RolloutState) -> bool) -> bool {
        for _ in 0..max_seconds {
            if stop(&self.state) {
                return true;
            }
            self.second();
        }
        stop(&self.state)
    }

    /// A person's command, now.
    pub fn command(&mut self, command: Command, actor: &str) {
        match apply_command(
            &self.plan,
            &self.state,
            command,
            &Actor::User(actor.into()),
            self.now,
        ) {
            Ok(t) => self.apply(t),
            Err(e) => panic!("{e}"),
        }
    }

    /// The canary weights in the order they were published.
    pub fn weights(&self) -> Vec<Ppm> {
        self.published.iter().map(|(_, w)| *w).collect()
    }

    fn apply(&mut self, t: Transition) {
        super::fixtures::check_transition(&self.state, &t);
        if let Some(w) = t.published_weight() {
            self.published.push((self.now, w));
        }
        self.log.extend(t.decisions);
        // A restart: the next reconcile sees the state only as the store gives it back.
        let stored = serde_json::to_string(&t.state).unwrap_or_default();
        self.state = serde_json::from_str(&stored).unwrap_or(t.state);
    }

    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        (0..n)
            .filter(|_| self.rng.random_bool(p.clamp(0.0, 1.0)))
            .count() as u64
    }

    fn judge(&self) -> Health {
        let (mut cn, mut ce, mut bn, mut be) = (0, 0, 0, 0);
        for c in &self.windows {
            cn += c.canary.0;
            ce += c.canary.1;
            bn += c.baseline.0;
            be += c.baseline.1;
        }
        let (rate, base) = (ratio(ce, cn), ratio(be, bn));
        let (lo, hi) = wilson(ce, cn);
        let numbers = format!(
            "canary {ce} of {cn}, 99.9% interval {:.1}%–{:.1}%; baseline {:.1}% ({be} of {bn})",
            lo * 100.0,
            hi * 100.0,
            base * 100.0
        );
        let (outcome, reason) = if cn < MIN_SAMPLES {
            (
                Outcome::Inconclusive,
                format!("need {MIN_SAMPLES} canary samples ({numbers})"),
            )
        } else if lo > THRESHOLD {
            (
                Outcome::Fail,
                format!("error_rate {:.1}% > 5% ({numbers})", rate * 100.0),
            )
        } else if hi < THRESHOLD {
            (
                Outcome::Pass,
                format!("error_rate {:.2}% ≤ 5% ({numbers})", rate * 100.0),
            )
        } else {
            (
                Outcome::Inconclusive,
                format!("error_rate {:.1}% undecided ({numbers})", rate * 100.0),
            )
        };
        Health {
            window_end: self.now,
            outcome,
            failing_condition: (outcome == Outcome::Fail).then(|| "errors".to_string()),
            reason,
            degraded: None,
            canary_samples: cn,
            baseline_samples: bn,
            margin: None,
            details: json!({
                "condition": "errors", "fail_when": "error_rate > 5%",
                "canary": { "errors": ce, "requests": cn }, "baseline": { "errors": be, "requests": bn },
                "interval": [lo, hi],
            }),
        }
    }
}

/// Whether a bucket is in the canary at `weight`.
pub fn in_canary(bucket: u32, weight: Ppm) -> bool {
    Cohort::of_bucket(bucket, weight).is_canary()
}

fn ratio(k: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p) = (n as f64, ratio(k, n));
    let z2 = Z * Z;
    let centre = p + z2 / (2.0 * n);
    let spread = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z2 / n;
    ((centre - spread) / denom, (centre + spread) / denom)
}
