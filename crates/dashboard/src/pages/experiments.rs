//! Experiments: the list, and one experiment's variants, allocation and per-variant metrics
//! with confidence intervals. Traffic is measured per version, so a variant has its own
//! numbers when it routes requests to a version of the experiment's service; variants that
//! only hand a value to SDKs are listed without numbers, and the page says why.
//!
//! The intervals are 95% always-valid intervals (each bound at 2.5%), the boundary the
//! rollout analysis uses, so looking at the page every few seconds does not make them lie.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use rollgate_analysis::interval;
use rollgate_analysis::stats::Anytime;
use rollgate_core::ExperimentSpec;
use rollgate_core::model::UnixMillis;
use rollgate_metrics::{MetricUnit, SeriesFilter};
use rollgate_server::percent_encode;
use rollgate_store::{ExperimentRecord, ExperimentState};

use super::layout;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::state::DashState;
use crate::{format, respond};

/// The metrics shown when the experiment declares none.
const DEFAULT_METRICS: [&str; 3] = ["requests", "error_rate", "p99_latency"];
/// The false-alarm rate of each bound of the intervals (two-sided 95%).
const ALPHA_PER_SIDE: f64 = 0.025;

/// `GET /experiments`.
pub(crate) async fn list(
    State(state): State<DashState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let experiments = state.control.experiments().await?;
    let notice = state.sessions.take_notice(&user.id);
    let body = html! {
        h1 { "Experiments" }
        @if experiments.is_empty() { p.empty { "No experiment yet. Declare one in " code { "[[experiments]]" } " or " code { "POST /api/v1/experiments" } "." } }
        @else {
            table.experiments {
                thead { tr { th { "Experiment" } th { "Service" } th { "Layer" } th.num { "Allocation" } th { "Variants" } th { "State" } th { "Started" } } }
                tbody {
                    @for e in &experiments { (list_row(e)) }
                }
            }
        }
    };
    Ok(respond::ok(layout::page(
        "Experiments",
        &user,
        notice.as_ref(),
        0,
        body,
    )))
}

fn list_row(e: &ExperimentRecord) -> Markup {
    let spec: Option<ExperimentSpec> = serde_json::from_value(e.spec.clone()).ok();
    html! {
        tr {
            td { a href=(format!("/experiments/{}", percent_encode(&e.name))) { (e.name) } }
            @if let Some(s) = &spec {
                td { (s.service.as_deref().unwrap_or("any")) }
                td { (s.layer()) }
                td.num { (s.allocation) }
                td { @for v in &s.variants { span.tag { (v.name) " " (v.weight) } " " } }
            } @else {
                td colspan="4" { "unreadable spec" }
            }
            td { (state_badge(e.state)) }
            td { (format::time(e.created_at)) }
        }
    }
}

/// `GET /experiments/{name}`.
pub(crate) async fn show(
    State(state): State<DashState>,
    user: SignedIn,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let record = state.control.experiment(&name).await?;
    let spec: ExperimentSpec = serde_json::from_value(record.spec.clone()).map_err(|e| {
        PageError::Unavailable(format!("the stored spec of {name:?} is unreadable: {e}"))
    })?;
    let now = state.control.now();
    let retention = i64::try_from(state.control.options().retention_ms).unwrap_or(i64::MAX);
    let to = record.stopped_at.unwrap_or(now).min(now);
    let from = record.created_at.max(now.saturating_sub(retention));
    let notice = state.sessions.take_notice(&user.id);
    let body = html! {
        nav.crumbs { a href="/experiments" { "Experiments" } " / " (record.name) }
        h1 { (record.name) " " (state_badge(record.state)) }
        dl.facts {
            dt { "service" } dd { (spec.service.as_deref().unwrap_or("any (SDK lookups)")) }
            dt { "layer" } dd { (spec.layer()) }
            dt { "allocation" } dd.num { (spec.allocation) " of the layer's units" }
            dt { "started" } dd { (format::time(record.created_at)) }
            @if let Some(s) = record.stopped_at { dt { "stopped" } dd { (format::time(s)) } }
        }
        h2 { "Variants" }
        (variants(&spec))
        h2 { "Metrics per variant" }
        p.sub { "From " (format::time(from)) " to " (format::time(to))
            " (metric windows are kept for " (format::elapsed(retention)) "). Intervals: 95%, always valid." }
        (metrics(&state, &spec, from, to))
    };
    Ok(respond::ok(layout::page(
        &record.name,
        &user,
        notice.as_ref(),
        0,
        body,
    )))
}

fn variants(spec: &ExperimentSpec) -> Markup {
    html! {
        table.variants {
            thead { tr { th { "Variant" } th.num { "Weight" } th.num { "Share of all units" } th { "Value" } th { "Version" } } }
            tbody {
                @for v in &spec.variants {
                    tr data-variant=(v.name) {
                        td { strong { (v.name) } }
                        td.num { (v.weight) }
                        td.num { (format::ratio(spec.allocation.as_fraction() * v.weight.as_fraction())) }
                        td { @if let Some(val) = &v.value { code { (val) } } @else { "—" } }
                        td { (v.version.as_deref().unwrap_or("—")) }
                    }
                }
            }
        }
    }
}

fn metrics(state: &DashState, spec: &ExperimentSpec, from: UnixMillis, to: UnixMillis) -> Markup {
    let catalog = state.control.catalog();
    let names: Vec<&str> = if spec.metrics.is_empty() {
        DEFAULT_METRICS.to_vec()
    } else {
        spec.metrics.iter().map(String::as_str).collect()
    };
    let anytime = Anytime::new(ALPHA_PER_SIDE, Anytime::DEFAULT_DESIGN_SAMPLES).ok();
    let windows = &state.control.options().windows;
    let Some(service) = spec.service.as_deref().filter(|_| spec.routes_versions()) else {
        return html! { p.empty { "Rollgate measures traffic per version. This experiment's variants hand values to SDKs without routing requests to versions, so their outcomes are measured by the application (declare its events as metrics and send them to /v1/events with the variant's version)." } };
    };
    html! {
        table.variant-metrics {
            thead { tr { th { "Variant" } @for m in &names { th.num { (m) } } } }
            tbody {
                @for v in &spec.variants {
                    tr data-variant=(v.name) {
                        td { strong { (v.name) } @if let Some(ver) = &v.version { " (" (ver) ")" } }
                        @for m in &names {
                            td.num {
                                @match &v.version {
                                    None => "not routed",
                                    Some(version) => {
                                        @let agg = windows.aggregate(&SeriesFilter::all().with_service(service).with_version(version), from, to);
                                        @let unit = catalog.unit(m).unwrap_or(MetricUnit::Number);
                                        @match catalog.compute(m, &agg) {
                                            None => "unknown metric",
                                            Some(value) => {
                                                @match value.value {
                                                    None => "no data",
                                                    Some(est) => {
                                                        span.num { (format::value(unit, est)) }
                                                        @if let Some(i) = anytime.and_then(|a| interval(&value, &a)).filter(|i| i.lo != i.hi) {
                                                            br; span.ci { "[" (format::value(unit, i.lo)) ", " (format::value(unit, i.hi)) "]" }
                                                        }
                                                        br; span.samples { "n=" (format::thousands(value.samples)) }
                                                    },
                                                }
                                            },
                                        }
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn state_badge(s: ExperimentState) -> Markup {
    let class = match s {
        ExperimentState::Running => "badge phase progressing",
        ExperimentState::Stopped => "badge phase aborted",
    };
    html! { span class=(class) { (s.as_str()) } }
}
