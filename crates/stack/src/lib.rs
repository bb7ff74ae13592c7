//! Everything `rollgate serve` runs in one process, as a library: the embedded store, the edge
//! proxy, the control plane with its reconcile loop, the telemetry pump between them, and the
//! API with the dashboard on one listener. `rollgate serve` and `rollgate demo` both start
//! exactly this, so the demo shows the product as it runs in production.
//!
//! The parts (`open_store`, `notifier`, `provider`, `app`, `proxy_settings`) are also used on
//! their own by `rollgate control` and the distributed mode.

mod error;
mod parts;
mod stack;

pub use error::StackError;
pub use parts::{
    MAX_EXPOSED_SERIES, STORE_FILE, app, notifier, open_store, provider, proxy_settings,
};
pub use stack::{Stack, StackOptions};
