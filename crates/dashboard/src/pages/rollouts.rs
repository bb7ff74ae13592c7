//! The rollouts list: every running rollout, then the finished ones (newest first), with
//! service, versions, phase, weight, health and time in phase. Refreshed live.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use rollgate_control::RolloutView;
use rollgate_server::percent_encode;
use rollgate_store::RolloutFilter;
use serde::Deserialize;

use super::{layout, status};
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::state::DashState;
use crate::{format, respond};

/// Finished rollouts shown unless all are asked for.
const FINISHED_SHOWN: usize = 100;

/// `?all=1` shows every finished rollout.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    all: Option<String>,
}

/// `GET /` and `GET /rollouts`.
pub(crate) async fn show(
    State(state): State<DashState>,
    user: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let live = live_block(&state, &q).await?;
    let notice = state.sessions.take_notice(&user.id);
    Ok(respond::ok(layout::page(
        "Rollouts",
        &user,
        notice.as_ref(),
        state.opts.refresh.as_millis(),
        html! { h1 { "Rollouts" } (live) },
    )))
}

/// `GET /live/rollouts`: the table alone, for the page script.
pub(crate) async fn live(
    State(state): State<DashState>,
    _user: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    Ok(respond::ok(live_block(&state, &q).await?))
}

async fn live_block(state: &DashState, q: &ListQuery) -> Result<Markup, PageError> {
    let all = q.all.is_some();
    let views = state.control.rollouts(&RolloutFilter::default()).await?;
    let (mut active, mut finished): (Vec<RolloutView>, Vec<RolloutView>) =
        views.into_iter().partition(|v| !v.phase.is_terminal());
    active.sort_by_key(|v| v.created_at);
    finished.sort_by_key(|v| std::cmp::Reverse(v.updated_at));
    let hidden = if all {
        0
    } else {
        finished.len().saturating_sub(FINISHED_SHOWN)
    };
    finished.truncate(finished.len() - hidden);
    let url = if all {
        "/live/rollouts?all=1"
    } else {
        "/live/rollouts"
    };
    Ok(html! {
        div #live data-live=(url) data-phase="" {
            h2 { "Running " span.count { "(" (active.len()) ")" } }
            @if active.is_empty() {
                p.empty { "No rollout is running." }
            } @else {
                (table(&active))
            }
            h2 { "Finished" }
            @if finished.is_empty() {
                p.empty { "None yet." }
            } @else {
                (table(&finished))
            }
            @if hidden > 0 {
                p { (hidden) " older finished rollouts are not shown. " a href="/?all=1" { "Show all" } }
            }
            p.refreshed { "As of " span #as-of { (format::time(state.control.now())) } }
        }
    })
}

fn table(views: &[RolloutView]) -> Markup {
    html! {
        table.rollouts {
            thead { tr {
                th { "Rollout" } th { "Service" } th { "Stable → canary" } th { "Phase" }
                th.num { "Weight" } th { "Health" } th { "Step" } th { "In phase" }
            } }
            tbody {
                @for v in views {
                    tr data-rollout=(v.name) {
                        td { a href=(format!("/rollouts/{}", percent_encode(&v.name))) { (v.name) } }
                        td { a href=(format!("/services/{}", percent_encode(&v.service))) { (v.service) } }
                        td { (v.stable) " → " strong { (v.canary) } }
                        td { (status::phase(v)) }
                        td.num { (v.weight) }
                        td { (status::health(v)) }
                        td { (v.step.as_deref().unwrap_or(v.strategy.as_str())) }
                        td title=(format::time(v.phase_since)) { (format::elapsed(v.time_in_phase_ms)) }
                    }
                }
            }
        }
    }
}
