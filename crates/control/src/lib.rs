//! The control-plane runtime: the one place that reads and writes rollout state. It seeds the
//! store from the configuration, runs the reconcile loop (metrics → analysis verdict →
//! controller → one store transaction → routing snapshot → notifications), answers commands
//! and queries from people, takes in telemetry (edge windows, SDK events) and publishes
//! routing snapshots to edges.
//!
//! The decisions themselves are made by the pure crates (`rollgate-analysis` judges,
//! `rollgate-controller` decides); this crate never re-implements statistics or state-machine
//! rules. External systems sit behind narrow traits with a real implementation and a fake:
//! [`SnapshotPublisher`], [`MetricProvider`], [`Notifier`], [`BreakerSource`], and the store.
//! Invariant: a decision is committed before the snapshot that carries it is published, and a
//! failing publisher or notifier never blocks or undoes a committed decision.
//!
//! With the `testing` feature (for `[dev-dependencies]`), `testing` starts a plane on
//! in-memory fakes and a hand-moved clock for the tests and benches of this and other crates.

mod breakers;
mod commands;
mod commit;
mod compile;
mod error;
mod events;
mod experiments;
mod health;
mod notifier;
mod observe;
mod options;
mod plane;
mod provider;
mod publisher;
mod queries;
mod reload;
mod routing;
mod runtime;
mod seed;
mod series;
#[cfg(feature = "testing")]
pub mod testing;
mod tick;
mod versions;
mod view;
mod webhook;
mod windows;

pub use breakers::{BreakerPhase, BreakerSource, BreakerStatus, OpenTracker, StaticBreakers};
pub use commands::COMMAND_ATTEMPTS;
pub use error::ControlError;
pub use events::{Event, EventError, IngestReport, MAX_UNIT_LEN};
pub use health::{Evidence, health};
pub use notifier::{Notifier, RecordingNotifier, Silent, wanted};
pub use observe::SAMPLES_METRIC;
pub use options::{Clock, ControlOptions, recorder, system_now};
pub use plane::ControlPlane;
pub use provider::{Builtin, MetricProvider, MetricQuery, ProviderError, ScriptedProvider};
pub use publisher::{
    Disabled, InProcess, PublishError, RecordingPublisher, Snapshot, SnapshotPublisher, checksum,
};
pub use seed::CONFIG;
pub use series::{MAX_POINTS, MetricSeries, Point};
pub use tick::CHECKPOINT_MS;
pub use view::{
    DecisionPage, ReloadReport, RestoreOutcome, RolloutView, ServiceView, TickReport,
    VerdictSummary,
};
pub use webhook::{QUEUE_DEPTH, WebhookError, Webhooks};
pub use windows::{InsertReport, Windows};
