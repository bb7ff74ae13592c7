//! What each button does, in the words its confirmation uses ("Set the canary weight of
//! shop-v2 from 10% to 25%: 15% more of users move to v2 …"), which buttons a rollout's phase
//! allows (the controller's command table; the controller still has the last word), and the
//! confirmation page shown when the script did not already ask (JavaScript off, or a weight
//! typed in).

use maud::{Markup, html};
use rollgate_control::RolloutView;
use rollgate_controller::{Command, PauseKind};
use rollgate_core::Ppm;
use rollgate_core::model::Phase;

use crate::auth::SignedIn;
use crate::error::PageError;
use crate::pages::layout;

/// A person's action on a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    Pause,
    Resume,
    Promote,
    Abort,
    Retry,
    SetWeight(Ppm),
}

/// The fixed-text actions, in the order their buttons appear.
pub(crate) const BUTTONS: [Act; 5] = [
    Act::Pause,
    Act::Resume,
    Act::Promote,
    Act::Abort,
    Act::Retry,
];

impl Act {
    /// The action of `POST /rollouts/{name}/{verb}`; `weight` is the form's field for
    /// `weight` (`25`, `25%`, `2.5%`, `2500ppm`).
    pub(crate) fn parse(verb: &str, weight: Option<&str>) -> Result<Act, PageError> {
        Ok(match verb {
            "pause" => Act::Pause,
            "resume" => Act::Resume,
            "promote" => Act::Promote,
            "abort" => Act::Abort,
            "retry" => Act::Retry,
            "weight" => Act::SetWeight(parse_weight(weight.unwrap_or_default())?),
            other => {
                return Err(PageError::NotFound(format!(
                    "no action {other:?}: use pause, resume, promote, abort, retry or weight"
                )));
            }
        })
    }

    /// The path segment of the action.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Act::Pause => "pause",
            Act::Resume => "resume",
            Act::Promote => "promote",
            Act::Abort => "abort",
            Act::Retry => "retry",
            Act::SetWeight(_) => "weight",
        }
    }

    /// The button's text.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Act::Pause => "Pause",
            Act::Resume => "Resume",
            Act::Promote => "Promote",
            Act::Abort => "Abort",
            Act::Retry => "Retry",
            Act::SetWeight(_) => "Set weight",
        }
    }

    /// The controller command.
    pub(crate) fn command(self) -> Command {
        match self {
            Act::Pause => Command::Pause,
            Act::Resume => Command::Resume,
            Act::Promote => Command::Promote,
            Act::Abort => Command::Abort,
            Act::Retry => Command::Retry,
            Act::SetWeight(w) => Command::SetWeight(w),
        }
    }

    /// True when the rollout's phase allows the action (so its button is shown).
    pub(crate) fn allowed(self, view: &RolloutView) -> bool {
        let draining = view.rollback.is_some();
        let manual = view.strategy == "manual";
        if view.strategy == "restore" {
            return false;
        }
        match self {
            Act::Pause => view.phase == Phase::Progressing && !draining,
            Act::Resume => {
                view.phase == Phase::Paused
                    && !manual
                    && view
                        .pause
                        .as_ref()
                        .is_none_or(|p| p.kind != PauseKind::Finished)
            }
            Act::Promote => {
                matches!(
                    view.phase,
                    Phase::Pending | Phase::Progressing | Phase::Paused
                ) && !draining
            }
            Act::Abort => matches!(
                view.phase,
                Phase::Pending | Phase::Progressing | Phase::Paused
            ),
            Act::Retry => matches!(view.phase, Phase::RolledBack | Phase::Aborted) && !manual,
            Act::SetWeight(_) => {
                matches!(view.phase, Phase::Progressing | Phase::Paused) && !draining
            }
        }
    }

    /// Exactly what will happen, for the confirmation.
    pub(crate) fn describe(self, view: &RolloutView) -> String {
        let (name, w, stable, canary) = (&view.name, view.weight, &view.stable, &view.canary);
        let users = users(view);
        match self {
            Act::Pause => format!(
                "Pause {name} at {w}: {canary} keeps serving {w} of {users} and the controller stops ramping until someone resumes it. Rollback rules still apply."
            ),
            Act::Resume => format!(
                "Resume {name}: the controller takes over again from {} and sends more of {users} to {canary} only while the analysis passes.",
                view.step.clone().unwrap_or_else(|| w.to_string())
            ),
            Act::Promote => format!(
                "Promote {name}: {canary} becomes the stable version of {} and serves 100% of its users now (up from {w} of {users}). The analysis stops; {stable} can be restored from the versions page.",
                view.service
            ),
            Act::Abort => format!(
                "Abort {name}: every user goes back to {stable} now ({w} of {users} leave {canary}). The rollout ends; retry starts it again from its first step."
            ),
            Act::Retry => format!(
                "Retry {name}: start again from the first step, sending {users} to {canary} again step by step; failure counters are reset."
            ),
            Act::SetWeight(to) => {
                let moved = Ppm::new(to.get().abs_diff(w.get())).unwrap_or(Ppm::ZERO);
                let movement = if to > w {
                    format!("{moved} more of {users} move to {canary}")
                } else if to < w {
                    format!("{moved} of {users} move back to {stable}")
                } else {
                    "no user moves".to_string()
                };
                format!(
                    "Set the canary weight of {name} from {w} to {to}: {movement}. The rollout pauses at {to} until someone resumes it."
                )
            }
        }
    }

    /// What happened, for the notice after the action.
    pub(crate) fn done(self, after: &RolloutView) -> String {
        let (name, phase, w) = (
            &after.name,
            after.phase.as_str().replace('_', " "),
            after.weight,
        );
        match self {
            Act::SetWeight(to) => {
                format!("{name}: canary weight set to {to}; the rollout is {phase}.")
            }
            other => format!(
                "{name}: {} done; the rollout is {phase} at {w}.",
                other.verb()
            ),
        }
    }
}

/// What a restore will do.
pub(crate) fn restore_text(
    service: &str,
    version: &str,
    stable: Option<&str>,
    running: Option<&str>,
) -> String {
    let from = stable.map_or(String::new(), |s| format!(" instead of {s}"));
    let abort = running.map_or(String::new(), |r| {
        format!(" The running rollout {r} is aborted first (its canary was measured against the current stable version).")
    });
    format!(
        "Make {version} the stable version of {service} again: every user of {service} outside a rollout gets {version}{from} now.{abort}"
    )
}

/// The confirmation page of a POST that came without `confirmed=1`.
pub(crate) fn page(
    user: &SignedIn,
    title: &str,
    text: &str,
    action: &str,
    fields: &[(&str, String)],
    back: &str,
) -> Markup {
    layout::page(
        title,
        user,
        None,
        0,
        html! {
            section.confirm {
                h1 { (title) }
                p #confirm-text { (text) }
                form method="post" action=(action) {
                    (layout::csrf_field(user))
                    @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
                    input type="hidden" name="confirmed" value="1";
                    button.danger type="submit" { "Yes, do it" }
                    " " a.cancel href=(back) { "Cancel" }
                }
            }
        },
    )
}

/// The canary's audience in words: everybody, or the rollout's eligible users.
fn users(view: &RolloutView) -> &'static str {
    if view.spec.get("audience").is_some_and(|a| !a.is_null()) {
        "eligible users"
    } else {
        "users"
    }
}

/// `25`, `25%`, `2.5%`, `2500ppm` → a weight.
fn parse_weight(raw: &str) -> Result<Ppm, PageError> {
    let raw = raw.trim();
    let text = if raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !raw.is_empty() {
        format!("{raw}%")
    } else {
        raw.to_string()
    };
    text.parse::<Ppm>().map_err(|e| {
        PageError::BadRequest(format!(
            "weight: {e} (write a percentage such as 25 or 2.5%)"
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn view(phase: Phase, weight: &str) -> RolloutView {
        serde_json::from_value(serde_json::json!({
            "name": "shop-v1.2", "service": "shop", "stable": "v1.1", "canary": "v1.2",
            "phase": phase, "weight": weight, "strategy": "steps", "step": "step 2 of 4 (10%)",
            "phase_since": 0, "time_in_phase_ms": 0, "revision": 1, "created_at": 0,
            "updated_at": 0, "decisions": 1, "spec": {"name": "shop-v1.2"}
        }))
        .unwrap()
    }

    #[test]
    fn set_weight_says_how_many_users_move() {
        let v = view(Phase::Progressing, "10%");
        let up = Act::parse("weight", Some("25")).unwrap();
        assert_eq!(
            up.describe(&v),
            "Set the canary weight of shop-v1.2 from 10% to 25%: 15% more of users move to v1.2. The rollout pauses at 25% until someone resumes it."
        );
        let down = Act::parse("weight", Some("2.5%")).unwrap();
        assert!(
            down.describe(&v)
                .contains("7.5% of users move back to v1.1")
        );
        assert!(Act::parse("weight", Some("150")).is_err());
        assert!(Act::parse("weight", Some("lots")).is_err());
        assert!(Act::parse("weight", None).is_err());
        assert!(Act::parse("explode", None).is_err());
    }

    #[test]
    fn buttons_follow_the_phase() {
        let running = view(Phase::Progressing, "10%");
        let shown: Vec<_> = BUTTONS
            .iter()
            .filter(|a| a.allowed(&running))
            .map(|a| a.verb())
            .collect();
        assert_eq!(shown, ["pause", "promote", "abort"]);
        let paused = view(Phase::Paused, "10%");
        let shown: Vec<_> = BUTTONS
            .iter()
            .filter(|a| a.allowed(&paused))
            .map(|a| a.verb())
            .collect();
        assert_eq!(shown, ["resume", "promote", "abort"]);
        let rolled_back = view(Phase::RolledBack, "0%");
        let shown: Vec<_> = BUTTONS
            .iter()
            .filter(|a| a.allowed(&rolled_back))
            .map(|a| a.verb())
            .collect();
        assert_eq!(shown, ["retry"]);
        assert!(!Act::SetWeight(Ppm::ZERO).allowed(&rolled_back));
        assert!(
            Act::Abort
                .describe(&running)
                .contains("every user goes back to v1.1 now (10% of users leave v1.2)")
        );
    }

    #[test]
    fn restore_names_the_abort() {
        let t = restore_text("shop", "v1.0", Some("v1.1"), Some("shop-v1.2"));
        assert!(t.starts_with("Make v1.0 the stable version of shop again"));
        assert!(t.contains("instead of v1.1") && t.contains("shop-v1.2 is aborted first"));
    }
}
