//! Read-only questions: rollouts with their live verdicts, the decision log, a rollout's
//! metrics and latest verdict, services and versions.

use std::sync::Arc;

use rollgate_analysis::{RolloutMetrics, RolloutVerdict};
use rollgate_core::model::UnixMillis;
use rollgate_store::{DecisionQuery, Order, RolloutFilter, RolloutRecord, VersionEntry};

use crate::compile::compile;
use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::provider::MetricQuery;
use crate::view::{DecisionPage, Live, RolloutView, ServiceView};

impl ControlPlane {
    /// The rollouts that pass `filter`, oldest first.
    pub async fn rollouts(&self, filter: &RolloutFilter) -> Result<Vec<RolloutView>, ControlError> {
        let records = self.inner.store.list_rollouts(filter).await?;
        Ok(records.iter().map(|r| self.view_of(r)).collect())
    }

    /// One rollout, or `NotFound` with a suggestion.
    pub async fn rollout(&self, name: &str) -> Result<RolloutView, ControlError> {
        let record = self.find_rollout(name).await?;
        Ok(self.view_of(&record))
    }

    /// One page of the decision log, with the total the filters select (over every page: the
    /// cursor does not count) and the next cursor.
    pub async fn decisions(&self, query: &DecisionQuery) -> Result<DecisionPage, ControlError> {
        if let Some(name) = &query.rollout {
            self.find_rollout(name).await?;
        }
        let decisions = self.inner.store.list_decisions(query).await?;
        let every_page = DecisionQuery {
            after_id: None,
            before_id: None,
            ..query.clone()
        };
        let total = self.inner.store.count_decisions(&every_page).await?;
        let full = u32::try_from(decisions.len()).unwrap_or(u32::MAX) >= query.effective_limit()
            && !decisions.is_empty();
        let next = match (full, query.order) {
            (true, Order::OldestFirst) => decisions.last().map(|d| d.id),
            (true, Order::NewestFirst) => decisions.last().map(|d| d.id),
            (false, _) => None,
        };
        Ok(DecisionPage {
            decisions,
            total,
            next,
        })
    }

    /// Every catalog metric of the rollout's cohorts over the windows starting in
    /// `[from, to)`, from the metric provider (what `GET /api/v1/rollouts/{id}/metrics` returns
    /// and `rollgate analyze` reads).
    pub async fn metrics(
        &self,
        rollout: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<RolloutMetrics, ControlError> {
        let record = self.find_rollout(rollout).await?;
        let metrics = self.catalog().names().map(str::to_string).collect();
        let query = MetricQuery::for_record(&record, metrics, from, to);
        Ok(self.inner.provider.rollout_metrics(&query).await?)
    }

    /// The latest analysis verdict on the rollout since this process started (`None` before
    /// the first closed window of its current step, and for rollouts without conditions).
    pub async fn verdict(&self, rollout: &str) -> Result<Option<RolloutVerdict>, ControlError> {
        let record = self.find_rollout(rollout).await?;
        let live = self.live();
        Ok(live
            .get(&record.name)
            .and_then(|l| l.verdict.as_deref().cloned()))
    }

    /// Every service with its current stable version and active rollout.
    pub async fn services(&self) -> Result<Vec<ServiceView>, ControlError> {
        let store = &self.inner.store;
        let active = store
            .list_rollouts(&RolloutFilter {
                active_only: true,
                service: None,
            })
            .await?;
        let mut out = Vec::new();
        for s in store.list_services().await? {
            out.push(ServiceView {
                stable: store.current_stable(&s.name).await?,
                rollout: active
                    .iter()
                    .find(|r| r.service == s.name)
                    .map(|r| r.name.clone()),
                name: s.name,
                spec: s.spec,
                updated_at: s.updated_at,
            });
        }
        Ok(out)
    }

    /// Every version snapshot of `service` with the periods it was stable, oldest first.
    pub async fn versions(&self, service: &str) -> Result<Vec<VersionEntry>, ControlError> {
        self.find_service(service).await?;
        Ok(self.inner.store.list_versions(service).await?)
    }

    /// `NotFound` (with a suggestion) unless `service` exists.
    pub(crate) async fn find_service(&self, service: &str) -> Result<(), ControlError> {
        if self.inner.store.get_service(service).await?.is_some() {
            return Ok(());
        }
        let all = self.inner.store.list_services().await?;
        Err(ControlError::not_found(
            "service",
            service,
            all.iter().map(|s| s.name.as_str()),
        ))
    }

    /// The view of `record` with what the loop knows about it.
    pub(crate) fn view_of(&self, record: &RolloutRecord) -> RolloutView {
        let live = self.live().get(&record.name).cloned().unwrap_or_default();
        let compiled = live.compiled.clone().or_else(|| {
            compile(&record.spec, self.expr_catalog())
                .ok()
                .map(Arc::new)
        });
        RolloutView::new(
            record,
            Live {
                compiled: compiled.as_deref(),
                verdict: live.summary.as_ref(),
                breaker_open_since: live.breaker_open_since,
                problem: live.problem.as_deref(),
            },
            self.now(),
        )
    }
}
