//! A simulated world for whole rollouts in simulated time: per-second traffic split by the
//! rollout's weight into canary and matched baseline, binomial errors per cohort, the real
//! analysis (`rollgate-analysis`, condition `errors: error_rate > 5%`, α = 0.01, 300 samples)
//! judging the counts since the step began, and a restart (state through JSON) after every
//! reconcile, as if the process were killed and started again each second.
#![allow(dead_code)]

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rollgate_analysis::{
    Analysis, AnalysisSpec, Outcome as Verdict, RolloutMetrics, RolloutVerdict, Tracker,
};
use rollgate_controller::{
    Command, Health, Observation, Outcome, RolloutPlan, RolloutState, Transition, apply_command,
    reconcile,
};
use rollgate_core::model::{Actor, DecisionRecord, UnixMillis};
use rollgate_core::{Cohort, Ppm};
use serde_json::json;

/// Requests per second from the rollout's whole audience.
pub const RPS: u64 = 2_000;
/// Samples per cohort before the analysis gives a verdict.
pub const MIN_SAMPLES: u64 = 300;

/// Requests and errors per cohort since the step began.
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
    analysis: Analysis,
    tracker: Tracker,
    step_counts: Counts,
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
            analysis: analysis(),
            tracker: Tracker::new(),
            step_counts: Counts::default(),
            step_since: 0,
        }
    }

    /// One simulated second: traffic, a verdict, a reconcile, a restart.
    pub fn second(&mut self) {
        if self.state.step_since != self.step_since {
            // A new step: a new analysis run over the new step's data only.
            self.step_since = self.state.step_since;
            self.step_counts = Counts::default();
            self.tracker.reset();
        }
        self.now += 1_000;
        let w = self.state.weight.get();
        let canary_n = RPS * u64::from(w) / u64::from(Ppm::SCALE);
        let baseline_share = u64::from(w).min(u64::from(Ppm::SCALE - w.max(500_000)));
        let baseline_n = RPS * baseline_share / u64::from(Ppm::SCALE);
        let p = (self.canary_error)(&self.state, self.now);
        let canary_errors = self.binomial(canary_n, p);
        let baseline_errors = self.binomial(baseline_n, self.baseline_error);
        let c = &mut self.step_counts;
        c.canary = (c.canary.0 + canary_n, c.canary.1 + canary_errors);
        c.baseline = (c.baseline.0 + baseline_n, c.baseline.1 + baseline_errors);
        let obs = Observation::at(self.now)
            .with_health(self.judge())
            .with_samples(self.step_counts.canary.0);
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

    /// The analysis verdict on the counts since the step began, as the runtime turns it into
    /// a `Health`.
    fn judge(&mut self) -> Health {
        let doc = document(
            &self.plan.name,
            self.step_since,
            self.now,
            self.state.weight,
            &self.step_counts,
        );
        let verdict = self.tracker.judge(&self.analysis, &doc);
        health_of(&verdict, &doc, self.now)
    }
}

/// The runtime's mapping from an analysis verdict to the controller's `Health`.
pub fn health_of(verdict: &RolloutVerdict, doc: &RolloutMetrics, window_end: UnixMillis) -> Health {
    let outcome = match verdict.outcome {
        Verdict::Pass => Outcome::Pass,
        Verdict::Fail => Outcome::Fail,
        Verdict::Inconclusive => Outcome::Inconclusive,
    };
    let failing = |critical: bool| {
        verdict
            .conditions
            .iter()
            .find(|c| c.critical == critical && c.outcome == Verdict::Fail)
    };
    let samples = |cohort| doc.value(cohort, "requests").map_or(0, |v| v.samples);
    Health {
        window_end,
        outcome,
        reason: verdict.reason.clone(),
        failing_condition: failing(true)
            .filter(|_| outcome == Outcome::Fail)
            .map(|c| c.name.clone()),
        escalate: verdict.escalate,
        degraded: failing(false).map(|c| format!("{}: {}", c.name, c.reason)),
        canary_samples: samples(Cohort::Canary),
        baseline_samples: samples(Cohort::Baseline),
        margin: None,
        details: serde_json::to_value(verdict).unwrap_or_default(),
    }
}

/// The analysis of the simulated rollouts: one critical condition on the canary's error rate.
fn analysis() -> Analysis {
    let spec: AnalysisSpec = serde_json::from_value(json!({
        "min_samples": MIN_SAMPLES,
        "conditions": [{ "name": "errors", "fail_when": "error_rate > 5%" }],
    }))
    .unwrap_or_else(|e| panic!("analysis spec: {e}"));
    let template = document("sim", 0, 0, Ppm::ZERO, &Counts::default());
    spec.build(&template.catalog())
        .unwrap_or_else(|e| panic!("analysis: {e}"))
}

/// The metrics document of the counts since the step began.
fn document(
    rollout: &str,
    from: UnixMillis,
    to: UnixMillis,
    weight: Ppm,
    c: &Counts,
) -> RolloutMetrics {
    let cohort = |version: &str, (n, errors): (u64, u64)| {
        json!({ "version": version, "metrics": {
            "error_rate": { "value": (n > 0).then(|| errors as f64 / n as f64), "samples": n,
                            "stats": { "kind": "ratio", "numerator": errors, "denominator": n } },
            "requests": { "value": n, "samples": n, "stats": { "kind": "count", "count": n } },
        }})
    };
    serde_json::from_value(json!({
        "rollout": rollout, "from": from, "to": to, "weight": weight,
        "units": { "error_rate": "ratio", "requests": "count" },
        "cohorts": { "canary": cohort("v1.2", c.canary), "baseline": cohort("v1.1", c.baseline) },
    }))
    .unwrap_or_else(|e| panic!("metrics document: {e}"))
}

/// Whether a bucket is in the canary at `weight`.
pub fn in_canary(bucket: u32, weight: Ppm) -> bool {
    Cohort::of_bucket(bucket, weight).is_canary()
}
