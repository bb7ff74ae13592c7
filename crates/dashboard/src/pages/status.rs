//! A rollout's state in a few words: its phase, the health of its latest verdict, and the
//! facts beside them (weight, step, time in phase, why it pauses, holds or rolls back).

use maud::{Markup, html};
use rollgate_control::RolloutView;
use rollgate_controller::Outcome;
use rollgate_core::model::Phase;

use crate::format;

/// The phase as a badge; a gradual rollback in progress says so.
pub(crate) fn phase(view: &RolloutView) -> Markup {
    let (class, text) = if view.rollback.is_some() {
        ("rolled_back", "rolling back".to_string())
    } else {
        (view.phase.as_str(), view.phase.as_str().replace('_', " "))
    };
    html! { span class=(format!("badge phase {class}")) data-phase=(view.phase.as_str()) { (text) } }
}

/// The health of the latest verdict (pass, inconclusive, fail), or why there is none.
pub(crate) fn health(view: &RolloutView) -> Markup {
    let (class, text, title) = match (&view.verdict, view.phase) {
        (Some(v), _) => {
            let word = match v.health {
                Outcome::Pass => "pass",
                Outcome::Fail => "fail",
                Outcome::Inconclusive => "inconclusive",
            };
            (word, word, v.reason.clone())
        }
        (None, Phase::RolledBack) => ("fail", "fail", "rolled back".to_string()),
        (None, _) => (
            "none",
            "—",
            "no verdict since the control plane started (or no conditions)".to_string(),
        ),
    };
    html! { span class=(format!("badge health {class}")) title=(title) { (text) } }
}

/// The facts of a rollout's header: versions, weight, step, strategy, time in phase, and the
/// reason it pauses, holds, rolls back or cannot run.
pub(crate) fn facts(view: &RolloutView) -> Markup {
    html! {
        dl.facts {
            dt { "phase" } dd #phase { (phase(view)) }
            dt { "health" } dd #health { (health(view)) }
            dt { "weight" } dd #weight.num { (view.weight) }
            dt { "versions" } dd { (view.stable) " → " strong { (view.canary) } }
            dt { "strategy" } dd { (view.strategy) @if let Some(step) = &view.step { ", " (step) } }
            dt { "in phase for" } dd title=(format::time(view.phase_since)) { (format::elapsed(view.time_in_phase_ms)) }
        }
        @if let Some(p) = &view.pause {
            p.why { "Paused: " (p.reason)
                @if let Some(until) = p.until { " (until " (format::time(until)) ")" } }
        }
        @if let Some(r) = &view.rollback {
            p.why.bad { "Rolling back since " (format::time(r.since)) ": " (r.reason) }
        }
        @if let Some(h) = &view.hold {
            p.why { "Holding since " (format::clock(h.since)) ": " (h.reason) }
        }
        @if let Some(v) = &view.verdict {
            p.why { "Latest verdict (" (format::clock(v.window_end)) "): " (v.reason) }
        }
        @if let Some(since) = view.breaker_open_since {
            p.why.bad { "The canary's circuit breaker has been open since " (format::time(since)) "." }
        }
        @if let Some(problem) = &view.problem {
            p.why.bad { "Cannot run: " (problem) }
        }
    }
}
