//! What every handler can reach: the control plane and the server options.

use std::sync::Arc;

use rollgate_control::ControlPlane;

use crate::options::ServerOptions;

/// The handlers' shared state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The control plane: rollout state, commands, queries, routing, store.
    pub control: ControlPlane,
    /// Limits and keys.
    pub opts: Arc<ServerOptions>,
}
