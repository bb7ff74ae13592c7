//! The buttons' POST handlers. Each one, in this order: needs a signed-in session, refuses
//! a role weaker than operator, checks the CSRF token and the origin, then — unless the form
//! says `confirmed=1` (the script asked already) — answers with a confirmation page that says
//! exactly what will happen; once confirmed, runs the command through the control plane with
//! the token's name as the actor, leaves the outcome as a notice and goes back to the page.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use rollgate_control::ControlError;
use rollgate_server::percent_encode;
use serde::Deserialize;

use crate::auth::SignedIn;
use crate::confirm::{self, Act};
use crate::csrf;
use crate::error::PageError;
use crate::pages::versions::ServiceVersions;
use crate::respond;
use crate::session::Notice;
use crate::state::DashState;

/// The fields an action form may carry.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActionForm {
    csrf: Option<String>,
    confirmed: Option<String>,
    weight: Option<String>,
}

impl ActionForm {
    fn confirmed(&self) -> bool {
        self.confirmed.as_deref() == Some("1")
    }
}

/// `POST /rollouts/{name}/{action}`: pause, resume, promote, abort, retry, weight.
pub(crate) async fn rollout(
    State(state): State<DashState>,
    user: SignedIn,
    headers: HeaderMap,
    uri: Uri,
    Path((name, verb)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    user.require_operator(&format!("{verb} rollouts"))?;
    csrf::check(&user.session, form.csrf.as_deref(), &headers, &uri)?;
    let act = Act::parse(&verb, form.weight.as_deref())?;
    let view = state.control.rollout(&name).await?;
    let back = format!("/rollouts/{}", percent_encode(&view.name));
    if !form.confirmed() {
        let fields = match act {
            Act::SetWeight(w) => vec![("weight", w.to_string())],
            _ => Vec::new(),
        };
        let title = format!("{} {}?", act.label(), view.name);
        return Ok(respond::ok(confirm::page(
            &user,
            &title,
            &act.describe(&view),
            uri.path(),
            &fields,
            &back,
        )));
    }
    let outcome = state
        .control
        .command(&view.name, act.command(), user.actor())
        .await;
    let notice = match outcome {
        Ok(after) => {
            tracing::info!(rollout = %view.name, action = act.verb(), actor = %user.actor(), "dashboard command");
            ok(act.done(&after))
        }
        Err(e) => refused(e)?,
    };
    state.sessions.set_notice(&user.id, notice);
    Ok(respond::see_other(&back))
}

/// `POST /services/{service}/versions/{version}/restore`.
pub(crate) async fn restore(
    State(state): State<DashState>,
    user: SignedIn,
    headers: HeaderMap,
    uri: Uri,
    Path((service, version)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    user.require_operator("restore versions")?;
    csrf::check(&user.session, form.csrf.as_deref(), &headers, &uri)?;
    let sv = ServiceVersions::of(&state, &service).await?;
    let Some(entry) = sv.versions.iter().find(|v| v.snapshot.name == version) else {
        return Err(ControlError::not_found(
            "version",
            &version,
            sv.versions.iter().map(|v| v.snapshot.name.as_str()),
        )
        .into());
    };
    let back = format!("/services/{}", percent_encode(&service));
    if !form.confirmed() {
        let text = confirm::restore_text(
            &service,
            &entry.snapshot.name,
            sv.stable.as_deref(),
            sv.running.as_deref(),
        );
        let title = format!("Restore {version} of {service}?");
        return Ok(respond::ok(confirm::page(
            &user,
            &title,
            &text,
            uri.path(),
            &[],
            &back,
        )));
    }
    let notice = match state
        .control
        .restore_version(&service, &version, user.actor())
        .await
    {
        Ok(done) => {
            tracing::info!(service = %service, version = %version, actor = %user.actor(), "dashboard restore");
            let aborted = done
                .aborted
                .map(|a| format!("; {} was aborted", a.name))
                .unwrap_or_default();
            ok(format!(
                "{service}: {} is the stable version again (was {}){aborted}.",
                done.stable, done.previous
            ))
        }
        Err(e) => refused(e)?,
    };
    state.sessions.set_notice(&user.id, notice);
    Ok(respond::see_other(&back))
}

fn ok(text: String) -> Notice {
    Notice { ok: true, text }
}

/// A refusal the controller explains becomes a notice on the page; anything else fails the
/// request.
fn refused(e: ControlError) -> Result<Notice, PageError> {
    match e {
        ControlError::Refused(_)
        | ControlError::RestoreRefused(_)
        | ControlError::Conflict { .. } => Ok(Notice {
            ok: false,
            text: e.to_string(),
        }),
        other => Err(other.into()),
    }
}
