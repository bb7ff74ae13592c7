//! Why a demo run could not start or finish.

use std::io;

use rollgate_config::ConfigError;
use rollgate_control::ControlError;
use rollgate_store::StoreError;

use crate::options::OptionsError;

/// What went wrong; each message says which part failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A flag value the demo cannot run with.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The temporary data directory or a listener could not be set up.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// The generated configuration did not validate (a bug in the demo: please report it).
    #[error("the demo's own configuration is invalid (please report this): {0}")]
    Config(#[from] ConfigError),
    /// The store could not be opened or written.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    /// Rollgate itself (store, edge, control plane, API) could not start.
    #[error("rollgate could not start: {0}")]
    Stack(#[from] rollgate_stack::StackError),
    /// The control plane refused to start or to answer.
    #[error("the control plane failed: {0}")]
    Control(#[from] ControlError),
    /// The users' HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// Ctrl-C before the rollout finished.
    #[error("interrupted before the rollout finished")]
    Interrupted,
    /// The rollout did not finish in time.
    #[error(
        "the rollout did not finish within --timeout {timeout_s}s (it is {phase} at {weight}): \
         give it more time with --timeout, or look at the decisions above"
    )]
    Timeout {
        /// The limit, in seconds.
        timeout_s: u64,
        /// The rollout's phase at the time.
        phase: String,
        /// Its weight at the time.
        weight: String,
    },
}

impl DemoError {
    /// An [`DemoError::Io`] saying what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> DemoError {
        let what = what.into();
        move |source| DemoError::Io { what, source }
    }
}
