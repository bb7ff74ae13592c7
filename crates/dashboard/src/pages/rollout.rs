//! A rollout's page: its state, live charts per cohort with the failure thresholds, the
//! weight over time with every decision, the verdict of every condition, the decision log,
//! and — for operators — the buttons. Everything under `#live` is refreshed by the page
//! script; the page reloads itself when the phase changes (so the buttons follow it).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use rollgate_control::RolloutView;
use rollgate_server::percent_encode;
use rollgate_store::{DecisionQuery, Order};
use serde::Deserialize;

use super::{charts, decisions, layout, status, verdict};
use crate::auth::SignedIn;
use crate::confirm::{Act, BUTTONS};
use crate::error::PageError;
use crate::state::DashState;
use crate::threshold::Conditions;
use crate::{format, respond};

/// `?before=ID`: the page of the decision log older than decision `ID`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    before: Option<i64>,
}

/// `GET /rollouts/{name}`.
pub(crate) async fn show(
    State(state): State<DashState>,
    user: SignedIn,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let view = state.control.rollout(&name).await?;
    let live = live_block(&state, &view, &q).await?;
    let notice = state.sessions.take_notice(&user.id);
    let service = percent_encode(&view.service);
    let body = html! {
        nav.crumbs { a href="/" { "Rollouts" } " / " (view.name) }
        h1 { (view.name) }
        p.sub {
            "Service " a href=(format!("/services/{service}")) { (view.service) } ": "
            (view.stable) " → " strong { (view.canary) }
            " · created " (format::time(view.created_at))
        }
        @if user.can_act() { (actions(&user, &view)) }
        (live)
    };
    Ok(respond::ok(layout::page(
        &view.name,
        &user,
        notice.as_ref(),
        state.opts.refresh.as_millis(),
        body,
    )))
}

/// `GET /rollouts/{name}/live`: the live part alone, for the page script.
pub(crate) async fn live(
    State(state): State<DashState>,
    _user: SignedIn,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let view = state.control.rollout(&name).await?;
    Ok(respond::ok(live_block(&state, &view, &q).await?))
}

async fn live_block(
    state: &DashState,
    view: &RolloutView,
    q: &PageQuery,
) -> Result<Markup, PageError> {
    let now = state.control.now();
    let catalog = state.control.catalog();
    let conditions = Conditions::of(&view.spec, &rollgate_config::expr_catalog(catalog));
    let (from, to) = charts::range(view, now, state.opts.chart_range_ms());
    let metric_charts = charts::metric_charts(state, view, &conditions, from, to).await?;
    let (weight_decisions, w_from, w_to) = charts::weight_chart_data(state, view, now).await?;
    let verdict = state.control.verdict(&view.name).await?;
    let page = state
        .control
        .decisions(&DecisionQuery {
            rollout: Some(view.name.clone()),
            before_id: q.before,
            limit: Some(state.opts.decisions_per_page.max(1)),
            order: Order::NewestFirst,
            ..DecisionQuery::default()
        })
        .await?;
    let name = percent_encode(&view.name);
    let url = match q.before {
        Some(b) => format!("/rollouts/{name}/live?before={b}"),
        None => format!("/rollouts/{name}/live"),
    };
    let minutes = state.opts.chart_range.as_secs() / 60;
    let key = format!("{}:{}", view.phase.as_str(), view.rollback.is_some());
    Ok(html! {
        div #live data-live=(url) data-phase=(key) {
            section.status { (status::facts(view)) }
            section.charts {
                h2 {
                    "Metrics per cohort, "
                    @if to - from < state.opts.chart_range_ms() { "since " (format::clock(from)) " UTC" }
                    @else if view.phase.is_terminal() { "the " (minutes) " minutes before it finished" }
                    @else { "last " (minutes) " minutes" }
                    @if view.phase.is_terminal() { " (until " (format::clock(to)) ")" }
                }
                div.grid {
                    @for c in &metric_charts { (c.render()) }
                }
            }
            section.weight {
                h2 { "Weight and decisions since " (format::time(w_from)) }
                (charts::weight_chart(view, &weight_decisions, w_from, w_to))
            }
            section.verdict {
                h2 { "Conditions" }
                (verdict::render(verdict.as_ref(), view.phase.is_terminal(), catalog))
            }
            section #decisions {
                h2 { "Decision log" }
                (decisions::render(&view.name, &page, q.before))
            }
            p.refreshed { "As of " span #as-of { (format::time(now)) } }
        }
    })
}

/// The buttons the rollout's phase allows, each with its confirmation text, and the weight
/// form (confirmed on a page of its own, since the text depends on the weight typed).
fn actions(user: &SignedIn, view: &RolloutView) -> Markup {
    let base = format!("/rollouts/{}", percent_encode(&view.name));
    let buttons: Vec<Act> = BUTTONS
        .iter()
        .copied()
        .filter(|a| a.allowed(view))
        .collect();
    let weight = Act::SetWeight(view.weight);
    html! {
        section #actions {
            @for act in &buttons {
                form.action method="post" action=(format!("{base}/{}", act.verb())) data-confirm=(act.describe(view)) {
                    (layout::csrf_field(user))
                    input type="hidden" name="confirmed" value="";
                    button type="submit" class=(format!("act {}", act.verb())) { (act.label()) }
                }
            }
            @if weight.allowed(view) {
                form.action.weight method="post" action=(format!("{base}/weight")) {
                    (layout::csrf_field(user))
                    label for="weight-input" { "Canary weight (%)" }
                    input #weight-input type="number" name="weight" min="0" max="100" step="any"
                        value=(view.weight.as_percent()) required;
                    button type="submit" class="act weight" { "Set weight…" }
                }
            }
            @if buttons.is_empty() && !weight.allowed(view) {
                p.empty { "No action is possible in this phase." }
            }
        }
    }
}
