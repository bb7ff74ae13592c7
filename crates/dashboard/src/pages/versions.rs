//! Services and their versions: every immutable snapshot (endpoints, labels, who registered
//! it), which version was stable when, and — for operators — a restore button on every
//! version that is not the stable one.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use rollgate_server::percent_encode;
use rollgate_store::{RolloutFilter, StablePeriod, VersionEntry};

use super::layout;
use crate::auth::SignedIn;
use crate::confirm;
use crate::error::PageError;
use crate::state::DashState;
use crate::{format, respond};

/// `GET /services`.
pub(crate) async fn list(
    State(state): State<DashState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let services = state.control.services().await?;
    let notice = state.sessions.take_notice(&user.id);
    let body = html! {
        h1 { "Services" }
        @if services.is_empty() { p.empty { "No service is configured." } }
        @else {
            table.services {
                thead { tr { th { "Service" } th { "Stable version" } th { "Since" } th { "Running rollout" } } }
                tbody {
                    @for s in &services {
                        tr {
                            td { a href=(format!("/services/{}", percent_encode(&s.name))) { (s.name) } }
                            td { @if let Some(st) = &s.stable { strong { (st.version) } } @else { "—" } }
                            td { @if let Some(st) = &s.stable { (format::time(st.since)) " by " (st.actor) } }
                            td { @if let Some(r) = &s.rollout { a href=(format!("/rollouts/{}", percent_encode(r))) { (r) } } @else { "—" } }
                        }
                    }
                }
            }
        }
    };
    Ok(respond::ok(layout::page(
        "Services",
        &user,
        notice.as_ref(),
        0,
        body,
    )))
}

/// `GET /services/{service}`: the versions page.
pub(crate) async fn show(
    State(state): State<DashState>,
    user: SignedIn,
    Path(service): Path<String>,
) -> Result<Response, PageError> {
    let ServiceVersions {
        versions,
        stable,
        running,
    } = ServiceVersions::of(&state, &service).await?;
    let notice = state.sessions.take_notice(&user.id);
    let body = html! {
        nav.crumbs { a href="/services" { "Services" } " / " (service) }
        h1 { "Versions of " (service) }
        p.sub {
            "Stable now: " strong { (stable.as_deref().unwrap_or("none")) }
            @if let Some(r) = &running { " · running rollout " a href=(format!("/rollouts/{}", percent_encode(r))) { (r) } }
        }
        (versions_table(&user, &service, &versions, stable.as_deref(), running.as_deref()))
        h2 { "Which version was stable when" }
        (history(&versions))
    };
    Ok(respond::ok(layout::page(
        &format!("Versions of {service}"),
        &user,
        notice.as_ref(),
        0,
        body,
    )))
}

/// A service's versions, its stable version and its running rollout.
pub(crate) struct ServiceVersions {
    /// Every snapshot with its stable periods, oldest first.
    pub versions: Vec<VersionEntry>,
    /// The stable version now.
    pub stable: Option<String>,
    /// The running rollout of the service, if any.
    pub running: Option<String>,
}

impl ServiceVersions {
    /// Asks the control plane about `service`.
    pub(crate) async fn of(state: &DashState, service: &str) -> Result<ServiceVersions, PageError> {
        let versions = state.control.versions(service).await?;
        let running = state
            .control
            .rollouts(&RolloutFilter {
                active_only: true,
                service: Some(service.to_string()),
            })
            .await?;
        let stable = versions
            .iter()
            .find(|v| v.is_stable())
            .map(|v| v.snapshot.name.clone());
        Ok(ServiceVersions {
            versions,
            stable,
            running: running.into_iter().next().map(|r| r.name),
        })
    }
}

fn versions_table(
    user: &SignedIn,
    service: &str,
    versions: &[VersionEntry],
    stable: Option<&str>,
    running: Option<&str>,
) -> Markup {
    let svc = percent_encode(service);
    html! {
        table.versions {
            thead { tr { th { "Version" } th { "Endpoints" } th { "Labels" } th { "Registered" } th { "Stable" }
                @if user.can_act() { th { "Action" } } } }
            tbody {
                @for v in versions.iter().rev() {
                    @let snap = &v.snapshot;
                    tr data-version=(snap.name) {
                        td { strong { (snap.name) } }
                        td { @for e in &snap.endpoints { code { (e) } " " } }
                        td { @for (k, val) in &snap.labels { span.tag { (k) "=" (val) } " " } }
                        td { (format::time(snap.created_at)) " by " (snap.created_by) }
                        td { @if v.is_stable() { span.badge.health.pass { "stable now" } }
                             @else if v.stable_periods.is_empty() { "never" }
                             @else { (v.stable_periods.len()) " earlier period(s)" } }
                        @if user.can_act() {
                            td {
                                @if !v.is_stable() {
                                    form.action method="post"
                                        action=(format!("/services/{svc}/versions/{}/restore", percent_encode(&snap.name)))
                                        data-confirm=(confirm::restore_text(service, &snap.name, stable, running)) {
                                        (layout::csrf_field(user))
                                        input type="hidden" name="confirmed" value="";
                                        button.act.restore type="submit" { "Restore" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every stable period of every version, newest first.
fn history(versions: &[VersionEntry]) -> Markup {
    let mut periods: Vec<(&str, &StablePeriod)> = versions
        .iter()
        .flat_map(|v| {
            v.stable_periods
                .iter()
                .map(move |p| (v.snapshot.name.as_str(), p))
        })
        .collect();
    periods.sort_by_key(|(_, p)| std::cmp::Reverse(p.since));
    html! {
        table.history {
            thead { tr { th { "From (UTC)" } th { "Until" } th { "Stable version" } th { "Made stable by" } th { "Why" } } }
            tbody {
                @for (name, p) in &periods {
                    tr {
                        td { (format::time(p.since)) }
                        td { @if let Some(u) = p.until { (format::time(u)) } @else { strong { "now" } } }
                        td { strong { (name) } }
                        td { (p.actor) }
                        td { (p.reason) }
                    }
                }
            }
        }
    }
}
