//! Metric values out of merged numbers, with their sample sizes and sufficient statistics.

use super::def::{CountSource, MetricDef, ValueSource};
use crate::moments::Moments;
use crate::record::EVENT_VALUE_SCALE;
use crate::stats::SeriesStats;
use crate::value::{MetricValue, SufficientStats};

/// Microseconds per millisecond: latencies are recorded in µs and reported in ms.
const US_PER_MS: f64 = 1_000.0;

/// The value of `def` over `stats`.
pub(crate) fn compute(def: &MetricDef, stats: &SeriesStats) -> MetricValue {
    match def {
        MetricDef::Count(source) => {
            let count = count(source, stats);
            MetricValue {
                value: Some(count as f64),
                samples: count,
                stats: SufficientStats::Count { count },
            }
        }
        MetricDef::Ratio {
            numerator,
            denominator,
        } => {
            let (numerator, denominator) = (count(numerator, stats), count(denominator, stats));
            MetricValue {
                value: (denominator > 0).then(|| numerator as f64 / denominator as f64),
                samples: denominator,
                stats: SufficientStats::Ratio {
                    numerator,
                    denominator,
                },
            }
        }
        MetricDef::Mean { source, .. } => match source {
            ValueSource::Latency => mean(&stats.latency.moments, US_PER_MS),
            ValueSource::Event(name) => match stats.events.get(name) {
                Some(event) => mean(&event.values, EVENT_VALUE_SCALE),
                None => mean(&Moments::default(), EVENT_VALUE_SCALE),
            },
        },
        MetricDef::Quantile { source, q, .. } => quantile(source, *q, stats),
    }
}

fn count(source: &CountSource, stats: &SeriesStats) -> u64 {
    let requests = &stats.requests;
    match source {
        CountSource::Requests => requests.requests,
        CountSource::StatusClass(class) => usize::from(*class)
            .checked_sub(1)
            .and_then(|i| requests.status.get(i))
            .copied()
            .unwrap_or(0),
        CountSource::VersionErrors => requests.version_errors,
        CountSource::Errors(side) => requests.errors_on(*side),
        CountSource::Event(name) => stats.events.get(name).map_or(0, |e| e.count),
    }
}

/// A mean of integer observations kept in `1 / scale` units, reported in whole units.
fn mean(moments: &Moments, scale: f64) -> MetricValue {
    let stats = SufficientStats::Mean {
        n: moments.n,
        mean: moments.mean().map_or(0.0, |m| m / scale),
        m2: moments.m2().map_or(0.0, |m2| m2 / (scale * scale)),
    };
    MetricValue {
        value: moments.mean().map(|m| m / scale),
        samples: moments.n,
        stats,
    }
}

fn quantile(source: &ValueSource, q: f64, stats: &SeriesStats) -> MetricValue {
    let (value, samples, bins) = match source {
        ValueSource::Latency => {
            let sketch = &stats.latency.sketch;
            let bins = sketch.values().map(|(v, c)| (v / US_PER_MS, c)).collect();
            (
                sketch.quantile(q).map(|v| v / US_PER_MS),
                sketch.count(),
                bins,
            )
        }
        ValueSource::Event(name) => match stats.events.get(name) {
            Some(event) => (event.quantile(q), event.values.n, event.bins()),
            None => (None, 0, Vec::new()),
        },
    };
    MetricValue {
        value,
        samples,
        stats: SufficientStats::Distribution { quantile: q, bins },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ErrorSide;
    use crate::sketch::Sketch;
    use crate::stats::EventStats;

    fn stats() -> SeriesStats {
        let mut s = SeriesStats::default();
        s.requests.requests = 200;
        s.requests.status = [0, 190, 0, 0, 10];
        s.requests.version_errors = 8;
        s.requests.errors = [8, 1, 2];
        for us in [1_000, 2_000, 3_000] {
            s.latency.moments.observe(us);
        }
        s.latency.sketch = Sketch::of([1_000, 2_000, 3_000]);
        let mut event = EventStats {
            count: 4,
            ..EventStats::default()
        };
        for v in [10_000_000, 30_000_000] {
            event.values.observe(v);
        }
        event.positive = Sketch::of([10_000_000, 30_000_000]);
        s.events.insert("page_load_ms".into(), event);
        s
    }

    #[test]
    fn counts_and_ratios_report_their_sample_size() {
        let s = stats();
        let requests = compute(&MetricDef::Count(CountSource::Requests), &s);
        assert_eq!(
            requests,
            MetricValue {
                value: Some(200.0),
                samples: 200,
                stats: SufficientStats::Count { count: 200 }
            }
        );
        assert_eq!(
            compute(&MetricDef::Count(CountSource::StatusClass(5)), &s).value,
            Some(10.0)
        );
        assert_eq!(
            compute(&MetricDef::Count(CountSource::Errors(ErrorSide::Proxy)), &s).value,
            Some(2.0)
        );
        let rate = compute(
            &MetricDef::Ratio {
                numerator: CountSource::VersionErrors,
                denominator: CountSource::Requests,
            },
            &s,
        );
        assert_eq!(rate.value, Some(0.04));
        assert_eq!(
            (rate.samples, rate.stats),
            (
                200,
                SufficientStats::Ratio {
                    numerator: 8,
                    denominator: 200
                }
            )
        );
        let empty = compute(
            &MetricDef::Ratio {
                numerator: CountSource::Requests,
                denominator: CountSource::Event("x".into()),
            },
            &s,
        );
        assert_eq!((empty.value, empty.samples), (None, 0));
    }

    #[test]
    fn latency_is_reported_in_milliseconds() {
        let s = stats();
        let unit = crate::value::MetricUnit::DurationMs;
        let avg = compute(
            &MetricDef::Mean {
                source: ValueSource::Latency,
                unit,
            },
            &s,
        );
        assert_eq!(avg.value, Some(2.0));
        assert_eq!(
            avg.stats,
            SufficientStats::Mean {
                n: 3,
                mean: 2.0,
                m2: 2.0
            }
        );
        let p50 = compute(
            &MetricDef::Quantile {
                source: ValueSource::Latency,
                q: 0.5,
                unit,
            },
            &s,
        );
        let value = p50.value.unwrap();
        assert!((value - 2.0).abs() <= 2.0 / 128.0, "{value}");
        let SufficientStats::Distribution { bins, .. } = p50.stats else {
            panic!("not a distribution")
        };
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 3);
    }

    #[test]
    fn event_values_are_in_their_own_unit() {
        let s = stats();
        let unit = crate::value::MetricUnit::DurationMs;
        let name: std::sync::Arc<str> = "page_load_ms".into();
        let mean = compute(
            &MetricDef::Mean {
                source: ValueSource::Event(name.clone()),
                unit,
            },
            &s,
        );
        assert_eq!((mean.value, mean.samples), (Some(20.0), 2));
        assert_eq!(
            mean.stats,
            SufficientStats::Mean {
                n: 2,
                mean: 20.0,
                m2: 200.0
            }
        );
        let p = compute(
            &MetricDef::Quantile {
                source: ValueSource::Event(name),
                q: 0.99,
                unit,
            },
            &s,
        );
        assert!(
            (p.value.unwrap() - 10.0).abs() < 0.1,
            "rank ⌊0.99·1⌋ = 0 is the smaller value"
        );
        let missing = compute(
            &MetricDef::Mean {
                source: ValueSource::Event("nope".into()),
                unit,
            },
            &s,
        );
        assert_eq!((missing.value, missing.samples), (None, 0));
    }
}
