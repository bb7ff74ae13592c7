//! The `rollgate.toml` configuration file: serde spec types for every section, whole-file
//! validation that reports every problem with its path and a hint, and the runtime values
//! built from a valid file. A file with any error is rejected whole: nothing is half-applied.
//!
//! The routing sections (`[[services]]`, the audience of `[[rollouts]]`, `[[experiments]]`)
//! reuse the spec types of `rollgate-core`, which also validates them.

mod config;
mod control;
mod edge;
mod error;
mod items;
mod net;
mod notification;
mod rollout;

pub use config::{Config, expr_catalog, load, parse};
pub use control::{ControlSection, ControlSettings, PrometheusSpec, ProviderSpec};
pub use edge::{ContextError, EdgeSection, EdgeSettings, TlsSettings};
pub use error::ConfigError;
pub use items::from_json;
pub use notification::{NotificationEvent, NotificationFormat, NotificationSpec};
pub use rollout::{AnalysisConfig, Rollout, RolloutConfig};
