//! The charts of a rollout page, from the control plane's queries: one line chart per metric
//! (error rate, p99 latency, every metric the conditions read and every declared business
//! metric) per cohort with the failure thresholds, and the weight step chart with its
//! decisions. Every query is bounded: at most [`MAX_CHARTS`] series of at most
//! [`rollgate_control::MAX_POINTS`] points, and a capped number of decisions.

use rollgate_control::{MetricSeries, RolloutView};
use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;
use rollgate_metrics::Catalog;
use rollgate_store::{DecisionQuery, Order};

use crate::chart::{Line, LineChart, Threshold, WeightChart};
use crate::error::PageError;
use crate::state::DashState;
use crate::threshold::{Conditions, Rule};

/// Most metric charts on a rollout page.
pub(crate) const MAX_CHARTS: usize = 8;

/// The cohorts, in the order their lines are drawn (canary on top).
const COHORTS: [Cohort; 3] = [Cohort::Stable, Cohort::Baseline, Cohort::Canary];

/// Shortest time range a metric chart shows, so a rollout that just started is not drawn
/// over a few pixels nor stretched over one point.
const MIN_RANGE_MS: i64 = 30_000;

/// The time range the metric charts show: the last `range` until now (or, for a finished
/// rollout, until it finished), starting no earlier than the rollout (but covering at least
/// 30 s).
pub(crate) fn range(
    view: &RolloutView,
    now: UnixMillis,
    range_ms: i64,
) -> (UnixMillis, UnixMillis) {
    let end = if view.phase.is_terminal() {
        view.updated_at.min(now)
    } else {
        now
    };
    let from = (end - range_ms)
        .max(view.created_at)
        .min(end - MIN_RANGE_MS);
    (from, end)
}

/// The metrics charted: `error_rate`, `p99_latency`, then those the conditions read, then
/// the declared (non-built-in) ones; only those in the catalog, at most [`MAX_CHARTS`].
pub(crate) fn metrics(catalog: &Catalog, conditions: &Conditions) -> Vec<String> {
    let builtins: Vec<&str> = rollgate_metrics::builtins()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let events: Vec<&str> = catalog.events().collect();
    let declared = catalog
        .names()
        .filter(|n| !builtins.contains(n) && !events.contains(n))
        .map(str::to_string);
    let mut out: Vec<String> = Vec::new();
    let wanted = ["error_rate".to_string(), "p99_latency".to_string()]
        .into_iter()
        .chain(conditions.metrics())
        .chain(declared);
    for m in wanted {
        if catalog.unit(&m).is_some() && !out.contains(&m) {
            out.push(m);
        }
        if out.len() == MAX_CHARTS {
            break;
        }
    }
    out
}

/// One line chart per metric over `[from, to)`.
pub(crate) async fn metric_charts(
    state: &DashState,
    view: &RolloutView,
    conditions: &Conditions,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<LineChart>, PageError> {
    let catalog = state.control.catalog();
    // The overall value of each cohort for the legends; the charts do without when the
    // metrics provider cannot answer.
    let overall = match state.control.metrics(&view.name, from, to).await {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::debug!(rollout = %view.name, error = %e, "no overall values for the legends");
            None
        }
    };
    let mut charts = Vec::new();
    for metric in metrics(catalog, conditions) {
        let series = state.control.series(&view.name, &metric, from, to).await?;
        let lines = COHORTS
            .iter()
            .filter_map(|&cohort| {
                let points = series.cohorts.get(&cohort)?;
                let version = if cohort == Cohort::Canary {
                    &view.canary
                } else {
                    &view.stable
                };
                Some(Line {
                    cohort,
                    label: format!("{} ({version})", crate::chart::cohort_class(cohort)),
                    points: points.iter().map(|p| (p.t, p.value)).collect(),
                    overall: overall
                        .as_ref()
                        .and_then(|m| m.value(cohort, &metric))
                        .and_then(|v| Some((v.value?, v.samples))),
                })
            })
            .collect();
        let thresholds = conditions
            .thresholds(&metric)
            .iter()
            .take(3)
            .map(|rule| threshold(rule, &series))
            .collect();
        charts.push(LineChart {
            title: metric.clone(),
            metric,
            unit: series.unit,
            from: series.from,
            to: series.to,
            step_ms: series.step_ms,
            lines,
            thresholds,
        });
    }
    Ok(charts)
}

/// A rule drawn over a series: flat across the range, or point by point from the other
/// cohorts' values.
fn threshold(rule: &Rule, series: &MetricSeries) -> Threshold {
    let points = if rule.is_constant() {
        let v = rule.at(|_| None);
        vec![(series.from, v), (series.to - series.step_ms, v)]
    } else {
        let len = series.cohorts.values().map(Vec::len).max().unwrap_or(0);
        (0..len)
            .filter_map(|i| {
                let t = series.cohorts.values().find_map(|pts| pts.get(i))?.t;
                let value = |c: Cohort| series.cohorts.get(&c)?.get(i)?.value;
                Some((t, rule.at(value)))
            })
            .collect()
    };
    Threshold {
        label: rule.label.clone(),
        points,
    }
}

/// The decisions the weight chart draws (the newest `limit`, oldest first) and the time
/// range it covers: from the rollout's creation (or the oldest decision drawn, when older
/// ones are left out) to now (or its last change, when finished).
pub(crate) async fn weight_chart_data(
    state: &DashState,
    view: &RolloutView,
    now: UnixMillis,
) -> Result<
    (
        Vec<rollgate_core::model::DecisionRecord>,
        UnixMillis,
        UnixMillis,
    ),
    PageError,
> {
    let limit = state.opts.weight_chart_decisions.max(1);
    let page = state
        .control
        .decisions(&DecisionQuery {
            rollout: Some(view.name.clone()),
            limit: Some(limit),
            order: Order::NewestFirst,
            ..DecisionQuery::default()
        })
        .await?;
    let mut decisions = page.decisions;
    decisions.reverse();
    let from = match (page.total > u64::from(limit), decisions.first()) {
        (true, Some(d)) => d.at,
        _ => view
            .created_at
            .min(decisions.first().map_or(view.created_at, |d| d.at)),
    };
    let last = decisions.last().map_or(view.updated_at, |d| d.at);
    let to = if view.phase.is_terminal() {
        last.max(view.updated_at) + (last.max(view.updated_at) - from) / 20 + 1_000
    } else {
        now.max(last)
    };
    Ok((decisions, from, to.max(from + 1_000)))
}

/// The weight chart.
pub(crate) fn weight_chart(
    view: &RolloutView,
    decisions: &[rollgate_core::model::DecisionRecord],
    from: UnixMillis,
    to: UnixMillis,
) -> maud::Markup {
    WeightChart {
        from,
        to,
        start: decisions.first().map_or(view.weight, |d| d.weight_before),
        decisions,
    }
    .render()
}
