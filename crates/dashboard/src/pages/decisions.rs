//! The decision log of a rollout, newest first, one page at a time: when, who, what (phase
//! and weight before → after), why, and the numbers behind it (each condition's verdict line
//! from the decision's details).

use maud::{Markup, html};
use rollgate_control::DecisionPage;
use rollgate_core::model::DecisionRecord;
use rollgate_server::percent_encode;
use serde_json::Value;

use crate::format;

/// Longest raw details shown for a decision whose details are not a verdict.
const RAW_DETAILS: usize = 600;

/// The log section: the page of decisions and links to older and newer ones.
pub(crate) fn render(rollout: &str, page: &DecisionPage, before: Option<i64>) -> Markup {
    let base = format!("/rollouts/{}", percent_encode(rollout));
    html! {
        p.count {
            "Showing " (page.decisions.len()) " of " (format::thousands(page.total)) " decisions, newest first."
            @if before.is_some() { " " a href=(format!("{base}#decisions")) { "Newest" } }
            @if let Some(next) = page.next { " " a.older href=(format!("{base}?before={next}#decisions")) { "Older" } }
        }
        table.decisions {
            thead { tr {
                th { "When (UTC)" } th { "Who" } th { "What" } th { "Phase" } th.num { "Weight" } th { "Why, with the numbers" }
            } }
            tbody {
                @for d in &page.decisions { (row(d)) }
            }
        }
    }
}

fn row(d: &DecisionRecord) -> Markup {
    let lines = condition_lines(&d.details);
    html! {
        tr data-action=(d.action.as_str()) data-actor=(d.actor.to_string()) {
            td title=(format::time(d.at)) { (format::time(d.at).trim_end_matches(" UTC")) }
            td { (d.actor) }
            td { span class=(format!("action {}", d.action.as_str())) { (d.action) } }
            td { (d.phase_before.as_str()) @if d.phase_before != d.phase_after { " → " strong { (d.phase_after.as_str()) } } }
            td.num { (d.weight_before) @if d.weight_before != d.weight_after { " → " strong { (d.weight_after) } } }
            td {
                (d.reason)
                @if !lines.is_empty() {
                    details { summary { "numbers" } ul { @for l in &lines { li { (l) } } } }
                } @else if !d.details.is_null() {
                    details { summary { "details" } pre { (raw(&d.details)) } }
                }
            }
        }
    }
}

/// One line per condition when the details are (or contain) a verdict: `name: reason`. The
/// controller's details are the health it acted on, whose own `details` are the verdict.
fn condition_lines(details: &Value) -> Vec<String> {
    let conditions = [
        details.get("conditions"),
        details.pointer("/details/conditions"),
        details.pointer("/verdict/conditions"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_array);
    conditions
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    let name = c.get("name")?.as_str()?;
                    let reason = c.get("reason")?.as_str()?;
                    Some(format!("{name}: {reason}"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn raw(details: &Value) -> String {
    let text = details.to_string();
    if text.len() <= RAW_DETAILS {
        return text;
    }
    let mut end = RAW_DETAILS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn verdict_details_become_one_line_per_condition() {
        let d = json!({"outcome": "fail", "conditions": [
            {"name": "errors", "reason": "error_rate 12% vs baseline 0.2%, fails \"error_rate > 5%\""},
            {"name": "latency", "reason": "p99 ok"}
        ]});
        assert_eq!(
            condition_lines(&d),
            [
                "errors: error_rate 12% vs baseline 0.2%, fails \"error_rate > 5%\"",
                "latency: p99 ok"
            ]
        );
        let nested = json!({"verdict": {"conditions": [{"name": "a", "reason": "b"}]}});
        assert_eq!(condition_lines(&nested), ["a: b"]);
        let health =
            json!({"outcome": "fail", "details": {"conditions": [{"name": "c", "reason": "d"}]}});
        assert_eq!(condition_lines(&health), ["c: d"]);
        assert!(condition_lines(&json!({"labels": {}})).is_empty());
        assert!(condition_lines(&Value::Null).is_empty());
    }

    #[test]
    fn raw_details_are_cut_on_a_char_boundary() {
        let long = json!({"x": "é".repeat(1_000)});
        let text = raw(&long);
        assert!(text.ends_with('…') && text.len() <= RAW_DETAILS + 4);
    }
}
