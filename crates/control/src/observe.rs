//! Observing one rollout: its metrics over the current step from the provider, judged by the
//! analysis (the run's tracker) and turned into the controller's health. A range is judged
//! once: ticks with no new closed window reuse the last health, so failure counts advance
//! once per window.
//!
//! The range is the closed windows that start at or after the step began (rounded up to a
//! window boundary, so no window mixes two weights) and within the retention, up to the last
//! window that ended by `now`. After a restart the windows are empty (they are in memory), so
//! the step's evidence starts over from the restart.

use std::collections::BTreeSet;
use std::sync::Arc;

use rollgate_analysis::{RolloutMetrics, analyze};
use rollgate_controller::{Health, RolloutState, Strategy};
use rollgate_core::model::{Outcome, Phase, UnixMillis};
use rollgate_core::{Cohort, Ppm};
use rollgate_metrics::Window;
use rollgate_store::RolloutRecord;

use crate::health::{Evidence, health};
use crate::plane::ControlPlane;
use crate::provider::MetricQuery;
use crate::runtime::Runtime;
use crate::view::VerdictSummary;

/// The metric every query includes: the canary samples of a step are its request count.
pub const SAMPLES_METRIC: &str = "requests";

impl ControlPlane {
    pub(crate) async fn observe(
        &self,
        rt: &mut Runtime,
        record: &RolloutRecord,
        state: &RolloutState,
        now: UnixMillis,
    ) {
        if matches!(state.phase, Phase::Pending) || state.phase.is_terminal() {
            return;
        }
        let Some((from, to)) = self.step_range(state.step_since, now) else {
            return;
        };
        if rt.judged_to == Some(to) {
            return;
        }
        let query = MetricQuery {
            weight: state.weight,
            ..MetricQuery::for_record(record, needed_metrics(rt), from, to)
        };
        let doc = match self.inner.provider.rollout_metrics(&query).await {
            Ok(doc) => doc,
            Err(e) => {
                if rt.problem.is_none() {
                    tracing::warn!(rollout = %record.name, error = %e, "metrics unavailable; the rollout holds");
                }
                rt.problem = Some(format!("metrics unavailable: {e}"));
                rt.health = None;
                return;
            }
        };
        rt.problem = None;
        rt.judged_to = Some(to);
        rt.samples_in_step = samples(&doc, Cohort::Canary);
        let health = self.judge(rt, &doc, to, state.weight == Ppm::FULL);
        let summary = VerdictSummary {
            window_end: to,
            outcome: match health.1.as_ref() {
                Some(v) => v.outcome,
                None => Outcome::Pass,
            },
            health: health.0.outcome,
            reason: health.0.reason.clone(),
            escalate: health.0.escalate,
            canary_samples: health.0.canary_samples,
            baseline_samples: health.0.baseline_samples,
        };
        {
            let mut live = self.live();
            let entry = live.entry(record.name.clone()).or_default();
            entry.verdict = health.1.map(Arc::new);
            entry.summary = Some(summary);
        }
        rt.health = Some(health.0);
    }

    /// Judges `doc` with the run's tracker: the controller's health and the analysis verdict
    /// (none for a rollout without conditions, which moves on time and samples alone). At
    /// 100% (`full`) only the conditions reading the canary alone are judged: there is no
    /// baseline left to compare with.
    fn judge(
        &self,
        rt: &mut Runtime,
        doc: &RolloutMetrics,
        to: UnixMillis,
        full: bool,
    ) -> (Health, Option<rollgate_analysis::RolloutVerdict>) {
        let evidence = Evidence {
            window_end: to,
            canary_samples: samples(doc, Cohort::Canary),
            baseline_samples: samples(doc, Cohort::Baseline),
        };
        let compiled = Arc::clone(&rt.compiled);
        let (analysis, point) = if full {
            (&compiled.at_full.0, &compiled.at_full.1)
        } else {
            (&compiled.analysis, &compiled.point)
        };
        let mut h = if analysis.conditions.is_empty() {
            let mut unchecked =
                Health::unchecked(to, evidence.canary_samples, evidence.baseline_samples);
            if full && !compiled.analysis.conditions.is_empty() {
                unchecked.reason = "at 100% no baseline is left to compare with; the conditions that read it are not judged at this step".into();
            }
            (unchecked, None)
        } else {
            let verdict = rt.tracker.judge(analysis, doc);
            let point = analyze(doc, point);
            (health(&verdict, &point, evidence), Some(verdict))
        };
        if let Strategy::Pid(pid) = &compiled.plan.strategy {
            h.0.margin = doc
                .value(Cohort::Canary, &pid.metric)
                .and_then(|v| v.value)
                .map(|observed| pid.margin(observed));
        }
        h
    }

    /// `[from, to)` of the closed windows of the step that began at `step_since`, or `None`
    /// when no window of the step has closed yet.
    pub(crate) fn step_range(
        &self,
        step_since: UnixMillis,
        now: UnixMillis,
    ) -> Option<(UnixMillis, UnixMillis)> {
        let width = i64::from(self.inner.opts.window_ms.max(1));
        let retention = i64::try_from(self.inner.opts.retention_ms).unwrap_or(i64::MAX);
        let up = |t: UnixMillis| {
            Window::start_of(
                t.saturating_add(width - 1),
                self.inner.opts.window_ms.max(1),
            )
        };
        let from = up(step_since).max(up(now.saturating_sub(retention)));
        let to = Window::start_of(now, self.inner.opts.window_ms.max(1));
        (to > from).then_some((from, to))
    }
}

/// The metrics the rollout's conditions, its sample-ratio check and its strategy read.
fn needed_metrics(rt: &Runtime) -> Vec<String> {
    let c = &rt.compiled;
    let mut names: BTreeSet<String> = c
        .analysis
        .conditions
        .iter()
        .flat_map(|cc| cc.condition.metrics().iter().map(|m| m.name.clone()))
        .collect();
    names.insert(c.analysis.spec.srm_metric.clone());
    names.insert(SAMPLES_METRIC.to_string());
    if let Strategy::Pid(pid) = &c.plan.strategy {
        names.insert(pid.metric.clone());
    }
    names.into_iter().collect()
}

/// The sample count of `cohort` (its requests).
fn samples(doc: &RolloutMetrics, cohort: Cohort) -> u64 {
    doc.value(cohort, SAMPLES_METRIC).map_or(0, |v| v.samples)
}
