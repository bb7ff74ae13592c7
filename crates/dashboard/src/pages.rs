//! The pages: sign-in, the rollouts list, a rollout (live charts, verdicts, decision log,
//! buttons), services and their versions, experiments. Each page is a handler that asks the
//! control plane and renders HTML; the live parts of a page are also served alone (a
//! fragment) for the page script to refresh.

pub(crate) mod experiments;
pub(crate) mod layout;
pub(crate) mod login;
pub(crate) mod rollout;
pub(crate) mod rollouts;
pub(crate) mod versions;

mod charts;
mod decisions;
mod status;
mod verdict;
