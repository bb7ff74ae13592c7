//! Metric values as intervals: a point estimate with always-valid bounds at a given level.

use rollgate_expr::{Env, Interval, MetricRef, Scope};
use rollgate_metrics::{MetricValue, SufficientStats};
use serde::{Deserialize, Serialize};

use crate::document::{RolloutMetrics, cohort_of};
use crate::stats::{Anytime, Estimate, quantile_bounds};

/// One metric of one cohort as a verdict read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricReading {
    /// The cohort.
    pub scope: Scope,
    /// The metric.
    pub metric: String,
    /// The point estimate, `None` without data.
    pub value: Option<f64>,
    /// Always-valid lower bound at the level the condition used; `None` when unbounded.
    pub lower: Option<f64>,
    /// Always-valid upper bound; `None` when unbounded.
    pub upper: Option<f64>,
    /// Observations behind the value.
    pub samples: u64,
}

/// The value of a metric with bounds that hold at level `1 − α` uniformly over time:
/// proportions and means by the sequential boundary, quantiles by order statistics, counts
/// exactly. `None` without data (or a mean of fewer than two observations).
pub fn interval(value: &MetricValue, anytime: &Anytime) -> Option<Interval> {
    let est = value.value?;
    match &value.stats {
        SufficientStats::Count { .. } => Some(Interval::exact(est)),
        SufficientStats::Ratio {
            numerator,
            denominator,
        } => {
            let e = Estimate::proportion(*numerator, *denominator)?;
            let t = anytime.test(&e);
            let upper = if numerator <= denominator {
                t.upper.min(1.0)
            } else {
                t.upper
            };
            Interval::new(t.lower.max(0.0), e.value, upper)
        }
        SufficientStats::Mean { n, mean, m2 } => {
            let t = anytime.test(&Estimate::mean(*n, *mean, *m2)?);
            Interval::new(t.lower, t.estimate, t.upper)
        }
        SufficientStats::Distribution { quantile, bins } => {
            let b = quantile_bounds(bins, *quantile, anytime).ok()?;
            let lo = b.lower.unwrap_or(f64::NEG_INFINITY).min(est);
            let hi = b.upper.unwrap_or(f64::INFINITY).max(est);
            Interval::new(lo, est, hi)
        }
    }
}

/// Reads cohorts' metrics out of a document as intervals at one level, each computed once.
pub(crate) struct IntervalEnv<'a> {
    doc: &'a RolloutMetrics,
    anytime: Anytime,
    cache: Vec<(Scope, &'a str, Option<Interval>)>,
}

impl Env for IntervalEnv<'_> {
    fn value(&self, scope: Scope, metric: &str) -> Option<Interval> {
        match self
            .cache
            .iter()
            .find(|(s, m, _)| *s == scope && *m == metric)
        {
            Some((_, _, cached)) => *cached,
            None => interval(self.doc.value(cohort_of(scope), metric)?, &self.anytime),
        }
    }
}

impl<'a> IntervalEnv<'a> {
    /// An environment over `doc` at the level of `anytime`, with `metrics` computed up front.
    pub fn new(
        doc: &'a RolloutMetrics,
        anytime: Anytime,
        metrics: &'a [MetricRef],
    ) -> IntervalEnv<'a> {
        let cache = metrics
            .iter()
            .map(|m| {
                let value = doc.value(cohort_of(m.scope), &m.name);
                (
                    m.scope,
                    m.name.as_str(),
                    value.and_then(|v| interval(v, &anytime)),
                )
            })
            .collect();
        IntervalEnv {
            doc,
            anytime,
            cache,
        }
    }

    /// The level the intervals hold at.
    pub fn anytime(&self) -> Anytime {
        self.anytime
    }

    /// The reading of one metric for a verdict.
    pub fn reading(&self, scope: Scope, metric: &str) -> MetricReading {
        let value = self.doc.value(cohort_of(scope), metric);
        let bounds = self.value(scope, metric);
        let finite = |x: f64| x.is_finite().then_some(x);
        MetricReading {
            scope,
            metric: metric.to_owned(),
            value: value.and_then(|v| v.value),
            lower: bounds.and_then(|b| finite(b.lo)),
            upper: bounds.and_then(|b| finite(b.hi)),
            samples: value.map_or(0, |v| v.samples),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ratio(x: u64, n: u64) -> MetricValue {
        MetricValue {
            value: Some(x as f64 / n as f64),
            samples: n,
            stats: SufficientStats::Ratio {
                numerator: x,
                denominator: n,
            },
        }
    }

    #[test]
    fn ratio_bounds_stay_in_the_unit_interval() {
        let a = Anytime::default();
        let zero = interval(&ratio(0, 400), &a).unwrap();
        assert_eq!((zero.lo, zero.est), (0.0, 0.0));
        assert!(zero.hi > 0.0 && zero.hi < 0.05, "{zero:?}");
        let all = interval(&ratio(400, 400), &a).unwrap();
        assert_eq!(all.hi, 1.0);
    }

    #[test]
    fn counts_are_exact_and_missing_is_none() {
        let a = Anytime::default();
        let count = MetricValue {
            value: Some(7.0),
            samples: 7,
            stats: SufficientStats::Count { count: 7 },
        };
        assert_eq!(interval(&count, &a), Some(Interval::exact(7.0)));
        let missing = MetricValue::missing(SufficientStats::Count { count: 0 });
        assert_eq!(interval(&missing, &a), None);
    }

    #[test]
    fn quantile_without_enough_data_is_unbounded_above() {
        let bins: Vec<(f64, u64)> = (1..=300).map(|i| (i as f64, 1)).collect();
        let v = MetricValue {
            value: Some(297.0),
            samples: 300,
            stats: SufficientStats::Distribution {
                quantile: 0.99,
                bins,
            },
        };
        let i = interval(&v, &Anytime::default()).unwrap();
        assert!(i.lo < 297.0 && i.hi == f64::INFINITY, "{i:?}");
    }
}
