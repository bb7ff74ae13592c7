//! The Rollgate side of the demo, in this process: exactly what `rollgate serve` runs
//! (`rollgate_stack::Stack`: the embedded store in the run's temporary directory, the edge
//! proxy, the control plane, the telemetry pump, the API and the dashboard), plus an operator
//! token for the person watching.

use std::path::Path;

use rollgate_config::Config;
use rollgate_server::ServerOptions;
use rollgate_stack::StackOptions;
use rollgate_store::Role;

pub use rollgate_stack::STORE_FILE;

use crate::error::DemoError;

/// Rollgate running in this process (its fields — control plane, edge, API and admin
/// addresses — through `Deref`), and the operator token created for this run.
#[derive(Debug)]
pub struct Stack {
    inner: rollgate_stack::Stack,
    /// An operator token for the API and the dashboard, created for this run.
    pub token: String,
}

impl std::ops::Deref for Stack {
    type Target = rollgate_stack::Stack;

    fn deref(&self) -> &rollgate_stack::Stack {
        &self.inner
    }
}

impl Stack {
    /// Opens the store in `data_dir` and starts everything `config` declares, each on the port
    /// its section names (0: any free port). Event ingest needs no key in the demo.
    pub async fn start(config: &Config, data_dir: &Path) -> Result<Stack, DemoError> {
        let opts = StackOptions {
            data_dir: Some(data_dir.to_path_buf()),
            server: Some(ServerOptions::default()),
            ..StackOptions::default()
        };
        let inner = rollgate_stack::Stack::start(config, opts).await?;
        let (_, secret) = inner
            .plane
            .store()
            .create_token("demo-operator", Role::Operator, inner.plane.now())
            .await?;
        Ok(Stack {
            token: secret.expose().to_string(),
            inner,
        })
    }

    /// Stops accepting, drains requests in flight and waits for every part to stop.
    pub async fn stop(self) {
        self.inner.stop().await;
    }
}
