//! What every dashboard handler can reach.

use std::sync::Arc;

use rollgate_control::ControlPlane;
use rollgate_server::Authenticator;

use crate::options::DashboardOptions;
use crate::session::Sessions;

/// The handlers' shared state. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct DashState {
    /// Every answer comes from here.
    pub control: ControlPlane,
    /// Token → caller, the same checks as the API.
    pub auth: Authenticator,
    /// Signed-in browsers.
    pub sessions: Arc<Sessions>,
    /// Settings.
    pub opts: Arc<DashboardOptions>,
}
