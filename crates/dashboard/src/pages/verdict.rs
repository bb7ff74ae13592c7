//! The current verdict of every condition of a rollout, with its numbers: each metric the
//! condition reads (point estimate, always-valid bounds, samples), each comparison and how it
//! was judged, the p-value and the run's failure and inconclusive counts; then the
//! sample-ratio check.

use maud::{Markup, html};
use rollgate_analysis::{ConditionVerdict, Method, MetricReading, Outcome, RolloutVerdict};
use rollgate_expr::{Scope, Truth};
use rollgate_metrics::{Catalog, MetricUnit};

use crate::format;

/// The verdict section of a rollout page.
pub(crate) fn render(
    verdict: Option<&RolloutVerdict>,
    terminal: bool,
    catalog: &Catalog,
) -> Markup {
    let Some(v) = verdict else {
        return html! {
            p.empty {
                @if terminal {
                    "The rollout is over; the verdict that decided it is in the decision log below."
                } @else {
                    "No verdict yet: the analysis judges each closed window of the current step once enough data has arrived (or the rollout has no conditions)."
                }
            }
        };
    };
    html! {
        p { "Overall: " (outcome(v.outcome)) " at " (v.weight) " — " (v.reason)
            @if v.escalate { " " span.badge.health.fail { "asks for a person" } } }
        table.verdicts {
            thead { tr { th { "Condition" } th { "Verdict" } th { "Numbers" } th.num { "p" } th.num { "Fails / undecided" } } }
            tbody {
                @for c in &v.conditions {
                    (row(c, catalog))
                }
            }
        }
        p.srm { "Sample ratio: "
            @if v.srm.checked {
                "canary " (format::thousands(v.srm.canary)) " vs baseline " (format::thousands(v.srm.baseline))
                " (expected canary share " (format::ratio(v.srm.expected_canary_share)) ")"
                @if let Some(p) = v.srm.p_value { ", p=" (format::p_value(p)) }
                @if v.srm.alarm { " " span.badge.health.fail { "mismatch" } }
                " — "
            }
            (v.srm.reason)
        }
    }
}

fn row(c: &ConditionVerdict, catalog: &Catalog) -> Markup {
    html! {
        tr data-condition=(c.name) {
            td {
                strong { (c.name) } br;
                code { (c.condition) }
                @if !c.critical { " " span.tag { "non-critical" } }
                @if c.immediate { " " span.tag { "immediate" } }
            }
            td { (outcome(c.outcome)) @if c.waiting_for_data { br; span.tag { "waiting for data" } } }
            td {
                ul.numbers {
                    @for r in &c.values { li { (reading(r, catalog)) } }
                    @for cmp in &c.comparisons {
                        li { code { (cmp.text) } " → " (truth(cmp.truth)) " " span.method { "(" (method(cmp.method)) ")" } }
                    }
                }
                p.reason { (c.reason) }
            }
            td.num { @if let Some(p) = c.p_value { (format::p_value(p)) } @else { "—" } }
            td.num { (c.failures) " / " (c.inconclusives) }
        }
    }
}

fn reading(r: &MetricReading, catalog: &Catalog) -> Markup {
    let unit = catalog.unit(&r.metric).unwrap_or(MetricUnit::Number);
    let name = match r.scope {
        Scope::Canary => r.metric.clone(),
        scope => format!("{}.{}", scope.name(), r.metric),
    };
    let bound = |b: Option<f64>| b.map_or("∞".to_string(), |b| format::value(unit, b));
    html! {
        code { (name) } " = "
        @match r.value {
            Some(v) => {
                span.num { (format::value(unit, v)) }
                " [" (r.lower.map_or("−∞".to_string(), |b| format::value(unit, b))) ", " (bound(r.upper)) "]"
            },
            None => "no data",
        }
        " " span.samples { "n=" (format::thousands(r.samples)) }
    }
}

fn outcome(o: Outcome) -> Markup {
    let word = match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Inconclusive => "inconclusive",
    };
    html! { span class=(format!("badge health {word}")) { (word) } }
}

fn truth(t: Truth) -> &'static str {
    match t {
        Truth::True => "holds",
        Truth::False => "does not hold",
        Truth::Unknown => "undecided",
    }
}

fn method(m: Method) -> &'static str {
    match m {
        Method::Sequential => "sequential test",
        Method::Intervals => "confidence intervals",
        Method::MannWhitney => "Mann-Whitney U",
        Method::PointEstimate => "point estimates",
    }
}
