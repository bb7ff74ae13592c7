//! Prometheus exposition of the cumulative totals, through `prometheus-client`.
//!
//! Totals are updated once per closed window (never on the request path); a scrape locks them
//! only to encode. Labels are bounded: service, rollout, version, cohort, status class, side,
//! event name (capped by the registry) and drop reason — never a unit id.

pub mod names;
mod totals;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry as PromRegistry;
use rollgate_core::model::UnixMillis;

use self::names::*;
use self::totals::{SeriesTotals, Totals};
use crate::record::{DropCounts, DropReason, EVENT_VALUE_SCALE, ErrorSide};
use crate::series::SeriesKey;
use crate::stats::LATENCY_BUCKETS_US;
use crate::window::Window;

/// The `Content-Type` of [`Exposition::render`].
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `Content-Type` of [`Exposition::render_openmetrics`].
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Cumulative request, latency, error, event and drop totals per series, shared between the
/// thread that feeds closed windows and the `/metrics` handler. Cloning shares the totals.
#[derive(Clone, Debug)]
pub struct Exposition {
    totals: Arc<Mutex<Totals>>,
}

type Labels<'a> = [(&'static str, &'a str); 4];

impl Exposition {
    /// Empty totals tracking at most `max_series` series (records of more are counted as
    /// dropped, `series_cap`).
    pub fn new(max_series: usize) -> Exposition {
        Exposition {
            totals: Arc::new(Mutex::new(Totals::new(max_series))),
        }
    }

    /// Adds a closed window to the totals.
    pub fn add_window(&self, window: &Window) {
        self.lock().add_window(window);
    }

    /// Counts records dropped outside any window (for example by a store's cap).
    pub fn add_dropped(&self, dropped: &DropCounts) {
        self.lock().dropped.merge(dropped);
    }

    /// Stops exposing series without data in windows starting at or after `before` (retired
    /// versions). Prometheus treats the series as ended.
    pub fn forget_idle(&self, before: UnixMillis) {
        self.lock().forget_idle(before);
    }

    /// The Prometheus text format (0.0.4), served with [`CONTENT_TYPE`].
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry())?;
        Ok(out)
    }

    /// The OpenMetrics text format, served with [`OPENMETRICS_CONTENT_TYPE`].
    pub fn render_openmetrics(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry())?;
        Ok(out)
    }

    fn registry(&self) -> PromRegistry {
        let mut registry = PromRegistry::default();
        registry.register_collector(Box::new(self.clone()));
        registry
    }

    fn lock(&self) -> MutexGuard<'_, Totals> {
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let totals = self.lock();
        let series: Vec<(Labels<'_>, &SeriesTotals)> = totals
            .series
            .iter()
            .map(|(key, t)| (labels(key), t))
            .collect();
        let e = &mut encoder;
        labelled_counters(
            e,
            REQUESTS,
            "Requests by status class.",
            CODE_CLASS,
            &series,
            |t| {
                let counts = t
                    .requests
                    .status
                    .iter()
                    .copied()
                    .chain([t.requests.no_status]);
                CODE_CLASSES.iter().copied().zip(counts).collect()
            },
        )?;
        encode_latency(e, &series)?;
        let help = "Failed requests by the side that failed.";
        labelled_counters(e, ERRORS, help, SIDE, &series, |t| {
            ErrorSide::ALL
                .iter()
                .map(|&side| (side.as_str(), t.requests.errors_on(side)))
                .collect()
        })?;
        let help = "5xx responses charged to the version: the numerator of error_rate.";
        counters(e, VERSION_ERRORS, help, &series, |t| {
            t.requests.version_errors
        })?;
        let help = "Response bytes sent to clients.";
        counters(e, RESPONSE_BYTES, help, &series, |t| t.requests.bytes_out)?;
        labelled_counters(e, EVENTS, "Client events by name.", EVENT, &series, |t| {
            t.events
                .iter()
                .map(|(name, (count, _))| (name.as_ref(), *count))
                .collect()
        })?;
        encode_event_sums(e, &series)?;
        let help = "Records not counted, by reason.";
        let mut m = e.encode_descriptor(DROPPED, help, None, MetricType::Counter)?;
        for reason in DropReason::ALL {
            counter(
                &mut m,
                &[(REASON, reason.as_str())],
                totals.dropped.get(reason),
            )?;
        }
        Ok(())
    }
}

type Series<'a> = [(Labels<'a>, &'a SeriesTotals)];

/// A counter family with the series labels only.
fn counters(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &Series<'_>,
    value: impl Fn(&SeriesTotals) -> u64,
) -> std::fmt::Result {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (l, t) in series {
        counter(&mut m, l, value(t))?;
    }
    Ok(())
}

/// A counter family with one more label: `values` gives `(label value, count)` per series.
fn labelled_counters<'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    label: &'static str,
    series: &Series<'a>,
    values: impl Fn(&'a SeriesTotals) -> Vec<(&'a str, u64)>,
) -> std::fmt::Result {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (l, t) in series {
        for (value, n) in values(t) {
            counter(&mut m, &with(l, (label, value)), n)?;
        }
    }
    Ok(())
}

fn encode_latency(encoder: &mut DescriptorEncoder<'_>, series: &Series<'_>) -> std::fmt::Result {
    let help = "Request latency in seconds.";
    let mut m = encoder.encode_descriptor(REQUEST_DURATION, help, None, MetricType::Histogram)?;
    let seconds = LATENCY_BUCKETS_US.iter().map(|&us| us as f64 / 1e6);
    let bounds: Vec<f64> = seconds.chain([f64::INFINITY]).collect();
    for (l, t) in series {
        let buckets: Vec<(f64, u64)> = bounds.iter().copied().zip(t.buckets).collect();
        let sum = t.latency_sum_us as f64 / 1e6;
        m.encode_family(l)?
            .encode_histogram::<NoLabelSet>(sum, t.latency_count, &buckets, None)?;
    }
    Ok(())
}

fn encode_event_sums(encoder: &mut DescriptorEncoder<'_>, series: &Series<'_>) -> std::fmt::Result {
    let help = "Sum of client event values by name.";
    let mut m = encoder.encode_descriptor(EVENT_VALUE_SUM, help, None, MetricType::Gauge)?;
    for (l, t) in series {
        for (name, (_, sum)) in &t.events {
            let value = *sum as f64 / EVENT_VALUE_SCALE;
            m.encode_family(&with(l, (EVENT, name)))?
                .encode_gauge(&value)?;
        }
    }
    Ok(())
}

fn labels(key: &SeriesKey) -> Labels<'_> {
    [
        (SERVICE, &key.service),
        (ROLLOUT, &key.rollout),
        (VERSION, &key.version),
        (COHORT, key.cohort.as_str()),
    ]
}

fn with<'a>(labels: &Labels<'a>, extra: (&'static str, &'a str)) -> [(&'static str, &'a str); 5] {
    [labels[0], labels[1], labels[2], labels[3], extra]
}

fn counter(
    metric: &mut MetricEncoder<'_>,
    labels: &impl EncodeLabelSet,
    value: u64,
) -> std::fmt::Result {
    metric
        .encode_family(labels)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

#[cfg(test)]
mod tests {
    use rollgate_core::Cohort;

    use super::*;
    use crate::stats::SeriesStats;

    fn window(start: UnixMillis, requests: u64) -> Window {
        let mut w = Window::new(start, 1_000);
        let mut stats = SeriesStats::default();
        stats.requests.requests = requests;
        stats.requests.status[1] = requests;
        stats.latency.buckets[0] = requests;
        stats.latency.moments.n = requests;
        stats.latency.moments.sum = i128::from(requests) * 2_000;
        w.series.insert(
            SeriesKey::new("shop", "shop-v1.2", "v1.2", Cohort::Canary),
            stats,
        );
        w.dropped.late = 1;
        w
    }

    #[test]
    fn renders_cumulative_totals_with_bounded_labels() {
        let exposition = Exposition::new(10);
        exposition.add_window(&window(0, 3));
        exposition.add_window(&window(1_000, 4));
        let text = exposition.render().unwrap();
        let labels = r#"service="shop",rollout="shop-v1.2",version="v1.2",cohort="canary""#;
        for line in [
            format!("rollgate_requests_total{{{labels},code_class=\"2xx\"}} 7"),
            format!("rollgate_requests_total{{{labels},code_class=\"5xx\"}} 0"),
            format!("rollgate_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 7"),
            format!("rollgate_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 7"),
            format!("rollgate_request_duration_seconds_count{{{labels}}} 7"),
            format!("rollgate_request_duration_seconds_sum{{{labels}}} 0.014"),
            format!("rollgate_errors_total{{{labels},side=\"proxy\"}} 0"),
            r#"rollgate_dropped_records_total{reason="late"} 2"#.to_string(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(
            exposition
                .render_openmetrics()
                .unwrap()
                .ends_with("# EOF\n")
        );
    }

    #[test]
    fn caps_series_and_forgets_idle_ones() {
        let exposition = Exposition::new(1);
        exposition.add_window(&window(0, 3));
        let mut other = window(0, 5);
        let stats = other.series.pop_first().unwrap().1;
        other
            .series
            .insert(SeriesKey::new("shop", "", "v1.1", Cohort::Stable), stats);
        exposition.add_window(&other);
        let text = exposition.render().unwrap();
        assert!(!text.contains("v1.1"));
        assert!(
            text.contains(r#"rollgate_dropped_records_total{reason="series_cap"} 5"#),
            "{text}"
        );
        exposition.forget_idle(1_000);
        assert!(!exposition.render().unwrap().contains("v1.2"));
    }
}
