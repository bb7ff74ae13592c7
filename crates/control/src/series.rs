//! Time series for the dashboard charts: one metric of a rollout, per cohort, one point per
//! window — or per several windows when the range is long, so a chart never has more than
//! [`MAX_POINTS`] points. Read from the kept windows (the built-in data), whatever provider
//! the analysis uses.

use std::collections::BTreeMap;

use rollgate_core::Cohort;
use rollgate_core::model::UnixMillis;
use rollgate_metrics::{MetricUnit, Window};
use serde::{Deserialize, Serialize};

use crate::error::ControlError;
use crate::plane::ControlPlane;
use crate::provider::MetricQuery;

/// Most points per cohort in one series.
pub const MAX_POINTS: i64 = 300;

/// One metric of a rollout over time, per cohort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    /// The rollout.
    pub rollout: String,
    /// The metric.
    pub metric: String,
    /// Its unit (how to label the axis).
    pub unit: MetricUnit,
    /// Start of the first point (a window boundary).
    pub from: UnixMillis,
    /// End of the last point.
    pub to: UnixMillis,
    /// Milliseconds each point covers (a whole number of windows).
    pub step_ms: i64,
    /// The points of each cohort (`canary`, `baseline`, `stable`).
    pub cohorts: BTreeMap<Cohort, Vec<Point>>,
}

/// One point of a series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Start of the time the point covers.
    pub t: UnixMillis,
    /// The value; `None` when there was no data.
    pub value: Option<f64>,
    /// The sample size behind it.
    pub samples: u64,
}

impl ControlPlane {
    /// `metric` of `rollout` per cohort over `[from, to)`, one point per window or per several
    /// windows (at most [`MAX_POINTS`] points).
    pub async fn series(
        &self,
        rollout: &str,
        metric: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<MetricSeries, ControlError> {
        let record = self.find_rollout(rollout).await?;
        let catalog = self.catalog();
        let Some(unit) = catalog.unit(metric) else {
            return Err(ControlError::not_found("metric", metric, catalog.names()));
        };
        let width = i64::from(self.inner.opts.window_ms.max(1));
        let from = Window::start_of(from, self.inner.opts.window_ms.max(1));
        let to = to.max(from);
        let windows = (to - from + width - 1) / width;
        let step_ms = ((windows + MAX_POINTS - 1) / MAX_POINTS).max(1) * width;
        let query = MetricQuery::for_record(&record, vec![metric.to_string()], from, to);
        let cohorts = self.inner.opts.windows.with(|store| {
            query
                .cohorts
                .iter()
                .map(|&cohort| {
                    let filter = query.filter(cohort);
                    let points = (0..)
                        .map(|i| from + i * step_ms)
                        .take_while(|t| *t < to)
                        .map(|t| {
                            let agg = store.aggregate(&filter, t, (t + step_ms).min(to));
                            let v = catalog.compute(metric, &agg);
                            Point {
                                t,
                                value: v.as_ref().and_then(|v| v.value),
                                samples: v.map_or(0, |v| v.samples),
                            }
                        })
                        .collect();
                    (cohort, points)
                })
                .collect()
        });
        Ok(MetricSeries {
            rollout: record.name,
            metric: metric.to_string(),
            unit,
            from,
            to,
            step_ms,
            cohorts,
        })
    }
}
