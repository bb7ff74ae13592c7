//! One reconcile tick: close the event windows, read every active rollout, observe it
//! (metrics over its current step → analysis verdict → health; the canary's breaker), run the
//! pure `reconcile`, commit what changed (one transaction per rollout), publish the new
//! snapshot, then notify.

use std::collections::HashMap;
use std::sync::Arc;

use rollgate_controller::{Observation, Transition, reconcile};
use rollgate_core::model::UnixMillis;
use rollgate_store::{RolloutFilter, RolloutRecord, StoreError};

use crate::breakers::BreakerStatus;
use crate::commands::stored_state;
use crate::compile::compile;
use crate::plane::ControlPlane;
use crate::runtime::Runtime;
use crate::view::TickReport;

/// A state that changed only counters or timers is committed at the latest this long after the
/// rollout's last commit (decisions are always committed at once).
pub const CHECKPOINT_MS: i64 = 10_000;

/// What happened to one rollout in a tick.
enum Step {
    Idle,
    Committed(Box<Transition>),
    Conflict,
    Problem,
}

impl ControlPlane {
    /// One reconcile tick at `now`. The loop calls it once per window with the clock's time;
    /// tests call it directly with simulated time.
    pub async fn tick(&self, now: UnixMillis) -> TickReport {
        let closed = self.inner.opts.events.close_until(now);
        if !closed.is_empty() {
            self.inner.opts.windows.insert(closed, now);
        }
        let breakers = self
            .inner
            .opts
            .breakers
            .as_ref()
            .map(|b| b.breakers())
            .unwrap_or_default();
        let mut report = TickReport::default();
        let active = RolloutFilter {
            active_only: true,
            service: None,
        };
        let records = match self.inner.store.list_rollouts(&active).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the rollouts; nothing decided this tick");
                report.problems += 1;
                Vec::new()
            }
        };
        report.rollouts = records.len();
        let mut committed = Vec::new();
        {
            let mut runtimes = self.inner.runtimes.lock().await;
            runtimes.retain(|name, _| records.iter().any(|r| r.name == *name));
            for record in records {
                match self
                    .reconcile_one(&mut runtimes, record, now, &breakers)
                    .await
                {
                    Step::Idle => {}
                    Step::Committed(t) => {
                        report.commits += 1;
                        report.decisions += t.decisions.len();
                        committed.push(*t);
                    }
                    Step::Conflict => report.conflicts += 1,
                    Step::Problem => report.problems += 1,
                }
            }
        }
        report.published = self.after_commits(&committed).await;
        if report.published.is_none() && self.publish_pending().await {
            report.published = self.refresh(false).await.ok().flatten();
        }
        report.publish_pending = self.publish_pending().await;
        report
    }

    async fn reconcile_one(
        &self,
        runtimes: &mut HashMap<String, Runtime>,
        record: RolloutRecord,
        now: UnixMillis,
        breakers: &[BreakerStatus],
    ) -> Step {
        let Some(rt) = self.runtime_for(runtimes, &record) else {
            return Step::Problem;
        };
        let stored = match stored_state(&record) {
            Ok(s) => s,
            Err(e) => {
                self.set_problem(&record.name, e.to_string());
                return Step::Problem;
            }
        };
        let state = match &rt.working {
            Some((revision, s)) if *revision == record.revision => s.clone(),
            _ => stored.clone(),
        };
        rt.follow(&state);
        self.observe(rt, &record, &state, now).await;
        let canary = breakers
            .iter()
            .find(|b| b.service == record.service && b.version == record.canary);
        let breaker_open_since = rt.breaker.observe(canary);
        self.publish_live(&record.name, rt);
        let observation = Observation {
            now,
            health: rt.health.clone(),
            breaker_open_since,
            samples_in_step: rt.samples_in_step,
        };
        let t = reconcile(&rt.compiled.plan, &state, &observation);
        if t.decisions.is_empty() && t.effects.is_empty() {
            if t.state == stored {
                rt.working = None;
                return Step::Idle;
            }
            if now.saturating_sub(record.updated_at) < CHECKPOINT_MS {
                rt.working = Some((record.revision, t.state));
                return Step::Idle;
            }
        }
        rt.working = None;
        match self.commit_transition(&record, &t, now).await {
            Ok(_) => Step::Committed(Box::new(t)),
            Err(StoreError::Conflict { .. }) => {
                tracing::info!(rollout = %record.name, "rollout changed meanwhile (a command?); deciding again next tick");
                Step::Conflict
            }
            Err(e) => {
                tracing::error!(rollout = %record.name, error = %e, "commit failed; deciding again next tick");
                Step::Problem
            }
        }
    }

    /// The runtime of `record`, compiled from its stored spec (again when the spec changed).
    fn runtime_for<'a>(
        &self,
        runtimes: &'a mut HashMap<String, Runtime>,
        record: &RolloutRecord,
    ) -> Option<&'a mut Runtime> {
        let fresh = runtimes
            .get(&record.name)
            .is_none_or(|rt| rt.spec != record.spec);
        if fresh {
            match compile(&record.spec, self.expr_catalog()) {
                Ok(c) => {
                    runtimes.insert(
                        record.name.clone(),
                        Runtime::new(record.spec.clone(), Arc::new(c)),
                    );
                }
                Err(errors) => {
                    let problem = format!("the stored spec does not validate any more: {errors}");
                    tracing::error!(rollout = %record.name, %errors, "rollout skipped: its stored spec does not validate");
                    self.set_problem(&record.name, problem);
                    runtimes.remove(&record.name);
                    return None;
                }
            }
        }
        runtimes.get_mut(&record.name)
    }

    fn set_problem(&self, rollout: &str, problem: String) {
        self.live().entry(rollout.to_string()).or_default().problem = Some(problem);
    }

    fn publish_live(&self, rollout: &str, rt: &Runtime) {
        let mut live = self.live();
        let entry = live.entry(rollout.to_string()).or_default();
        entry.compiled = Some(Arc::clone(&rt.compiled));
        entry.breaker_open_since = rt.breaker.open_since();
        entry.problem.clone_from(&rt.problem);
    }
}
