//! `rollgate demo`: the whole canary cycle in one process. Two demo backends (a stable and a
//! canary version whose faults are set by flags), the real edge proxy, control plane and API
//! with a ready rollout, a load generator playing realistic users, and a live view of what the
//! control plane sees and decides.
//!
//! The demo never decides anything itself: the backends really fail and really sleep, the
//! users only see what the proxy serves, and the outcome printed at the end is the control
//! plane's own decision log.

mod backend;
mod behaviour;
mod error;
mod events;
mod options;
mod pacer;
mod plan;
mod run;
mod stack;
mod status;
mod summary;
mod traffic;
mod users;
mod view;
mod visit;

pub use backend::Backend;
pub use behaviour::{
    BASE_CHECKOUT_COMPLETION, BASE_ERROR_RATE, Behaviour, CHECKOUT_INTENT, MEDIAN_LATENCY,
    standard_normal,
};
pub use error::DemoError;
pub use events::{BrowserEvent, EventCounts, EventQueue, EventSender};
pub use options::{Delta, DemoOptions, OptionsError, parse_share};
pub use pacer::Pacer;
pub use plan::{
    CANARY, CONVERSION_EXPOSURES, GEO_HEADER, MIN_SAMPLES, PlanInput, ROLLOUT, SERVICE, STABLE,
    UNIT_HEADER, VERSION_HEADER, WEIGHTS, config, config_text,
};
pub use run::{CONFIG_FILE, run};
pub use stack::{STORE_FILE, Stack};
pub use status::{CohortStatus, ConditionStatus, RATE_WINDOW_S, Reader, Status};
pub use summary::Summary;
pub use traffic::{Traffic, TrafficCounts, client};
pub use users::{Device, POOL_SIZE, User, Users};
pub use view::{View, millis, percent};
pub use visit::{CLICK_RATE, MAX_REQUESTS, Visit};
