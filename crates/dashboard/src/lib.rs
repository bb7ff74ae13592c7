//! The web dashboard the control plane serves at `/`, on the same listener as the API:
//! server-rendered HTML (maud), charts drawn as SVG on the server, and one small script for
//! live refresh and confirmation dialogs. Nothing is fetched from the internet and nothing
//! needs building: the stylesheet and the script are compiled into the binary.
//!
//! It keeps no rollout state of its own: every page is a view of the
//! [`rollgate_control::ControlPlane`], and every button goes through
//! [`ControlPlane::command`](rollgate_control::ControlPlane::command) (or the version
//! restore) with the signed-in token's name as the actor, exactly like the API. It never
//! trusts the browser: sessions live on the server (the cookie holds only a random id, never
//! the API token), every POST carries the session's CSRF token and passes an `Origin` check,
//! and the role is checked by the handler whether or not the page showed the button.

mod actions;
mod assets;
mod auth;
mod chart;
mod confirm;
mod cookie;
mod csrf;
mod error;
mod format;
mod options;
mod pages;
mod respond;
mod router;
mod session;
mod state;
mod threshold;

pub use error::PageError;
pub use options::DashboardOptions;
pub use router::router;
pub use session::{SESSION_COOKIE, Session, SessionError, Sessions};
