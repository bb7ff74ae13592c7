//! The page shell: head (our stylesheet and script only), the navigation with who is signed
//! in and a sign-out button, a one-time notice, and the body.

use maud::{DOCTYPE, Markup, html};

use crate::assets;
use crate::auth::SignedIn;
use crate::session::Notice;

/// A page for a signed-in user. `refresh_ms` is how often the script refreshes the page's
/// live part (an element `#live` with a `data-live` URL), if it has one.
pub(crate) fn page(
    title: &str,
    user: &SignedIn,
    notice: Option<&Notice>,
    refresh_ms: u128,
    body: Markup,
) -> Markup {
    let caller = &user.session.caller;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-refresh-ms=(refresh_ms) {
                header.top {
                    a.brand href="/" { "Rollgate" }
                    nav {
                        a href="/" { "Rollouts" }
                        a href="/services" { "Services" }
                        a href="/experiments" { "Experiments" }
                    }
                    div.who {
                        span.user title=(format!("token {}", caller.token_id)) {
                            (caller.name) " · " span.role { (caller.role) }
                        }
                        form.logout method="post" action="/logout" {
                            (csrf_field(user))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    @if let Some(n) = notice {
                        p class=(if n.ok { "notice ok" } else { "notice refused" }) role="status" { (n.text) }
                    }
                    p #session-ended.notice.refused hidden { "Your session ended. " a href="/login" { "Sign in again" } "." }
                    (body)
                }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub(crate) fn bare(title: &str, message: &str) -> Markup {
    bare_with(
        title,
        html! {
            h1 { (title) }
            p.message { (message) }
            p { a href="/" { "Back to the rollouts" } }
        },
    )
}

/// A page without navigation around `body`.
pub(crate) fn bare_with(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                header.top { a.brand href="/" { "Rollgate" } }
                main { (body) }
            }
        }
    }
}

/// The hidden field every form of the session carries.
pub(crate) fn csrf_field(user: &SignedIn) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.session.csrf); }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="same-origin";
            title { (title) " · Rollgate" }
            link rel="stylesheet" href=(assets::style_url());
            script src=(assets::script_url()) defer {}
        }
    }
}
