//! What the live view shows, read from the control plane once per refresh: the rollout's
//! phase, weight and step; each cohort's traffic over the last seconds; the latest verdict of
//! every condition; and the decisions recorded since the last look. Everything here is the
//! control plane's own view; the demo adds nothing.

use rollgate_analysis::Outcome;
use rollgate_control::{ControlError, ControlPlane};
use rollgate_core::model::{DecisionRecord, Phase, UnixMillis};
use rollgate_core::{Cohort, Ppm};
use rollgate_metrics::Window;
use rollgate_store::{DecisionQuery, Order};

use crate::plan::ROLLOUT;

/// Seconds of traffic each cohort's numbers are measured over.
pub const RATE_WINDOW_S: i64 = 10;

/// The rollout at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// When it was read.
    pub at: UnixMillis,
    /// The phase.
    pub phase: Phase,
    /// The canary's weight.
    pub weight: Ppm,
    /// `step 2 of 6 (5%)`.
    pub step: Option<String>,
    /// The verdict the controller acted on last, in one line.
    pub verdict: Option<String>,
    /// Canary, baseline and stable traffic over the last [`RATE_WINDOW_S`] seconds.
    pub cohorts: Vec<CohortStatus>,
    /// Each condition's latest verdict.
    pub conditions: Vec<ConditionStatus>,
}

/// One cohort's recent traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct CohortStatus {
    /// Which cohort.
    pub cohort: Cohort,
    /// The version serving it.
    pub version: String,
    /// Requests per second.
    pub rps: f64,
    /// Share of 5xx answers.
    pub error_rate: Option<f64>,
    /// 99th percentile of the answer time, in milliseconds.
    pub p99_ms: Option<f64>,
    /// Conversions per page view.
    pub conversion: Option<f64>,
}

/// One condition's latest verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionStatus {
    /// Its name.
    pub name: String,
    /// Pass, fail or undecided.
    pub outcome: Outcome,
    /// The analysis' one line with the numbers.
    pub reason: String,
}

/// Reads statuses and new decisions, remembering which decisions were already seen.
#[derive(Debug, Default)]
pub struct Reader {
    after_id: Option<i64>,
}

impl Reader {
    /// A reader that has seen no decision yet.
    pub fn new() -> Reader {
        Reader::default()
    }

    /// The rollout now.
    pub async fn status(&self, plane: &ControlPlane) -> Result<Status, ControlError> {
        let view = plane.rollout(ROLLOUT).await?;
        let now = plane.now();
        let to = Window::start_of(now, 1_000);
        let doc = plane
            .metrics(ROLLOUT, to - RATE_WINDOW_S * 1_000, to)
            .await?;
        let value = |c: Cohort, m: &str| doc.value(c, m).and_then(|v| v.value);
        let cohorts = [Cohort::Canary, Cohort::Baseline, Cohort::Stable]
            .into_iter()
            .map(|c| CohortStatus {
                cohort: c,
                version: doc
                    .cohorts
                    .get(&c)
                    .map_or_else(String::new, |m| m.version.clone()),
                rps: doc.value(c, "requests").map_or(0, |v| v.samples) as f64
                    / RATE_WINDOW_S as f64,
                error_rate: value(c, "error_rate"),
                p99_ms: value(c, "p99_latency"),
                conversion: value(c, "conversion_rate"),
            })
            .collect();
        let conditions = plane
            .verdict(ROLLOUT)
            .await?
            .map(|v| {
                v.conditions
                    .into_iter()
                    .map(|c| ConditionStatus {
                        name: c.name,
                        outcome: c.outcome,
                        reason: c.reason,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Status {
            at: now,
            phase: view.phase,
            weight: view.weight,
            step: view.step,
            verdict: view.verdict.map(|v| v.reason),
            cohorts,
            conditions,
        })
    }

    /// The decisions recorded since the last call, oldest first.
    pub async fn new_decisions(
        &mut self,
        plane: &ControlPlane,
    ) -> Result<Vec<DecisionRecord>, ControlError> {
        let mut all = Vec::new();
        loop {
            let query = DecisionQuery {
                after_id: self.after_id,
                order: Order::OldestFirst,
                limit: Some(DecisionQuery::MAX_LIMIT),
                ..DecisionQuery::for_rollout(ROLLOUT)
            };
            let page = plane.decisions(&query).await?;
            let full = page.next.is_some();
            if let Some(last) = page.decisions.last() {
                self.after_id = Some(last.id);
            }
            all.extend(page.decisions);
            if !full {
                return Ok(all);
            }
        }
    }
}
