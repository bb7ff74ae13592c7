//! `rollgate demo`: the whole canary cycle in one process. Two demo backends (a stable and a
//! canary version whose faults are set by flags), the real edge proxy, control plane and API
//! with a ready rollout, a load generator playing realistic users, and a live view of what the
//! control plane sees and decides.
//!
//! The demo never decides anything itself: the backends really fail and really sleep, the
//! users only see what the proxy serves, and the outcome printed at the end is the control
//! plane's own decision log.

mod options;

pub use options::{Delta, DemoOptions, OptionsError};
