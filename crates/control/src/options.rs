//! What the control plane is started with: the configuration's services, rollouts, metrics and
//! timings, the edge-local routing context, and the pluggable parts (notifier, breaker source,
//! clock).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rollgate_config::{Config, Rollout};
use rollgate_core::model::UnixMillis;
use rollgate_core::{EdgeContext, RoutingSpec};
use rollgate_metrics::{
    Catalog, Recorder, RecorderConfig, RegistryLimits, StoreConfig, WindowConfig,
};

use crate::breakers::BreakerSource;
use crate::notifier::{Notifier, Silent};
use crate::windows::Windows;

/// Everything [`ControlPlane::start`](crate::ControlPlane::start) needs besides the store, the
/// publisher and the metric provider.
#[derive(Clone)]
pub struct ControlOptions {
    /// Metric window and reconcile interval, in milliseconds.
    pub window_ms: u32,
    /// How long closed windows are kept, in milliseconds.
    pub retention_ms: u64,
    /// Every metric conditions and charts can use.
    pub catalog: Arc<Catalog>,
    /// Services and experiments from the configuration (its `rollouts` are ignored: rollouts
    /// come from [`ControlOptions::rollouts`]).
    pub routing: RoutingSpec,
    /// The configuration's rollouts, created in the store when absent.
    pub rollouts: Vec<Rollout>,
    /// The edge-local settings routing tables are built with (geo, overrides), for
    /// [`ControlPlane::routing`](crate::ControlPlane::routing).
    pub edge_context: EdgeContext,
    /// Who is told about decisions.
    pub notifier: Arc<dyn Notifier>,
    /// Where the canary's circuit breaker state comes from (`None`: no breaker observations).
    pub breakers: Option<Arc<dyn BreakerSource>>,
    /// The closed windows (shared with the built-in metric provider).
    pub windows: Windows,
    /// Where SDK events are recorded; the control loop closes it every tick.
    pub events: Arc<Recorder>,
    /// The clock commands and the loop read.
    pub clock: Clock,
}

/// Where "now" comes from: the system clock, or a hand-moved one for simulated-time tests.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// Milliseconds since the Unix epoch from the system clock.
    #[default]
    System,
    /// A clock tests move by hand.
    Manual(Arc<AtomicI64>),
}

impl ControlOptions {
    /// Options from a validated configuration, with no notifier and no breaker source.
    pub fn new(config: &Config, edge_context: EdgeContext) -> ControlOptions {
        let window_ms = u32::try_from(config.control.window.as_millis()).unwrap_or(u32::MAX);
        let retention_ms = config.control.retention.as_millis();
        let catalog = Arc::new(config.catalog.clone());
        ControlOptions {
            window_ms,
            retention_ms,
            routing: RoutingSpec {
                rollouts: Vec::new(),
                ..config.routing.clone()
            },
            rollouts: config.rollouts.clone(),
            edge_context,
            notifier: Arc::new(Silent),
            breakers: None,
            windows: Windows::new(StoreConfig {
                width_ms: window_ms,
                retention_ms,
                ..StoreConfig::default()
            }),
            events: Arc::new(recorder(window_ms, &catalog)),
            catalog,
            clock: Clock::System,
        }
    }

    /// The same options telling `notifier` about decisions.
    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> ControlOptions {
        self.notifier = notifier;
        self
    }

    /// The same options reading breakers from `breakers`.
    pub fn with_breakers(mut self, breakers: Arc<dyn BreakerSource>) -> ControlOptions {
        self.breakers = Some(breakers);
        self
    }

    /// The same options reading time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> ControlOptions {
        self.clock = clock;
        self
    }
}

/// A recorder cutting windows of `window_ms`, accepting the events `catalog`'s metrics use:
/// what the edge of `rollgate serve` records into, and what SDK events are recorded into.
pub fn recorder(window_ms: u32, catalog: &Catalog) -> Recorder {
    Recorder::new(
        RecorderConfig {
            window: WindowConfig {
                width_ms: window_ms,
                ..WindowConfig::default()
            },
            limits: RegistryLimits::default(),
        },
        catalog.events(),
    )
}

impl Clock {
    /// A manual clock at `start`, and the handle that moves it.
    pub fn manual(start: UnixMillis) -> (Clock, Arc<AtomicI64>) {
        let t = Arc::new(AtomicI64::new(start));
        (Clock::Manual(Arc::clone(&t)), t)
    }

    /// The current time.
    pub fn now(&self) -> UnixMillis {
        match self {
            Clock::System => system_now(),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn system_now() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl std::fmt::Debug for ControlOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlOptions")
            .field("window_ms", &self.window_ms)
            .field("retention_ms", &self.retention_ms)
            .field("services", &self.routing.services.len())
            .field("rollouts", &self.rollouts.len())
            .field("breakers", &self.breakers.is_some())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
